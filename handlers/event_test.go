package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"convene/models"
)

// event is a published bilingual conference with hard-named attendees: most
// confirmed (registered by staff, or by themselves and approved), one still
// pending, one cancelled.
type event struct {
	ta        *testApp
	conf      models.Conference
	staff     *client
	staffA    models.Actor
	confirmed []models.Registration
	pending   models.Registration
	cancelled models.Registration
	// owner registered herself for one workshop and was approved;
	// pendingOwner's registration waits for approval.
	owner, pendingOwner *client
	ownerReg            models.Registration
	// officer is an officer of local 4121; otherOfficer of local 7600.
	officer, otherOfficer *client
	sessions              map[string]models.AgendaSession
}

// hardNames are fictional attendees whose names break naive PDF code.
var hardNames = []struct{ first, last, local, category string }{
	{"Ana", "Cortés", "4121", "delegate"},
	{"José Luis", "Chávez-Nava", "4121", "delegate"},
	{"María del Carmen", "Ñúñez", "7600", "observer"},
	{"Jürgen", "Müller", "", "guest"},
	{"Siobhán", "O'Brien", "7600", "delegate"},
	{"Þórdís", "Guðmundsdóttir", "", "guest"},
	{"Łukasz", "Wójcik-Żelazny", "4121", "observer"},
	{"Maximiliano Alejandro", "de la Santísima Trinidad Chávez-Nava", "7600", "delegate"},
	{"Nguyễn", "Thị Minh Khai", "", "observer"},
	{"Zoë", "Đorđević", "4121", "delegate"},
	{"Çağla", "Öztürk", "7600", "guest"},
	{"Ægir", "Ørsted-Ångström", "", "delegate"},
}

func (ta *testApp) actor(email string) models.Actor {
	ta.t.Helper()
	u, err := ta.Store.UserByEmail(context.Background(), email)
	if err != nil {
		ta.t.Fatal(err)
	}
	a, err := ta.Store.ActorFor(context.Background(), u)
	if err != nil {
		ta.t.Fatal(err)
	}
	return a
}

func newEvent(t *testing.T) *event {
	t.Helper()
	ctx := context.Background()
	ta := newTestApp(t)
	e := &event{ta: ta, sessions: map[string]models.AgendaSession{}}
	now := ta.Now()
	start := now.AddDate(0, 2, 0)
	in := models.ConferenceInput{Slug: "binational", Title: "Binational Workers Convention 2027", TitleES: "Convención Binacional de Trabajadores 2027",
		Venue: "Union Hall", City: "Pico Rivera, CA", TimeZone: "America/Los_Angeles", Languages: "en,es", Mode: "in_person",
		StartsOn: start.Format("2006-01-02"), EndsOn: start.AddDate(0, 0, 2).Format("2006-01-02"), Capacity: "450",
		RegistrationOpensAt: now.AddDate(0, 0, -7).Format(time.RFC3339), RegistrationClosesAt: now.AddDate(0, 1, 0).Format(time.RFC3339)}
	conf, err := ta.Store.CreateConference(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if e.conf, err = ta.Store.SetConferenceStatus(ctx, conf.ID, models.StatusPublished); err != nil {
		t.Fatal(err)
	}
	for _, c := range []models.CategoryInput{
		{Slug: "delegate", Name: "Delegate", NameES: "Delegado/a", Price: "0", Approver: "staff"},
		{Slug: "observer", Name: "Observer", NameES: "Observador/a", Price: "0", RequiresApproval: true, Approver: "staff"},
		{Slug: "guest", Name: "Guest", NameES: "Invitado/a", Price: "0", Approver: "staff"},
	} {
		if _, err := ta.Store.CreateCategory(ctx, e.conf, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []models.LocalInput{{Number: "4121", Name: "Harbor City Academic Workers"}, {Number: "7600", Name: "Inland Valley Health Care Workers"}} {
		if _, err := ta.Store.CreateLocal(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	day := func(n int, hhmm string) string { return start.AddDate(0, 0, n).Format("2006-01-02") + "T" + hhmm }
	for _, s := range []struct {
		key, title, titleES, kind, from, to, room, speakers, capacity string
	}{
		{"opening", "Opening plenary", "Plenaria de apertura", "plenary", day(0, "09:00"), day(0, "10:30"), "Ballroom A", "Rosa Delgado, Local 4121 President", ""},
		{"bargaining", "Bargaining for the common good", "Negociar por el bien común", "workshop", day(0, "11:00"), day(0, "12:30"), "Room 101", "Luis Chávez-Nava", "30"},
		{"organizing", "Organizing the unorganized", "Organizar a los no organizados", "workshop", day(0, "11:00"), day(0, "12:30"), "Room 102", "Grace Liu", "30"},
		{"lunch", "Lunch", "Almuerzo", "meal", day(0, "12:30"), day(0, "13:30"), "Hall B", "", ""},
		{"caucus", "Political action caucus", "Caucus de acción política", "caucus", day(1, "09:00"), day(1, "10:00"), "Room 201", "", ""},
		{"safety", "Health and safety on the job", "Salud y seguridad en el trabajo", "panel", day(1, "10:30"), day(1, "12:00"), "Ballroom A", "Þórdís Guðmundsdóttir, Jürgen Müller", ""},
		{"closing", "Closing plenary", "Plenaria de clausura", "plenary", day(2, "15:00"), day(2, "16:30"), "Ballroom A", "", ""},
	} {
		a, err := ta.Store.CreateAgendaSession(ctx, e.conf, models.SessionInput{Title: s.title, TitleES: s.titleES, Kind: s.kind,
			StartsAt: s.from, EndsAt: s.to, Room: s.room, Speakers: s.speakers, Capacity: s.capacity})
		if err != nil {
			t.Fatalf("session %s: %v", s.key, err)
		}
		e.sessions[s.key] = a
	}

	e.staff = ta.signedIn("staff@example.org", true, false)
	e.staffA = ta.actor("staff@example.org")
	register := func(a models.Actor, in models.RegistrationInput) models.Registration {
		t.Helper()
		r, err := ta.Store.Register(ctx, e.conf, in, a, ta.Now())
		if err != nil {
			t.Fatalf("register %s %s: %v", in.FirstName, in.LastName, err)
		}
		return r
	}
	for i, n := range hardNames {
		r := register(e.staffA, models.RegistrationInput{Category: n.category, FirstName: n.first, LastName: n.last,
			Email: fmt.Sprintf("attendee%d@example.org", i), Local: n.local})
		if r.Status != models.RegConfirmed {
			t.Fatalf("%s: %s, want confirmed", r.FullName(), r.Status)
		}
		e.confirmed = append(e.confirmed, r)
	}

	// A member registers herself as an observer, which staff approve.
	e.owner = ta.signedIn("rosa@example.org", false, false)
	r := register(ta.actor("rosa@example.org"), models.RegistrationInput{Category: "observer", FirstName: "Rosa", LastName: "Delgado-Ibáñez",
		Email: "rosa@example.org", Local: "4121", Sessions: []int64{e.sessions["bargaining"].ID}})
	if r.Status != models.RegPending {
		t.Fatalf("self-registered observer: %s, want pending", r.Status)
	}
	if e.ownerReg, err = ta.Store.Approve(ctx, r.ID, e.staffA); err != nil || e.ownerReg.Status != models.RegConfirmed {
		t.Fatalf("approve: %v %s", err, e.ownerReg.Status)
	}
	e.confirmed = append(e.confirmed, e.ownerReg)

	// Two who get no badge by default: one waiting for approval, one cancelled.
	e.pendingOwner = ta.signedIn("pending@example.org", false, false)
	e.pending = register(ta.actor("pending@example.org"), models.RegistrationInput{Category: "observer", FirstName: "Paz", LastName: "Pendiente",
		Email: "pending@example.org", Local: "7600"})
	if e.pending.Status != models.RegPending {
		t.Fatalf("pending: %s", e.pending.Status)
	}
	c := register(e.staffA, models.RegistrationInput{Category: "guest", FirstName: "Carla", LastName: "Cancelada", Email: "cancelled@example.org"})
	if e.cancelled, err = ta.Store.Cancel(ctx, c.ID, e.staffA); err != nil {
		t.Fatal(err)
	}

	e.officer = ta.signedIn("officer4121@example.org", false, false)
	e.otherOfficer = ta.signedIn("officer7600@example.org", false, false)
	for email, num := range map[string]string{"officer4121@example.org": "4121", "officer7600@example.org": "7600"} {
		l, _ := ta.Store.LocalByNumber(ctx, num)
		if err := ta.Store.AddOfficer(ctx, ta.actor(email).User.ID, l.ID); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// byToken maps each confirmed registration's QR text to it.
func (e *event) byToken() map[string]models.Registration {
	m := map[string]models.Registration{}
	for _, r := range e.confirmed {
		m[e.ta.TicketURL(r)] = r
	}
	return m
}
