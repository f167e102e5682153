package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"convene/models"
)

func TestCatalogueShowsPublishedUpcomingFirstAndPastApart(t *testing.T) {
	ta := newTestApp(t)
	ta.conference("visible-conf", models.StatusPublished)
	ta.conference("secret-draft", models.StatusDraft)
	past, err := ta.Store.CreateConference(context.Background(), models.ConferenceInput{Slug: "last-year", Title: "Last Year's Summit",
		TimeZone: "America/New_York", StartsOn: "2025-03-01", EndsOn: "2025-03-02",
		RegistrationOpensAt: "2025-01-01", RegistrationClosesAt: "2025-02-01"})
	if err != nil {
		t.Fatal(err)
	}
	ta.Store.SetConferenceStatus(context.Background(), past.ID, models.StatusClosed)

	r := ta.client().get("/")
	if r.Code != http.StatusOK {
		t.Fatalf("catalogue: %d", r.Code)
	}
	mustContain(t, r.body, "Conference visible-conf", "Last Year&#39;s Summit", "Past conferences")
	mustNotContain(t, r.body, "secret-draft")
	if strings.Index(r.body, "Conference visible-conf") > strings.Index(r.body, "Past conferences") {
		t.Error("the upcoming conference is listed after the past ones")
	}
}

func TestDraftsAreHiddenFromPublicAndAPI(t *testing.T) {
	ta := newTestApp(t)
	ta.conference("secret-draft", models.StatusDraft)
	anon := ta.client()
	member := ta.signedIn("member@example.org", false, false)
	for name, c := range map[string]*client{"anonymous": anon, "member": member} {
		if r := c.get("/conferences/secret-draft"); r.Code != http.StatusNotFound || strings.Contains(r.body, "Conference secret-draft") {
			t.Errorf("%s: draft page answered %d", name, r.Code)
		}
		r := c.get("/api/v1/conferences/secret-draft")
		if r.Code != http.StatusNotFound || r.errorCode(t) != "not_found" {
			t.Errorf("%s: draft API answered %d %s", name, r.Code, r.body)
		}
		if r := c.get("/api/v1/conferences"); strings.Contains(r.body, "secret-draft") {
			t.Errorf("%s: draft listed by the API", name)
		}
	}
	staff := ta.signedIn("staff@example.org", true, false)
	if r := staff.get("/conferences/secret-draft"); r.Code != http.StatusOK || !strings.Contains(r.body, "only staff can see") {
		t.Errorf("staff cannot preview the draft: %d", r.Code)
	}
}

func TestConferencePageShowsWhatAMemberNeeds(t *testing.T) {
	ta := newTestApp(t)
	conf := ta.conference("pal", models.StatusPublished)
	ctx := context.Background()
	early := ta.Now().AddDate(0, 0, 7).Format(time.RFC3339)
	if _, err := ta.Store.CreateCategory(ctx, conf, models.CategoryInput{Name: "Member delegate", Price: "150", EarlyPrice: "125", EarlyUntil: early, Capacity: "300"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Store.CreateCategory(ctx, conf, models.CategoryInput{Name: "Retiree", Price: "0"}); err != nil {
		t.Fatal(err)
	}
	day := conf.StartsOn.Format("2006-01-02")
	if _, err := ta.Store.CreateAgendaSession(ctx, conf, models.SessionInput{Title: "Opening plenary", Kind: "plenary", StartsAt: day + "T09:00", EndsAt: day + "T10:30", Room: "Main Hall", Speakers: "Teresa Okafor"}); err != nil {
		t.Fatal(err)
	}
	r := ta.client().get("/conferences/pal")
	if r.Code != http.StatusOK {
		t.Fatalf("%d", r.Code)
	}
	mustContain(t, r.body, "Conference pal", "Union Hall", "Pico Rivera, CA", "Open until", "Member delegate", "$150",
		"Early bird: $125 until", "Retiree", "Free", "Opening plenary", "9:00 AM – 10:30 AM", "Main Hall", "Teresa Okafor",
		"Seats left", "450 of 450", conf.StartsOn.Format("Monday, January 2, 2006"), "America/Los_Angeles")
}

// The registration window is shown in the conference's zone with the zone
// named, on both sides of the end of daylight saving time (Nov 1, 2026 in the US).
func TestRegistrationWindowAcrossDSTChange(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	c, err := ta.Store.CreateConference(ctx, models.ConferenceInput{Slug: "dst", Title: "DST Conference", TimeZone: "America/Los_Angeles",
		StartsOn: "2026-12-04", EndsOn: "2026-12-06", RegistrationOpensAt: "2026-10-30T09:00", RegistrationClosesAt: "2026-11-10"})
	if err != nil {
		t.Fatal(err)
	}
	ta.Store.SetConferenceStatus(ctx, c.ID, models.StatusPublished)

	ta.at(time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC))
	r := ta.client().get("/conferences/dst")
	mustContain(t, r.body, "Registration opens Oct 30, 2026, 9:00 AM PDT")

	ta.at(time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC))
	r = ta.client().get("/conferences/dst")
	mustContain(t, r.body, "Open until Nov 10, 2026, 11:59 PM PST")

	ta.at(time.Date(2026, 11, 11, 8, 0, 0, 0, time.UTC)) // 00:00 PST on Nov 11
	r = ta.client().get("/conferences/dst")
	mustContain(t, r.body, "Registration closed")
}

func TestSpanishPages(t *testing.T) {
	ta := newTestApp(t)
	ta.conference("bilingual", models.StatusPublished)
	c := ta.client()
	c.header.Set("Accept-Language", "es-MX,es;q=0.9,en;q=0.5")
	r := c.get("/")
	mustContain(t, r.body, `<html lang="es">`, "Conferencias", "Próximas", "Iniciar sesión", "Conferencia bilingual", "Abierta hasta el")
	mustNotContain(t, r.body, ">Sign in<", "Upcoming")

	// The switch on every page wins over the browser and is remembered.
	c = ta.client()
	c.header.Set("Accept-Language", "en-US")
	r = c.get("/conferences/bilingual?lang=es")
	mustContain(t, r.body, "Conferencia bilingual", "Tipos de inscripción", "Programa", `<a href="/conferences/bilingual?lang=en"`)
	r = c.get("/login")
	mustContain(t, r.body, "Contraseña", "¿Olvidó su contraseña?")
	r = c.get("/login?lang=en")
	mustContain(t, r.body, "Forgot your password?")
}
