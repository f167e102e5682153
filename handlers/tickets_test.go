package handlers_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"convene/models"
)

var (
	svgTag   = regexp.MustCompile(`<svg[^>]*viewBox="0 0 (\d+) (\d+)"[^>]*>.*?</svg>`)
	svgRun   = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	svgPaths = regexp.MustCompile(`<path[^>]* d="([^"]*)"`)
)

// scanSVG rasterises the page's QR code SVG (its unit-square runs, 8 pixels
// a module) and scans it with zbarimg, as a phone camera would read it.
func scanSVG(t *testing.T, body string) []string {
	t.Helper()
	svg := svgTag.FindStringSubmatch(body)
	if svg == nil {
		t.Fatal("no SVG with a viewBox on the page")
	}
	side, _ := strconv.Atoi(svg[1])
	const scale = 8
	img := image.NewGray(image.Rect(0, 0, side*scale, side*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, d := range svgPaths.FindAllStringSubmatch(svg[0], -1) {
		for _, m := range svgRun.FindAllStringSubmatch(d[1], -1) {
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			for py := y * scale; py < (y+1)*scale; py++ {
				for px := x * scale; px < (x+w)*scale; px++ {
					img.SetGray(px, py, color.Gray{})
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return scanQR(t, path)
}

func TestTicketPage(t *testing.T) {
	requirePDFTools(t)
	e := newEvent(t)
	url := e.ta.TicketURL(e.ownerReg)
	if url != "http://convene.test/t/"+*e.ownerReg.TicketToken || len(*e.ownerReg.TicketToken) != 26 {
		t.Fatalf("ticket URL %q", url)
	}
	page := fmt.Sprintf("/registrations/%d/ticket", e.ownerReg.ID)
	r := e.owner.get(page)
	if r.Code != http.StatusOK {
		t.Fatalf("ticket: %d", r.Code)
	}
	mustContain(t, r.body, "Rosa Delgado-Ibáñez", "Observer", *e.ownerReg.TicketToken, `aria-label="QR code of your ticket"`,
		fmt.Sprintf(`href="/registrations/%d/agenda.pdf"`, e.ownerReg.ID))
	mustNotContain(t, r.body, "<img", "data:image/png")
	if got := scanSVG(t, r.body); !slices.Equal(got, []string{url}) {
		t.Errorf("the ticket's QR code reads %q, want %q", got, url)
	}
	mustContain(t, e.owner.get(page+"?lang=es").body, "Boleto", "Muestre este código")
	for who, c := range map[string]*client{"another member": e.pendingOwner, "an officer of another local": e.otherOfficer} {
		if r := c.get(page); r.Code != http.StatusForbidden || svgTag.MatchString(r.body) {
			t.Errorf("%s sees Rosa's ticket: %d", who, r.Code)
		}
	}
	if r := e.officer.get(page); r.Code != http.StatusOK {
		t.Errorf("an officer of her local: %d, want 200", r.Code)
	}

	// The API gives the same text once confirmed, and none before.
	if j := e.owner.api("GET", fmt.Sprintf("/api/v1/registrations/%d", e.ownerReg.ID), nil).json(t); j["ticket_url"] != url {
		t.Errorf("API ticket_url %v, want %s", j["ticket_url"], url)
	}
	if j := e.pendingOwner.api("GET", fmt.Sprintf("/api/v1/registrations/%d", e.pending.ID), nil).json(t); j["ticket_url"] != nil {
		t.Errorf("pending registration's API ticket_url %v, want null", j["ticket_url"])
	}
	// The member's dashboard and registration page link to the ticket and
	// agenda; only staff see the badge.
	mustContain(t, e.owner.get("/me").body, `href="`+page+`"`, fmt.Sprintf(`href="/registrations/%d/agenda.pdf"`, e.ownerReg.ID))
	regPage := fmt.Sprintf("/registrations/%d", e.ownerReg.ID)
	mustContain(t, e.owner.get(regPage).body, `href="`+page+`"`)
	mustNotContain(t, e.owner.get(regPage).body, "badge.pdf")
	mustContain(t, e.staff.get(regPage).body, `href="`+regPage+`/badge.pdf"`)

	// Not confirmed: no code, and the reason in plain words.
	r = e.pendingOwner.get(fmt.Sprintf("/registrations/%d/ticket", e.pending.ID))
	if r.Code != http.StatusOK {
		t.Fatalf("pending ticket: %d", r.Code)
	}
	mustContain(t, r.body, "waiting for approval")
	mustNotContain(t, r.body, "<svg", *e.pending.TicketToken)

	mustContain(t, e.staff.get(fmt.Sprintf("/registrations/%d/ticket", e.cancelled.ID)).body, "was cancelled, so it has no ticket")

	ctx := t.Context()
	if _, err := e.ta.Store.CreateCategory(ctx, e.conf, models.CategoryInput{Slug: "paid", Name: "Paid delegate", Price: "150", Approver: "staff"}); err != nil {
		t.Fatal(err)
	}
	unpaid, err := e.ta.Store.Register(ctx, e.conf, models.RegistrationInput{Category: "paid", FirstName: "Iñaki", LastName: "Pagador", Email: "unpaid@example.org"}, e.staffA, e.ta.Now())
	if err != nil || unpaid.Status != models.RegAwaitingPayment {
		t.Fatalf("unpaid: %v %s", err, unpaid.Status)
	}
	r = e.staff.get(fmt.Sprintf("/registrations/%d/ticket", unpaid.ID))
	mustContain(t, r.body, "$150 is still due")
	mustNotContain(t, r.body, "<svg")
}
