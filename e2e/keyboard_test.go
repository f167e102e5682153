package e2e

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"convene/models"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focus describes the element that has the keyboard focus.
type focus struct {
	What    string `json:"what"`    // tag#id, for messages
	Matches bool   `json:"matches"` // whether it matches the selector asked about
	Shown   bool   `json:"shown"`   // whether it draws an outline or a box shadow
	// Contrast is the best contrast ratio of the focus indicator's colours
	// against the background behind the element.
	Contrast float64 `json:"contrast"`
}

// focusJS describes document.activeElement; the indicator is its outline and
// box shadows, measured against the nearest ancestor's opaque background.
const focusJS = `((sel) => {
	const e = document.activeElement;
	if (!e || e === document.body) return {what: "body", matches: false, shown: false, contrast: 0};
	const colours = s => (s.match(/rgba?\([^)]*\)/g) || []).map(c => c.match(/[\d.]+/g).map(Number)).filter(c => c.length < 4 || c[3] > 0);
	const lum = c => { const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
	const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
	let bg = [255, 255, 255];
	for (let n = e.parentElement; n; n = n.parentElement) {
		const c = colours(getComputedStyle(n).backgroundColor)[0];
		if (c) { bg = c; break; }
	}
	const cs = getComputedStyle(e);
	const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0 ? colours(cs.outlineColor) : [])
		.concat(cs.boxShadow !== "none" ? colours(cs.boxShadow) : []);
	return {what: e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.name ? "[name=" + e.name + "]" : "") + (e.id || e.name ? "" : " " + JSON.stringify(e.innerText.trim().slice(0, 40))),
		matches: sel !== "" && e.matches(sel), shown: ring.length > 0, contrast: Math.max(0, ...ring.map(c => ratio(c, bg)))};
})`

// focused describes the focused element; matches tells whether it matches css.
func (b *browser) focused(css string) focus {
	b.t.Helper()
	return eval[focus](b, focusJS+`(`+jsString(css)+`)`)
}

// mustShowFocus fails the test when the focused element draws no focus
// indicator, or one too faint to see (WCAG 2.4.7 and 1.4.11: 3:1).
func (b *browser) mustShowFocus(f focus) {
	b.t.Helper()
	if !f.Shown {
		b.t.Errorf("%s has the focus but shows no outline or box shadow", f.What)
	} else if f.Contrast < 3 {
		b.t.Errorf("%s has the focus, but its indicator's contrast with the background is %.2f:1, below 3:1", f.What, f.Contrast)
	}
}

// press sends keys to the page as a person types them.
func (b *browser) press(keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(keys, opts...))
}

// tabTo presses Tab until the element that matches css has the focus (no
// key at all when it has it already), checking at each stop that the focus
// can be seen.
func (b *browser) tabTo(css string) {
	b.t.Helper()
	var path []string
	for range 60 {
		if f := b.focused(css); f.Matches {
			return
		}
		b.press(kb.Tab)
		f := b.focused(css)
		if f.What != "body" { // past the last element the focus leaves the page
			b.mustShowFocus(f)
		}
		path = append(path, f.What)
	}
	b.t.Fatalf("Tab never reached %s; it went through %s", css, strings.Join(path, ", "))
}

// shiftTab presses Shift+Tab and fails unless the focus lands on css.
func (b *browser) shiftTab(css string) {
	b.t.Helper()
	b.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	f := b.focused(css)
	b.mustShowFocus(f)
	if !f.Matches {
		b.t.Fatalf("Shift+Tab went to %s, want %s", f.What, css)
	}
}

// retype selects what the focused field holds and types s over it.
func (b *browser) retype(s string) {
	b.t.Helper()
	b.press("a", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	b.press(s)
}

// enter presses Enter and waits for the page it leads to; it returns that
// page's status.
func (b *browser) enter() int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.Ctx, chromedp.KeyEvent(kb.Enter))
	return b.status(resp, err, "pressing Enter on "+b.focused("").What)
}

func TestRegistrationFormWithKeyboardAlone(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := signedIn(t, srv, memberEmail)
	b.visit(srv.URL + "/conferences/" + palSlug + "?lang=en")

	// The first Tab reaches the skip link, which leads past the navigation.
	b.press(kb.Tab)
	if f := b.focused("a.skip"); !f.Matches {
		t.Fatalf("the first Tab went to %s, not the skip link", f.What)
	} else {
		b.mustShowFocus(f)
	}
	if left := eval[float64](b, `document.activeElement.getBoundingClientRect().left`); left < 0 {
		t.Errorf("the focused skip link is off screen (left %.0f px)", left)
	}
	b.press(kb.Enter)
	b.press(kb.Tab)
	if f := b.focused("main *"); !f.Matches {
		t.Errorf("after the skip link, Tab went to %s, not into the main content", f.What)
	} else {
		b.mustShowFocus(f)
	}
	b.tabTo(`a[href="/conferences/` + palSlug + `/register"]`)
	if status := b.enter(); status != http.StatusOK {
		t.Fatalf("the registration form answered %d", status)
	}

	// The registration type: Tab into the group, Space chooses.
	b.tabTo(`input[name=category]`)
	b.press(" ")
	if !eval[bool](b, `document.activeElement.checked`) {
		t.Fatalf("Space did not choose %s", b.focused("").What)
	}
	chosen := b.value(`input[name=category]:checked`)

	b.tabTo("#f-first_name")
	b.retype("Ana María")
	b.tabTo("#f-phone")
	b.press("+1 206 555 0142")
	b.tabTo("#f-local")
	b.press("4121")
	b.tabTo("#f-member_number")
	b.press("123456")
	// A workshop: Space ticks the box; Shift+Tab goes back a field.
	b.tabTo(`input[name=sessions]`)
	b.press(" ")
	workshop := eval[string](b, `document.activeElement.labels[0].firstChild.textContent.trim()`)
	if !eval[bool](b, `document.activeElement.checked`) {
		t.Fatalf("Space did not tick the workshop %q", workshop)
	}
	b.shiftTab("#f-member_number")
	b.press(kb.End)
	b.press("7") // member number 1234567
	b.tabTo("#f-accessibility")
	b.press("Wheelchair access")
	b.tabTo("#f-interpretation")
	b.press("Spanish")
	b.tabTo("#f-childcare_count")
	b.retype("1")
	b.tabTo("#f-childcare_ages")
	b.press("6")
	b.tabTo("#f-dietary")
	b.press("Vegetarian")
	b.tabTo("#f-emergency_name")
	b.press("Rosa Cortés")
	b.tabTo("#f-emergency_phone")
	b.press("+1 206 555 0199")
	b.tabTo(`form.wide-form button[type=submit]`)
	b.screenshotA11y("keyboard-register-submit")
	if status := b.enter(); status != http.StatusOK {
		t.Fatalf("submitting the form answered %d:\n%s", status, indent(b.text("main")))
	}

	m := regexp.MustCompile(`/registrations/(\d+)$`).FindStringSubmatch(b.location())
	if m == nil {
		t.Fatalf("after submitting, the browser is at %s, not a registration page:\n%s", b.location(), indent(b.text("main")))
	}
	mustSee(t, b.text("h1"), "Ana María Cortés")
	mustSee(t, b.text("main"), workshop)
	// What was typed is what was stored.
	id, _ := strconv.ParseInt(m[1], 10, 64)
	r, err := srv.Store.Registration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{r.CategorySlug, r.FirstName, r.Phone, deref(r.LocalNumber), r.MemberNumber, r.Accessibility, r.Interpretation,
		strconv.Itoa(r.ChildcareCount), r.ChildcareAges, r.Dietary, r.EmergencyName, r.EmergencyPhone}
	want := []string{chosen, "Ana María", "+1 206 555 0142", "4121", "1234567", "Wheelchair access", "Spanish",
		"1", "6", "Vegetarian", "Rosa Cortés", "+1 206 555 0199"}
	if !slices.Equal(got, want) {
		t.Errorf("stored registration:\n got %q\nwant %q", got, want)
	}
	b.screenshotA11y("keyboard-registered")
}

// checkInWithKeyboard: the scan field has the focus when the desk opens;
// typing a code and Enter shows the result, and the focus goes back to the
// scan field for the next badge. Each kind of result (green, amber, red) is
// checked with axe-core, since each has its own colours.
func checkInWithKeyboard(t *testing.T, srv *server) {
	desk := "/staff/conferences/" + palSlug + "/checkin"
	skipUntilServed(t, srv, desk)
	token := confirmedTicket(t, srv)
	b := signedIn(t, srv, staffEmail)
	b.checkPages(srv.URL, desk)
	if status := b.visit(srv.URL + desk + "?lang=en"); status != http.StatusOK {
		t.Fatalf("the desk answered %d", status)
	}
	if f := b.focused(scanField); !f.Matches {
		t.Fatalf("when the desk opens the focus is on %s, not the scan field", f.What)
	} else {
		b.mustShowFocus(f)
	}

	mustSee(t, b.scan(token), "Checked in", "Jordan Reyes")
	if got := srv.registrationByToken(t, token); got.CheckedInAt == nil {
		t.Error("the registration is not checked in")
	}
	b.screenshotA11y("keyboard-checkin")
	b.mustBeAccessible("the check-in desk after a check-in", "en")

	mustSee(t, b.scan(token), "Already checked in", "Jordan Reyes")
	b.mustBeAccessible("the check-in desk after a second scan", "en")

	b.scan("NOT-A-TICKET")
	b.screenshotA11y("keyboard-checkin-unknown")
	b.mustBeAccessible("the check-in desk after an unknown code", "en")
}

// scanField is the check-in desk's scan field.
const scanField = `input[name=code]:not([type=hidden])`

// scan types code into the focused scan field and presses Enter, as a
// keyboard-wedge scanner does; it waits for the result, which must be
// announced in a live region, and for the focus to be back in the scan field.
// It returns the result's text.
func (b *browser) scan(code string) string {
	b.t.Helper()
	const live = `[...document.querySelectorAll("[role=status], [role=alert], [aria-live]")].map(e => e.innerText.trim()).join("\n")`
	before := eval[string](b, live)
	b.press(code)
	b.press(kb.Enter)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The desk may answer in place or with a new page.
		after := eval[string](b, live)
		f := b.focused(scanField)
		if after != before && after != "" && f.Matches {
			b.mustShowFocus(f)
			return after
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("after scanning %s: the focus is on %s and the live region says %q:\n%s", code, f.What, after, indent(b.text("main")))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// confirmedTicket has staff register a free organizing-drive worker for the
// PAL conference and approve them; it returns the confirmed ticket's token.
func confirmedTicket(t *testing.T, srv *server) string {
	t.Helper()
	r := seedRegistration(t, srv, staffEmail, models.RegistrationInput{Category: "organizing-drive-worker",
		FirstName: "Jordan", LastName: "Reyes", Email: "jordan.reyes@convene.example"})
	if r.Status == models.RegPending {
		var err error
		if r, err = srv.Store.Approve(context.Background(), r.ID, srv.actor(t, staffEmail)); err != nil {
			t.Fatalf("approving: %v", err)
		}
	}
	if r.Status != models.RegConfirmed || r.TicketToken == nil {
		t.Fatalf("the seeded registration is %s with ticket %v, want confirmed with a ticket", r.Status, r.TicketToken)
	}
	return *r.TicketToken
}

// registrationByToken reads a registration back by its ID after a scan.
func (s *server) registrationByToken(t *testing.T, token string) models.Registration {
	t.Helper()
	var id int64
	if err := s.App.DB.Get(&id, `SELECT id FROM registrations WHERE ticket_token = $1`, token); err != nil {
		t.Fatalf("registration with ticket %s: %v", token, err)
	}
	r, err := s.Store.Registration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
