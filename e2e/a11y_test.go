package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"convene/models"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored from the npm package (see
// testdata/axe/README.md); it is injected into each page it checks.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// violation is one axe-core rule that a page breaks, with the elements that
// break it.
type violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun runs every axe-core rule on the document and keeps the serious and
// critical violations: those that stop someone from using the page.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
	.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({id: v.id, impact: v.impact, help: v.help,
		targets: v.nodes.map(n => n.target.map(String).join(" >>> "))})))`

// axeTabs holds the tabs that load axe-core into each new document.
var axeTabs sync.Map // *browser -> struct{}

// axe checks the page the tab shows now and returns its serious and critical
// violations.
func (b *browser) axe() []violation {
	b.t.Helper()
	// Sending axe-core's 640 kB once per tab, not once per page, keeps the
	// checks fast under the race detector.
	if _, loaded := axeTabs.LoadOrStore(b, struct{}{}); !loaded {
		b.t.Cleanup(func() { axeTabs.Delete(b) })
		now := true
		b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: axeSource, RunImmediately: &now})
			return err
		}))
	}
	if !eval[bool](b, `typeof axe === "object"`) {
		b.t.Fatalf("axe-core is not loaded in %s", b.location())
	}
	vs, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]violation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("running axe-core on %s: %v", b.location(), err)
	}
	return vs
}

// axeViolations opens url and returns the page's serious and critical
// accessibility violations.
func axeViolations(b *browser, url string) []violation {
	b.t.Helper()
	if status := b.visit(url); status != http.StatusOK {
		b.t.Errorf("GET %s answered %d", url, status)
	}
	return b.axe()
}

// formatViolations lists violations for a person to read and fix.
func formatViolations(vs []violation) string {
	var s strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&s, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, t := range v.Targets {
			fmt.Fprintf(&s, "\n      %s", t)
		}
	}
	return s.String()
}

// mustBeAccessible fails the test when the page the tab shows has serious or
// critical violations, or does not declare the language it is written in.
// It also checks two things axe-core leaves to people: each error message is
// tied to its field, so a screen reader reads it there, and each radio button
// and checkbox is drawn beside its label.
func (b *browser) mustBeAccessible(what, lang string) {
	b.t.Helper()
	if got := eval[string](b, `document.documentElement.lang`); got != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", what, got, lang)
	}
	if vs := b.axe(); len(vs) > 0 {
		b.t.Errorf("%s: %d serious or critical accessibility violations:%s", what, len(vs), formatViolations(vs))
	}
	if loose := eval[[]string](b, looseErrors); len(loose) > 0 {
		b.t.Errorf("%s: error messages that no field names in aria-describedby: %q", what, loose)
	}
	if far := eval[[]string](b, farLabels); len(far) > 0 {
		b.t.Errorf("%s: radio buttons or checkboxes drawn away from their labels: %q", what, far)
	}
}

// looseErrors lists the visible error messages beside fields that no field
// or fieldset points to with aria-describedby.
const looseErrors = `[...document.querySelectorAll("form .error")]
	.filter(e => e.offsetParent !== null && !(e.id && document.querySelector("[aria-describedby~='" + CSS.escape(e.id) + "']")))
	.map(e => (e.id ? "#" + e.id + " " : "") + e.innerText.trim())`

// farLabels lists the radio buttons and checkboxes drawn away from their
// label, where a person who zooms in sees one without the other: more than
// 24 px apart, or stretched wide (the browser then draws the button in the
// middle of the box).
const farLabels = `[...document.querySelectorAll("input[type=radio], input[type=checkbox]")]
	.filter(i => i.labels && i.labels.length && i.offsetParent !== null)
	.filter(i => { const a = i.getBoundingClientRect(), l = i.labels[0].getBoundingClientRect();
		return a.width > 48 || Math.max(l.left - a.right, a.left - l.right, l.top - a.bottom, a.top - l.bottom) > 24; })
	.map(i => "#" + i.id + " (" + Math.round(i.getBoundingClientRect().width) + " px wide)")`

// checkPages opens each path in English and in Spanish and checks it with
// axe-core.
func (b *browser) checkPages(base string, paths ...string) {
	b.t.Helper()
	for _, lang := range []string{"en", "es"} {
		for _, p := range paths {
			url := base + p + sep(p) + "lang=" + lang
			if status := b.visit(url); status != http.StatusOK {
				b.t.Errorf("GET %s answered %d", url, status)
				continue
			}
			b.mustBeAccessible("GET "+p+" ("+lang+")", lang)
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// seedRegistration registers someone for the PAL conference straight through
// the models, acting as the user with the given email.
func seedRegistration(t *testing.T, srv *server, actorEmail string, in models.RegistrationInput) models.Registration {
	t.Helper()
	ctx := context.Background()
	r, err := srv.Store.Register(ctx, srv.conference(t, palSlug), in, srv.actor(t, actorEmail), time.Now())
	if err != nil {
		t.Fatalf("registering %s %s: %v", in.FirstName, in.LastName, err)
	}
	return r
}

// actor loads a demo user and what they may act on.
func (s *server) actor(t *testing.T, email string) models.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	a, err := s.Store.ActorFor(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// seedQueue gives the PAL conference a registration pending with local
// 4121's officers and one pending with staff, so the officer's and staff's
// lists have rows.
func seedQueue(t *testing.T, srv *server) {
	t.Helper()
	seedRegistration(t, srv, "luis.chavez@convene.example", models.RegistrationInput{Category: "member-delegate",
		FirstName: "Luis", LastName: "Chávez-Nava", Email: "luis.chavez@convene.example", Local: "4121", MemberNumber: "999999",
		Interpretation: "Spanish", Dietary: "Vegetarian", Accessibility: "Wheelchair access"})
	seedRegistration(t, srv, "marcus.bell@convene.example", models.RegistrationInput{Category: "guest",
		FirstName: "Marcus", LastName: "Bell", Email: "marcus.bell@convene.example", ChildcareCount: 2, ChildcareAges: "4, 7"})
}

// TestAccessibility checks every main page, in English and in Spanish, as
// each kind of person sees it, with axe-core. The people share one server
// and each has a tab of their own.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	seedQueue(t, srv)
	t.Run("public pages", func(t *testing.T) { t.Parallel(); checkPublicPages(t, srv) })
	t.Run("member pages", func(t *testing.T) { t.Parallel(); checkMemberPages(t, srv) })
	t.Run("paying member pages", func(t *testing.T) { t.Parallel(); checkPayingMember(t, srv) })
	t.Run("officer pages", func(t *testing.T) { t.Parallel(); checkOfficerPages(t, srv) })
	t.Run("staff pages", func(t *testing.T) { t.Parallel(); checkStaffPages(t, srv) })
	t.Run("staff reports", func(t *testing.T) { t.Parallel(); checkStaffReports(t, srv) })
	t.Run("admin pages", func(t *testing.T) { t.Parallel(); checkAdminPages(t, srv) })
	t.Run("roster pages", func(t *testing.T) { t.Parallel(); checkRosterPages(t, srv) })
	t.Run("check-in desk with the keyboard alone", func(t *testing.T) { t.Parallel(); checkInWithKeyboard(t, srv) })
}

// skipUntilServed skips a test of pages that another branch is building
// while their URL still answers 404 here.
func skipUntilServed(t *testing.T, srv *server, path string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		t.Skip("not on this branch yet: " + path + " answers 404")
	}
}

func checkPublicPages(t *testing.T, srv *server) {
	b := newBrowser(t)
	b.checkPages(srv.URL, "/", "/conferences/"+palSlug, "/conferences/civil-human-rights-2027", "/login", "/signup", "/password/forgot")

	// A conference with no Spanish title shows its English one on Spanish
	// pages, marked as English so a screen reader pronounces it as such.
	langOf := func(css string) string {
		return eval[string](b, `document.querySelector(`+jsString(css)+`).closest("[lang]").lang`)
	}
	b.visit(srv.URL + "/?lang=es")
	if l := langOf(`a[href="/conferences/civil-human-rights-2027"]`); l != "en" {
		t.Errorf("the English title of the Civil and Human Rights Conference is marked lang=%q on the Spanish catalogue, want en", l)
	}
	if l := langOf(`a[href="/conferences/` + palSlug + `"]`); l != "es" {
		t.Errorf("the Spanish title of the PAL conference is marked lang=%q, want es", l)
	}
	b.visit(srv.URL + "/conferences/civil-human-rights-2027?lang=es")
	if l := langOf("h1"); l != "en" {
		t.Errorf("the English title on the Spanish conference page is marked lang=%q, want en", l)
	}
	if l := langOf(".description"); l != "en" {
		t.Errorf("the English description on the Spanish conference page is marked lang=%q, want en", l)
	}

	// Error states: a page that is not there, a sign-in that fails and a
	// sign-up with nothing filled in.
	for _, lang := range []string{"en", "es"} {
		if status := b.visit(srv.URL + "/conferences/no-such-conference?lang=" + lang); status != http.StatusNotFound {
			t.Errorf("an unknown conference answered %d, want 404", status)
		}
		b.mustBeAccessible("GET /conferences/no-such-conference ("+lang+")", lang)

		b.visit(srv.URL + "/login?lang=" + lang)
		b.typeInto("#f-email", "nobody@convene.example")
		b.typeInto("#f-password", "not the password")
		b.click(`form[action="/login"] button[type=submit]`)
		b.waitVisible("#e-password")
		b.mustBeAccessible("POST /login, wrong password ("+lang+")", lang)

		b.visit(srv.URL + "/signup?lang=" + lang)
		b.click(`form[action="/signup"] button[type=submit]`)
		b.waitVisible(".alert")
		b.mustBeAccessible("POST /signup, empty ("+lang+")", lang)
	}
}

func checkMemberPages(t *testing.T, srv *server) {
	b := signedIn(t, srv, memberEmail)
	register := "/conferences/" + palSlug + "/register"
	b.checkPages(srv.URL, register, "/me", "/account")

	// The form sent back with errors, in both languages.
	for _, lang := range []string{"en", "es"} {
		b.visit(srv.URL + register + "?lang=" + lang)
		b.typeInto("#f-first_name", "")
		b.typeInto("#f-email", "")
		if status := b.click(`form.wide-form button[type=submit]`); status != http.StatusUnprocessableEntity {
			t.Errorf("an empty registration form answered %d, want 422", status)
		}
		b.waitVisible(".alert")
		b.mustBeAccessible("POST "+register+", empty ("+lang+")", lang)
	}

	// Register once, then check the member's dashboard and the registration.
	b.visit(srv.URL + register + "?lang=en")
	b.do(chromedp.Click(chromedp.CSS("#cat-member-delegate")))
	b.typeInto("#f-local", "4121")
	b.typeInto("#f-member_number", "123456")
	b.typeInto("#f-accessibility", "Wheelchair access")
	if status := b.click(`form.wide-form button[type=submit]`); status != http.StatusOK {
		t.Fatalf("registering answered %d", status)
	}
	reg := strings.TrimPrefix(b.location(), srv.URL)
	if !strings.HasPrefix(reg, "/registrations/") {
		t.Fatalf("after registering the browser is at %s", reg)
	}
	b.checkPages(srv.URL, "/me", reg, reg+"/cancel")
	b.screenshotA11y("registration")
}

// checkPayingMember follows Marcus's guest registration from approval to a
// paid ticket: the payment page, the ticket and the receipt.
func checkPayingMember(t *testing.T, srv *server) {
	ctx := context.Background()
	staff := srv.actor(t, staffEmail)
	mine, err := srv.Store.UserRegistrations(ctx, srv.actor(t, "marcus.bell@convene.example").User.ID)
	if err != nil || len(mine) != 1 {
		t.Fatalf("Marcus's registrations: %v, %v", mine, err)
	}
	r, err := srv.Store.Approve(ctx, mine[0].ID, staff)
	if err != nil {
		t.Fatalf("approving Marcus: %v", err)
	}
	reg := fmt.Sprintf("/registrations/%d", r.ID)
	b := signedIn(t, srv, "marcus.bell@convene.example")
	b.checkPages(srv.URL, reg+"/payment")

	pay, err := srv.Store.RecordPayment(ctx, r.ID, models.PaymentInput{Method: models.MethodCash, Reference: "desk 1"}, staff)
	if err != nil {
		t.Fatalf("paying cash: %v", err)
	}
	// What a phone camera opens from the ticket's QR code, too.
	b.checkPages(srv.URL, "/me", reg, reg+"/ticket", fmt.Sprintf("/payments/%d/receipt", pay.ID), "/t/"+deref(r.TicketToken))
	b.visit(srv.URL + reg + "/ticket?lang=en")
	b.screenshotA11y("ticket")
}

func checkOfficerPages(t *testing.T, srv *server) {
	b := signedIn(t, srv, "rosa.delgado@convene.example")
	b.checkPages(srv.URL, "/officer", "/officer/approvals", "/officer/locals/4121/delegation", "/officer/locals/4121/statement")
	b.visit(srv.URL + "/officer/approvals?lang=en")
	b.clickLink("Luis Chávez-Nava")
	b.mustBeAccessible("a registration, as its officer (en)", "en")
	b.screenshotA11y("officer-registration")
}

func checkStaffPages(t *testing.T, srv *server) {
	b := signedIn(t, srv, staffEmail)
	conf := "/staff/conferences/" + palSlug
	b.checkPages(srv.URL, "/staff", conf, conf+"/edit", "/staff/tokens")

	// The edit form sent back with an error; nothing is saved.
	for _, lang := range []string{"en", "es"} {
		b.visit(srv.URL + conf + "/edit?lang=" + lang)
		b.typeInto("#f-title", "")
		b.click(`form.wide-form button[type=submit]`)
		b.waitVisible(".alert")
		b.mustBeAccessible("POST "+conf+"/edit, no title ("+lang+")", lang)
	}
}

func checkStaffReports(t *testing.T, srv *server) {
	b := signedIn(t, srv, staffEmail)
	conf := "/staff/conferences/" + palSlug
	b.checkPages(srv.URL, conf+"/dashboard", conf+"/waitlist", conf+"/badges", conf+"/payments", conf+"/categories/new", conf+"/sessions/new")
	b.visit(srv.URL + conf + "/dashboard?lang=en")
	b.screenshotA11y("staff-dashboard")
}

func checkAdminPages(t *testing.T, srv *server) {
	skipUntilServed(t, srv, "/admin")
	b := signedIn(t, srv, "admin@convene.example")
	b.checkPages(srv.URL, "/admin", "/admin/locals/4121")
}

func checkRosterPages(t *testing.T, srv *server) {
	skipUntilServed(t, srv, "/officer/locals/4121/roster")
	b := signedIn(t, srv, "rosa.delgado@convene.example")
	b.checkPages(srv.URL, "/officer/locals/4121/roster")
}

// signedIn opens a tab signed in as the demo user with the given email.
func signedIn(t *testing.T, srv *server, email string) *browser {
	t.Helper()
	b := newBrowser(t)
	if status := b.signIn(srv.URL, email, models.DemoPassword); status != http.StatusOK {
		t.Fatalf("signing in as %s answered %d", email, status)
	}
	return b
}

// TestAccessibilityCheckFails shows that the check finds what it must: a
// page made for the test, never served by the app, breaks rules on purpose.
func TestAccessibilityCheckFails(t *testing.T) {
	t.Parallel()
	broken := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(broken.Close)
	b := newBrowser(t)

	vs := axeViolations(b, broken.URL+"/broken.html")
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	for _, want := range []struct{ id, target string }{
		{"image-alt", "#no-alt"},
		{"label", "#no-label"},
		{"color-contrast", "#faint"},
		{"button-name", "#no-name"},
		{"html-has-lang", "html"},
	} {
		i := slices.Index(ids, want.id)
		if i < 0 {
			t.Errorf("axe-core did not report %s on the broken page; it reported:%s", want.id, formatViolations(vs))
			continue
		}
		if !slices.Contains(vs[i].Targets, want.target) {
			t.Errorf("%s: failing elements %q, want %s among them", want.id, vs[i].Targets, want.target)
		}
	}
	// What a person reads when the check fails.
	report := formatViolations(vs)
	for _, want := range []string{"image-alt (critical): Images must have alternative text", "#no-alt"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not say %q:%s", want, report)
		}
	}
}

// screenshotA11y saves the whole page as screenshots/a11y/<name>.png.
func (b *browser) screenshotA11y(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(screenshotDir, "a11y")
	path := filepath.Join(dir, name+".png")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: e2e/%s", path)
}
