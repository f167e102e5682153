package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"convene/handlers"
	"convene/models"
)

const (
	palSlug     = "region-6-pal-conference"
	palTitle    = "Region 6 Political Action & Leadership Conference"
	palTitleES  = "Conferencia de Acción Política y Liderazgo de la Región 6"
	staffEmail  = "staff@convene.example"
	memberEmail = "ana.cortes@convene.example"
)

// conference reads a demo conference from the database, to compute the dates
// a page must show.
func (s *server) conference(t *testing.T, slug string) models.Conference {
	t.Helper()
	c, err := s.Store.ConferenceBySlug(context.Background(), slug, true)
	if err != nil {
		t.Fatalf("conference %s: %v", slug, err)
	}
	return c
}

// cards is the visible text of each conference card in the section that css
// selects.
func (b *browser) cards(css string) []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll(`+jsString(css+" li.card")+`)].map(li => li.innerText)`)
}

// card is the visible text of the card whose text holds title, or "".
func card(cards []string, title string) string {
	for _, c := range cards {
		if strings.Contains(c, title) {
			return c
		}
	}
	return ""
}

func TestCatalogueShowsUpcomingAndPastConferences(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBrowser(t)

	if status := b.visit(srv.URL + "/"); status != 200 {
		t.Fatalf("GET / answered %d", status)
	}
	if w := eval[int](b, `window.innerWidth`); w != 1280 {
		t.Errorf("viewport is %d px wide, want 1280", w)
	}
	mustSee(t, b.text("h1"), "Conferences")

	upcoming := b.cards(`section[aria-labelledby="upcoming"]`)
	pal := srv.conference(t, palSlug)
	palCard := card(upcoming, palTitle)
	if palCard == "" {
		t.Fatalf("no upcoming card for %q; upcoming cards: %q", palTitle, upcoming)
	}
	mustSee(t, palCard,
		handlers.FormatDateRange(pal.StartsOn, pal.EndsOn, "en"),
		"Pico Rivera, CA",
		"Open until "+handlers.FormatInstant(pal.RegistrationClosesAt, pal.Location(), "en"))

	chr := srv.conference(t, "civil-human-rights-2027")
	mustSee(t, card(upcoming, "Civil and Human Rights Conference"),
		"Civil and Human Rights Conference", "Baltimore, MD", "Hybrid",
		handlers.FormatDateRange(chr.StartsOn, chr.EndsOn, "en"))

	// Registration for the binational convening opens in the future.
	bin := srv.conference(t, "binational-convening-2027")
	mustSee(t, card(upcoming, "Binational Workers' Convening"),
		"Binational Workers' Convening", "Ciudad de México",
		"Registration opens "+handlers.FormatInstant(bin.RegistrationOpensAt, bin.Location(), "en"))

	mustSee(t, card(upcoming, "Members' Virtual Town Hall"), "Virtual")
	if c := card(upcoming, "Contract Campaign Kickoff"); c != "" {
		t.Errorf("a past conference is listed as upcoming: %q", c)
	}

	mustSee(t, b.text(`section.past h2`), "Past conferences")
	past := b.cards(`section.past`)
	mustSee(t, card(past, "Contract Campaign Kickoff"), "Contract Campaign Kickoff", "Riverside, CA", "Registration closed")
	if len(past) != 1 {
		t.Errorf("past conferences: got %q, want only the Contract Campaign Kickoff", past)
	}

	b.screenshot("catalogue")
}

func TestCatalogueFitsAPhone(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newPhoneBrowser(t)

	b.visit(srv.URL + "/")
	if w := eval[int](b, `window.innerWidth`); w != 390 {
		t.Errorf("viewport is %d px wide, want 390", w)
	}
	mustSee(t, b.text("main"), palTitle, "Civil and Human Rights Conference", "Registration opens", "Past conferences")
	b.mustNotScrollSideways()
	b.screenshot("catalogue-phone")

	b.visit(srv.URL + "/conferences/" + palSlug)
	mustSee(t, b.text("main"), palTitle, "Member delegate", "$150", "Opening plenary")
	b.mustNotScrollSideways()
	b.screenshot("conference-phone")
}

// mustNotScrollSideways fails the test when the page is wider than the
// viewport, naming the first elements that stick out.
func (b *browser) mustNotScrollSideways() {
	b.t.Helper()
	scroll := eval[int](b, `document.documentElement.scrollWidth`)
	inner := eval[int](b, `window.innerWidth`)
	if scroll > inner {
		b.t.Errorf("%s scrolls sideways: scrollWidth %d > innerWidth %d; too wide: %s", b.location(), scroll, inner,
			eval[string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(0, 5).map(e => e.tagName + "." + e.className).join(", ")`))
	}
}

func TestConferencePageInEnglishAndSpanish(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBrowser(t)
	pal := srv.conference(t, palSlug)
	loc := pal.Location()

	if status := b.visit(srv.URL + "/conferences/" + palSlug); status != 200 {
		t.Fatalf("conference page answered %d", status)
	}
	if h1 := b.text("h1"); h1 != palTitle {
		t.Errorf("title: got %q, want %q", h1, palTitle)
	}
	facts := b.text("dl.facts")
	mustSee(t, facts,
		handlers.FormatDateRange(pal.StartsOn, pal.EndsOn, "en"),
		"times in America/Los_Angeles",
		"Pico Rivera Sports Arena Conference Hall, Pico Rivera, CA",
		"Open until "+handlers.FormatInstant(pal.RegistrationClosesAt, loc, "en"),
		"Seats left")
	// Every deadline names its zone: PST in winter, PDT in summer.
	if !regexp.MustCompile(`Open until \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M P[SD]T`).MatchString(facts) {
		t.Errorf("the registration window does not read like \"Open until Dec 27, 2026, 11:59 PM PST\":\n%s", indent(facts))
	}

	cats, err := srv.Store.Categories(context.Background(), pal.ID)
	if err != nil {
		t.Fatal(err)
	}
	var member models.Category
	for _, c := range cats {
		if c.Slug == "member-delegate" {
			member = c
		}
	}
	if member.EarlyUntil == nil {
		t.Fatal("the demo's member delegate category has no early-bird date")
	}
	rows := eval[[]string](b, `[...document.querySelectorAll("table.prices tbody tr")].map(tr => tr.innerText)`)
	mustSee(t, card(rows, "Member delegate"), "Member delegate", "$150",
		"Early bird: $125 until "+handlers.FormatInstant(*member.EarlyUntil, loc, "en"))
	mustSee(t, card(rows, "Retiree"), "$75")
	mustSee(t, card(rows, "Organizing-drive worker"), "Free")

	days := eval[[]string](b, `[...document.querySelectorAll("h3.day")].map(h => h.innerText)`)
	want := []string{
		handlers.FormatDay(pal.StartsOn, "en"),
		handlers.FormatDay(pal.StartsOn.AddDate(0, 0, 1), "en"),
		handlers.FormatDay(pal.EndsOn, "en"),
	}
	if strings.Join(days, "|") != strings.Join(want, "|") {
		t.Errorf("agenda days: got %q, want %q", days, want)
	}
	sessions := eval[[]string](b, `[...document.querySelectorAll("li.session")].map(li => li.innerText)`)
	mustSee(t, card(sessions, "Opening plenary"), "1:30 PM – 3:00 PM",
		"Opening plenary: Power at the ballot box and the bargaining table", "Main Hall", "Regional Director Teresa Okafor")
	mustSee(t, card(sessions, "Building a stewards' council"), "Room B", "Mei-Lin Harper", "places left")
	b.screenshot("conference")

	// Switch to Spanish with the link in the header.
	if status := b.clickLink("Español"); status != 200 {
		t.Fatalf("the Spanish page answered %d", status)
	}
	if h1 := b.text("h1"); h1 != palTitleES {
		t.Errorf("Spanish title: got %q, want %q", h1, palTitleES)
	}
	main := b.text("main")
	mustSee(t, main, "Programa", "Cuándo", "Dónde", "horarios en America/Los_Angeles",
		"Abierta hasta el "+handlers.FormatInstant(pal.RegistrationClosesAt, loc, "es"),
		"Delegado/a miembro", "Plenaria de apertura", handlers.FormatDay(pal.StartsOn, "es"))
	mustNotSee(t, main, "Agenda", "Open until", "Member delegate", "Early bird")
	if lang := eval[string](b, `document.documentElement.lang`); lang != "es" {
		t.Errorf("<html lang=%q>, want es", lang)
	}
	b.screenshot("conference-es")

	// The choice is remembered on the next page.
	b.visit(srv.URL + "/")
	mustSee(t, b.text("h1"), "Conferencias")
	mustSee(t, b.text("main"), palTitleES, "Conferencias pasadas", "Las inscripciones abren el")
	mustSee(t, b.text("header"), "Iniciar sesión")
	b.screenshot("catalogue-es")
}

func TestSignInShowsWrongPasswordThenSignsIn(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBrowser(t)

	if status := b.signIn(srv.URL, staffEmail, "not the password"); status != 401 {
		t.Errorf("a wrong password answered %d, want 401", status)
	}
	b.waitVisible("#e-password")
	if msg := b.text("#e-password"); msg != "The email or password is not right." {
		t.Errorf("error beside the password: got %q", msg)
	}
	mustSee(t, b.text("main"), "The email or password is not right.")
	if v := b.value("#f-email"); v != staffEmail {
		t.Errorf("the email field lost what was typed: %q", v)
	}
	if v := b.value("#f-password"); v != "" {
		t.Errorf("the password field was sent back filled in")
	}
	if inv := eval[string](b, `document.querySelector("#f-password").getAttribute("aria-invalid")`); inv != "true" {
		t.Errorf("the password field is not marked aria-invalid")
	}
	mustSee(t, b.text("header"), "Sign in")
	b.screenshot("sign-in")

	// Fix the password on the same form.
	b.typeInto("#f-password", models.DemoPassword)
	if status := b.click(`form[action="/login"] button[type=submit]`); status != 200 {
		t.Fatalf("signing in answered %d", status)
	}
	if loc := b.location(); loc != srv.URL+"/" {
		t.Errorf("after signing in the browser is at %s, want the catalogue", loc)
	}
	nav := b.text("header nav")
	mustSee(t, nav, "Staff", "Your account", "Sign out")
	mustNotSee(t, nav, "Sign in", "Create an account")
}

func TestStaffEditFormKeepsInputAndExplainsErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBrowser(t)
	pal := srv.conference(t, palSlug)
	startsOn, endsOn := pal.StartsOn.Format(models.DateLayout), pal.EndsOn.Format(models.DateLayout)

	if status := b.signIn(srv.URL, staffEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as staff answered %d", status)
	}
	if status := b.visit(srv.URL + "/staff/conferences/" + palSlug + "/edit"); status != 200 {
		t.Fatalf("the edit form answered %d", status)
	}
	for field, want := range map[string]string{
		"title": palTitle, "title_es": palTitleES, "venue": pal.Venue, "city": "Pico Rivera, CA",
		"time_zone": "America/Los_Angeles", "starts_on": startsOn, "ends_on": endsOn, "capacity": "450",
	} {
		if got := b.value("#f-" + field); got != want {
			t.Errorf("field %s: prefilled with %q, want %q", field, got, want)
		}
	}

	// The last day before the first day, and a new title.
	const newTitle = "Region 6 PAL Conference 2027"
	badEnd := pal.StartsOn.AddDate(0, 0, -1).Format(models.DateLayout)
	b.typeInto("#f-title", newTitle)
	b.setValue("#f-ends_on", badEnd)
	if status := b.click(`form.wide-form button[type=submit]`); status != 422 {
		t.Errorf("an invalid form answered %d, want 422", status)
	}
	b.waitVisible("#e-ends_on")
	if msg := b.text("#e-ends_on"); msg != "The conference ends before it starts." {
		t.Errorf("message beside Last day: got %q", msg)
	}
	if !eval[bool](b, `document.querySelector("#e-ends_on").closest(".field").contains(document.querySelector("#f-ends_on"))`) {
		t.Error("the message is not beside the Last day field")
	}
	if d := eval[string](b, `document.querySelector("#f-ends_on").getAttribute("aria-describedby")`); d != "e-ends_on" {
		t.Errorf("Last day is described by %q, want e-ends_on", d)
	}
	mustSee(t, b.text(".alert"), "Please fix the fields marked below.")
	if got := b.value("#f-title"); got != newTitle {
		t.Errorf("the typed title was not kept: %q", got)
	}
	if got := b.value("#f-ends_on"); got != badEnd {
		t.Errorf("the typed last day was not kept: %q", got)
	}
	if got := b.value("#f-starts_on"); got != startsOn {
		t.Errorf("the first day changed to %q", got)
	}
	b.screenshot("staff-edit")

	// Fix it and save.
	b.setValue("#f-ends_on", endsOn)
	if status := b.click(`form.wide-form button[type=submit]`); status != 200 {
		t.Fatalf("saving answered %d", status)
	}
	if loc := b.location(); loc != srv.URL+"/staff/conferences/"+palSlug {
		t.Errorf("after saving the browser is at %s", loc)
	}
	if flash := b.text(".flash"); flash != "Changes saved." {
		t.Errorf("flash: got %q, want %q", flash, "Changes saved.")
	}
	mustSee(t, b.text("main"), newTitle)
	b.screenshot("staff-saved")
	if got := srv.conference(t, palSlug); got.Title != newTitle || !got.EndsOn.Equal(pal.EndsOn) {
		t.Errorf("saved: title %q, ends %s", got.Title, got.EndsOn.Format(models.DateLayout))
	}
}

func TestMemberCannotOpenStaffPages(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	b := newBrowser(t)

	if status := b.signIn(srv.URL, memberEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as a member answered %d", status)
	}
	mustNotSee(t, b.text("header nav"), "Staff")
	if status := b.visit(srv.URL + "/staff"); status != 403 {
		t.Errorf("/staff answered %d to a member, want 403", status)
	}
	mustSee(t, b.text("main"), "You do not have access to this page.", "Back to the conferences")
	mustNotSee(t, b.text("main"), "Staff: conferences", "Edit")
	b.screenshot("forbidden")
}
