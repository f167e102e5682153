package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"convene/models"
)

// sheets is where each layout puts its badges, in points from the page's top
// left: the paper's own geometry, independent of the pdf package.
var sheets = map[string]struct {
	x0, y0, w, h float64
	cols, rows   int
}{
	"single":    {0, 0, 4 * 72, 3 * 72, 1, 1},
	"avery5392": {0.25 * 72, 1 * 72, 4 * 72, 3 * 72, 2, 3}, // US Letter, top margin 1 in, sides 0.25 in
	"a6":        {0, 0, 148.5 * 72 / 25.4, 105 * 72 / 25.4, 2, 2},
}

// TestBadgeSheetsThroughHTTP prints every confirmed attendee's badge through
// the staff endpoint in each layout, scans each badge's QR code on its own
// and checks it carries the ticket of the attendee whose name is printed on
// that badge.
func TestBadgeSheetsThroughHTTP(t *testing.T) {
	requirePDFTools(t)
	e := newEvent(t)
	tokens := e.byToken()
	base := "/staff/conferences/" + e.conf.Slug + "/badges.pdf"
	for i, layout := range []string{"avery5392", "single", "a6"} {
		t.Run(layout, func(t *testing.T) {
			query := "?layout=" + layout
			if i == 0 {
				query += "&unprinted=true" // the first batch prints everything once
			}
			r := e.staff.get(base + query)
			path := pdfFile(t, r)
			if cd := r.Header().Get("Content-Disposition"); !strings.Contains(cd, "badges-binational-"+layout+".pdf") {
				t.Errorf("Content-Disposition %q", cd)
			}
			screenshot(t, path, "badges-"+layout)
			sh := sheets[layout]
			perPage := sh.cols * sh.rows
			if got, want := pdfPages(t, path), (len(e.confirmed)+perPage-1)/perPage; got != want {
				t.Errorf("%d pages, want %d", got, want)
			}
			whole := plainText(runTool(t, "pdftotext", path, "-"))
			for _, reg := range e.confirmed {
				if !strings.Contains(whole, reg.FullName()) {
					t.Errorf("pdftotext does not find %q spelled right", reg.FullName())
				}
			}
			for _, name := range []string{e.pending.FullName(), e.cancelled.FullName()} {
				if strings.Contains(whole, name) {
					t.Errorf("%s has no confirmed registration but got a badge", name)
				}
			}
			seen := map[int64]bool{}
			for i := range len(e.confirmed) {
				slot := i % perPage
				reg := region{page: float64(i/perPage + 1), x: sh.x0 + float64(slot%sh.cols)*sh.w, y: sh.y0 + float64(slot/sh.cols)*sh.h, w: sh.w, h: sh.h}
				codes := regionQR(t, path, reg)
				if len(codes) != 1 {
					t.Errorf("badge %d: %d QR codes %q, want exactly one", i+1, len(codes), codes)
					continue
				}
				owner, ok := tokens[codes[0]]
				if !ok {
					t.Errorf("badge %d: QR code %q is no confirmed attendee's ticket", i+1, codes[0])
					continue
				}
				if seen[owner.ID] {
					t.Errorf("badge %d: %s printed twice", i+1, owner.FullName())
				}
				seen[owner.ID] = true
				text := regionText(t, path, reg)
				if !strings.Contains(text, owner.FullName()) {
					t.Errorf("badge %d carries %s's ticket but reads %q", i+1, owner.FullName(), text)
				}
			}
			if len(seen) != len(e.confirmed) {
				t.Errorf("%d distinct attendees scanned, want %d", len(seen), len(e.confirmed))
			}
		})
	}

	// Every confirmed badge is now marked printed, and each batch was audited once.
	count := e.staff.get("/staff/conferences/" + e.conf.Slug + "/badges?unprinted=true")
	mustContain(t, count.body, "0 badges match.")
	h, err := e.ta.Store.History(t.Context(), "conference", e.conf.ID)
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	for _, a := range h {
		if a.Action == "badges_printed" {
			batches++
			mustContain(t, string(a.Details), fmt.Sprintf(`"count": %d`, len(e.confirmed)))
		}
	}
	if batches != 3 {
		t.Errorf("%d badges_printed audit entries, want one per batch (3)", batches)
	}
}

func TestBadgePrintingFiltersAndMistakes(t *testing.T) {
	e := newEvent(t)
	page := "/staff/conferences/" + e.conf.Slug + "/badges"
	r := e.staff.get(page)
	if r.Code != http.StatusOK {
		t.Fatalf("badge page: %d", r.Code)
	}
	mustContain(t, r.body, fmt.Sprintf("%d badges match.", len(e.confirmed)), "Avery 5392", "Harbor City Academic Workers", `value="observer"`)
	r = e.staff.get(page + "?local=4121&category=observer")
	mustContain(t, r.body, "2 badges match.") // Łukasz and Rosa

	for query, want := range map[string]string{
		"layout=letter":                  "Choose a badge layout",
		"status=confirmed":               "Choose a badge layout", // no layout at all
		"layout=a6&local=9999":           "We do not know this local",
		"layout=a6&category=speaker":     "Choose a registration type of this conference",
		"layout=a6&status=cancelled":     "Badges are not printed for denied or cancelled registrations",
		"layout=a6&status=registered":    "Choose a status",
		"layout=a6&unprinted=perhaps":    "Use true or false",
		"layout=a6&checked_in=sometimes": "Use true or false",
	} {
		r := e.staff.get(page + ".pdf?" + query)
		if r.Code != http.StatusBadRequest || r.Header().Get("Content-Type") == "application/pdf" {
			t.Errorf("%s: %d %s, want 400 and a page", query, r.Code, r.Header().Get("Content-Type"))
		}
		mustContain(t, r.body, want)
	}
	// Spanish readers get the messages in Spanish.
	r = e.staff.get(page + ".pdf?layout=letter&lang=es")
	mustContain(t, r.body, "Elija un formato de gafete")
	e.staff.get(page + "?lang=en")

	// Nothing matches: a clear page, not an empty PDF.
	r = e.staff.get(page + ".pdf?layout=single&status=waitlisted")
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "No badges match these filters") {
		t.Errorf("nothing to print: %d, want 422 and a message", r.Code)
	}
	// Filtered batches print only what matches, and only mark that.
	r = e.staff.get(page + ".pdf?layout=single&status=pending")
	if got := plainText(runToolBody(t, r)); !strings.Contains(got, e.pending.FullName()) || strings.Contains(got, "Cortés") {
		t.Errorf("pending batch reads %q", got)
	}
	if _, err := e.ta.DB.ExecContext(t.Context(), `UPDATE registrations SET checked_in_at = now() WHERE id = $1`, e.confirmed[0].ID); err != nil {
		t.Fatal(err)
	}
	r = e.staff.get(page + ".pdf?layout=single&checked_in=true&unprinted=true")
	if got := plainText(runToolBody(t, r)); !strings.Contains(got, e.confirmed[0].FullName()) || strings.Count(got, "Binational") != 1 {
		t.Errorf("checked-in batch reads %q, want only %s", got, e.confirmed[0].FullName())
	}
	r = e.staff.get(page + "?unprinted=1")
	mustContain(t, r.body, fmt.Sprintf("%d badges match.", len(e.confirmed)-1))
}

// runToolBody is pdftotext of a PDF response.
func runToolBody(t *testing.T, r response) string {
	t.Helper()
	requirePDFTools(t)
	return runTool(t, "pdftotext", pdfFile(t, r), "-")
}

func TestOneBadgeFromItsRegistration(t *testing.T) {
	requirePDFTools(t)
	e := newEvent(t)
	reg := e.confirmed[7] // the longest name
	r := e.staff.get(fmt.Sprintf("/registrations/%d/badge.pdf", reg.ID))
	path := pdfFile(t, r)
	sh := sheets["single"]
	if codes := regionQR(t, path, region{page: 1, w: sh.w, h: sh.h}); !slices.Equal(codes, []string{e.ta.TicketURL(reg)}) {
		t.Errorf("QR codes %q, want %s's ticket", codes, reg.FullName())
	}
	if text := plainText(runTool(t, "pdftotext", path, "-")); !strings.Contains(text, reg.FullName()) || !strings.Contains(text, "Local 7600") {
		t.Errorf("badge reads %q", text)
	}
	after, _ := e.ta.Store.Registration(t.Context(), reg.ID)
	if after.BadgePrintedAt == nil {
		t.Error("a badge printed on its own is not marked printed")
	}
	if r := e.staff.get(fmt.Sprintf("/registrations/%d/badge.pdf?layout=a6", reg.ID)); r.Code != http.StatusOK {
		t.Errorf("reprint on A6: %d", r.Code)
	}
	if r := e.staff.get(fmt.Sprintf("/registrations/%d/badge.pdf?layout=letter", reg.ID)); r.Code != http.StatusBadRequest {
		t.Errorf("unknown layout: %d, want 400", r.Code)
	}
	if r := e.staff.get(fmt.Sprintf("/registrations/%d/badge.pdf", e.cancelled.ID)); r.Code != http.StatusConflict || !strings.Contains(r.body, "gets no badge") {
		t.Errorf("cancelled registration's badge: %d, want 409 with a reason", r.Code)
	}
	if r := e.staff.get("/registrations/99999/badge.pdf"); r.Code != http.StatusNotFound {
		t.Errorf("unknown registration: %d, want 404", r.Code)
	}
}

// TestBadgesTicketsAgendasAuthorization checks each role against each of
// these routes, for records that are and are not theirs.
func TestBadgesTicketsAgendasAuthorization(t *testing.T) {
	e := newEvent(t)
	ta := e.ta
	anon := ta.client()
	member := ta.signedIn("someone.else@example.org", false, false)
	own := fmt.Sprint(e.ownerReg.ID)       // Rosa's, local 4121
	other := fmt.Sprint(e.confirmed[2].ID) // María's, local 7600
	slug := e.conf.Slug
	tests := []struct {
		who  string
		c    *client
		path string
		want int
	}{
		{"anonymous", anon, "/staff/conferences/" + slug + "/badges.pdf?layout=a6", http.StatusSeeOther},
		{"anonymous", anon, "/staff/conferences/" + slug + "/badges", http.StatusSeeOther},
		{"anonymous", anon, "/registrations/" + own + "/badge.pdf", http.StatusSeeOther},
		{"anonymous", anon, "/registrations/" + own + "/ticket", http.StatusSeeOther},
		{"anonymous", anon, "/registrations/" + own + "/agenda.pdf", http.StatusSeeOther},
		{"anonymous", anon, "/conferences/" + slug + "/agenda.pdf", http.StatusOK},
		{"member", member, "/staff/conferences/" + slug + "/badges.pdf?layout=a6", http.StatusForbidden},
		{"member", member, "/staff/conferences/" + slug + "/badges", http.StatusForbidden},
		{"member", member, "/registrations/" + own + "/badge.pdf", http.StatusForbidden},
		{"member", member, "/registrations/" + own + "/ticket", http.StatusForbidden},
		{"member", member, "/registrations/" + own + "/agenda.pdf", http.StatusForbidden},
		{"owner", e.owner, "/registrations/" + own + "/ticket", http.StatusOK},
		{"owner", e.owner, "/registrations/" + own + "/agenda.pdf", http.StatusOK},
		{"owner", e.owner, "/registrations/" + own + "/badge.pdf", http.StatusForbidden},
		{"owner", e.owner, "/registrations/" + other + "/ticket", http.StatusForbidden},
		{"owner", e.owner, "/registrations/" + other + "/agenda.pdf", http.StatusForbidden},
		{"officer of 4121", e.officer, "/registrations/" + own + "/ticket", http.StatusOK},
		{"officer of 4121", e.officer, "/registrations/" + own + "/agenda.pdf", http.StatusOK},
		{"officer of 4121", e.officer, "/registrations/" + other + "/ticket", http.StatusForbidden},
		{"officer of 4121", e.officer, "/registrations/" + own + "/badge.pdf", http.StatusForbidden},
		{"officer of 4121", e.officer, "/staff/conferences/" + slug + "/badges.pdf?layout=a6&local=4121", http.StatusForbidden},
		{"officer of 7600", e.otherOfficer, "/registrations/" + own + "/ticket", http.StatusForbidden},
		{"officer of 7600", e.otherOfficer, "/registrations/" + own + "/agenda.pdf", http.StatusForbidden},
		{"officer of 7600", e.otherOfficer, "/registrations/" + other + "/agenda.pdf", http.StatusOK},
		{"staff", e.staff, "/registrations/" + own + "/ticket", http.StatusOK},
		{"staff", e.staff, "/registrations/" + other + "/agenda.pdf", http.StatusOK},
	}
	for _, tc := range tests {
		r := tc.c.get(tc.path)
		if r.Code != tc.want {
			t.Errorf("%s GET %s: %d, want %d", tc.who, tc.path, r.Code, tc.want)
		}
		if tc.want == http.StatusSeeOther && !strings.HasPrefix(r.Header().Get("Location"), "/login") {
			t.Errorf("%s GET %s: redirected to %q, want the sign-in page", tc.who, tc.path, r.Header().Get("Location"))
		}
		if tc.want == http.StatusForbidden && (strings.Contains(r.body, "%PDF") || strings.Contains(r.body, "<svg")) {
			t.Errorf("%s GET %s: refused, yet the body holds the document", tc.who, tc.path)
		}
	}
	// Refused requests printed nothing.
	n, err := ta.Store.CountBadges(t.Context(), e.conf.ID, models.BadgeFilter{Status: models.RegConfirmed, Unprinted: true})
	if err != nil || n.Matching != len(e.confirmed) {
		t.Errorf("after refused requests %d badges are unprinted, want all %d (%v)", n.Matching, len(e.confirmed), err)
	}
}
