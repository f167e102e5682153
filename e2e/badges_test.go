package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"convene/models"

	"github.com/chromedp/chromedp"
)

// TestTicketScansFromThePhoneScreen confirms Ana, opens her ticket from her
// dashboard on a phone, and scans the QR code off the screenshot of the page
// with zbarimg, as the desk's scanner would read it off her screen. Staff then
// open the badge printing page, which counts her badge.
func TestTicketScansFromThePhoneScreen(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Fatal("zbarimg not found: run scripts/ensure-pdf-tools.sh (installs zbar-tools), or `make test`")
	}
	srv := newServer(t)
	ctx := context.Background()
	conf, err := srv.Store.ConferenceBySlug(ctx, palSlug, false)
	if err != nil {
		t.Fatal(err)
	}
	staffUser, err := srv.Store.UserByEmail(ctx, staffEmail)
	if err != nil {
		t.Fatal(err)
	}
	staff, _ := srv.Store.ActorFor(ctx, staffUser)
	// Registered by staff as an organizing-drive worker (free): confirmed at once.
	reg, err := srv.Store.Register(ctx, conf, models.RegistrationInput{Category: "organizing-drive-worker", FirstName: "Ana",
		LastName: "Cortés", Email: memberEmail}, staff, srv.App.Now())
	if err != nil || reg.Status != models.RegConfirmed {
		t.Fatalf("registering Ana: %v (%s)", err, reg.Status)
	}

	ana := newPhoneBrowser(t)
	if status := ana.signIn(srv.URL, memberEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as Ana answered %d", status)
	}
	ana.visit(srv.URL + "/me")
	if status := ana.click(`a[href$="/ticket"]`); status != 200 {
		t.Fatalf("the ticket page answered %d", status)
	}
	mustSee(t, ana.text("main"), "Ana Cortés", "Show this code at the check-in desk")
	ana.mustNotScrollSideways()
	width := eval[float64](ana, `document.querySelector(".ticket-code svg").getBoundingClientRect().width`)
	if width < 200 {
		t.Errorf("the QR code is %.0f CSS pixels wide on a phone; want at least 200 to scan off the screen", width)
	}
	ana.screenshot("ticket-phone")
	png, err := chromedp.Run(ana.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ticket.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", path)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 4 {
			t.Fatalf("zbarimg: %v %s", err, stderr.String())
		}
	}
	if got, want := strings.TrimSpace(out.String()), srv.App.TicketURL(reg); got != want {
		t.Errorf("the screen's QR code reads %q, want %q", got, want)
	}

	desk := newBrowser(t)
	if status := desk.signIn(srv.URL, staffEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as staff answered %d", status)
	}
	desk.visit(srv.URL + "/staff/conferences/" + palSlug)
	if status := desk.clickLink("Print badges"); status != 200 {
		t.Fatalf("the badge page answered %d", status)
	}
	mustSee(t, desk.text("main"), "1 badge matches.", "Avery 5392")
	desk.screenshot("badges-page")
}
