package e2e

import (
	"context"
	"testing"

	"convene/models"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// confirmedAt registers a confirmed attendee of the PAL conference, as staff
// would at the door: organizing-drive workers are free and staff approve
// them, so a staff registration confirms at once.
func (s *server) confirmedAt(t *testing.T, first, last, email string) models.Registration {
	t.Helper()
	ctx := context.Background()
	u, err := s.Store.UserByEmail(ctx, staffEmail)
	if err != nil {
		t.Fatal(err)
	}
	act, _ := s.Store.ActorFor(ctx, u)
	conf := s.conference(t, palSlug)
	r, err := s.Store.Register(ctx, conf, models.RegistrationInput{Category: "organizing-drive-worker", FirstName: first, LastName: last,
		Email: email, Local: "4121", MemberNumber: "1002"}, act, s.App.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegConfirmed {
		t.Fatalf("%s %s is %s, want confirmed", first, last, r.Status)
	}
	return r
}

func (b *browser) focusedID() string {
	b.t.Helper()
	return eval[string](b, `document.activeElement ? document.activeElement.id : ""`)
}

// TestDeskScansGreenThenAmber types a badge's QR text into the desk the way
// a keyboard-wedge scanner does (the text, then Enter): the first scan shows
// a green "Checked in" at once, without reloading the page; the second an
// amber "Already checked in" with when and by whom. The scan field keeps the
// focus throughout.
func TestDeskScansGreenThenAmber(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ana := srv.confirmedAt(t, "Ana", "Cortés", "ana.cortes@convene.example")
	code := srv.App.TicketURL(ana)
	b := newBrowser(t)
	if status := b.signIn(srv.URL, staffEmail, models.DemoPassword); status != 200 {
		t.Fatalf("sign in: %d", status)
	}
	desk := srv.URL + "/staff/conferences/" + palSlug + "/checkin"
	if status := b.visit(desk); status != 200 {
		t.Fatalf("desk: %d", status)
	}
	b.waitVisible("#scan-code")
	if f := b.focusedID(); f != "scan-code" {
		t.Fatalf("the scan field does not have the focus on arrival (focus on %q)", f)
	}
	mustSee(t, b.text("#count-in"), "0")
	// A marker that a page load would wipe out.
	eval[bool](b, `window.deskMarker = true`)

	b.do(chromedp.SendKeys(chromedp.CSS("#scan-code"), code+kb.Enter))
	b.waitVisible(`#result .tone-ok[data-result="checked_in"]`)
	green := b.text("#result")
	mustSee(t, green, "Checked in", "Ana Cortés", "Local 4121", "Organizing-drive worker", "Print badge", "Undo check-in")
	if !eval[bool](b, `window.deskMarker === true`) || b.location() != desk {
		t.Error("the page reloaded to show the result")
	}
	if f := b.focusedID(); f != "scan-code" {
		t.Errorf("after the scan the focus is on %q, not the scan field", f)
	}
	if v := b.value("#scan-code"); v != "" {
		t.Errorf("the scan field still holds %q", v)
	}
	b.do(chromedp.Poll[chromedp.Void](`document.getElementById("count-in").textContent === "1"`))
	b.screenshot("checkin-green")

	// Clicking on nothing in particular gives the focus back to the field.
	b.do(chromedp.Click(chromedp.CSS("h1")))
	if f := b.focusedID(); f != "scan-code" {
		t.Errorf("after a click on the page the focus is on %q", f)
	}

	b.do(chromedp.SendKeys(chromedp.CSS("#scan-code"), code+kb.Enter))
	b.waitVisible(`#result .tone-warn[data-result="already_checked_in"]`)
	amber := b.text("#result")
	mustSee(t, amber, "Already checked in", "Ana Cortés", "by Priya Natarajan")
	mustNotSee(t, amber, "Not approved")
	if f := b.focusedID(); f != "scan-code" {
		t.Errorf("after the second scan the focus is on %q", f)
	}
	b.screenshot("checkin-amber")

	got, _ := srv.Store.Registration(context.Background(), ana.ID)
	if got.CheckedInAt == nil {
		t.Error("Ana is not checked in in the database")
	}
	h, _ := srv.Store.History(context.Background(), "registration", ana.ID)
	n := 0
	for _, e := range h {
		if e.Action == "checked_in" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d check-ins recorded, want 1", n)
	}
}

// TestDeskSearchChecksInFromAResult finds someone by name as the desk types
// and checks them in from the result; an unknown code turns the result red.
func TestDeskSearchChecksInFromAResult(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.confirmedAt(t, "Luis", "Chávez-Nava", "luis.chavez@convene.example")
	b := newBrowser(t)
	b.signIn(srv.URL, staffEmail, models.DemoPassword)
	b.visit(srv.URL + "/staff/conferences/" + palSlug + "/checkin")

	b.do(chromedp.SendKeys(chromedp.CSS("#scan-code"), "NOT-A-REAL-CODE"+kb.Enter))
	b.waitVisible(`#result .tone-bad[data-result="not_found"]`)
	mustSee(t, b.text("#result"), "Unknown code")

	b.do(chromedp.Click(chromedp.CSS("#search-q")), chromedp.SendKeys(chromedp.CSS("#search-q"), "chavez"))
	b.waitVisible(`#matches .match button`)
	mustSee(t, b.text("#matches"), "Luis Chávez-Nava", "Not checked in yet")
	// On a slow machine the keys may come far enough apart to search twice,
	// and the second answer redraws the list between finding the button and
	// clicking it: the button is found and clicked in one step in the page.
	if !eval[bool](b, `(() => { const btn = document.querySelector("#matches .match button"); if (btn) btn.click(); return !!btn; })()`) {
		t.Fatal("no check-in button in the search results")
	}
	b.waitVisible(`#result .tone-ok[data-result="checked_in"]`)
	mustSee(t, b.text("#result"), "Luis Chávez-Nava")
	if f := b.focusedID(); f != "scan-code" {
		t.Errorf("after checking in from a search result the focus is on %q", f)
	}
	// The list follows: Luis now shows as checked in.
	b.do(chromedp.Poll[chromedp.Void](`document.querySelector("#matches .match").innerText.includes("Already checked in")`))
	b.screenshot("checkin-search")
}
