package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"convene/models"
)

// Deadlines one second either side, in America/Los_Angeles, with dates on
// both US daylight-saving changes (Nov 1, 2026 and Mar 14, 2027).
func TestDeadlinesAtTheBoundaries(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	la, _ := time.LoadLocation("America/Los_Angeles")
	conf, err := s.CreateConference(ctx, models.ConferenceInput{Slug: "dst", Title: "DST", TimeZone: "America/Los_Angeles",
		StartsOn: "2027-03-19", EndsOn: "2027-03-21", Capacity: "100",
		RegistrationOpensAt: "2026-10-31T09:00", RegistrationClosesAt: "2027-03-14", ApprovalDeadline: "2027-03-15",
		WorkshopSignupClosesAt: "2027-03-10T17:00", PaymentDueDays: "2"})
	if err != nil {
		t.Fatal(err)
	}
	conf, _ = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished)
	cat, err := s.CreateCategory(ctx, conf, models.CategoryInput{Slug: "open", Name: "Open", Price: "100", EarlyPrice: "80", EarlyUntil: "2026-11-01"})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.CreateAgendaSession(ctx, conf, models.SessionInput{Title: "Workshop", Kind: "workshop", StartsAt: "2027-03-19T10:00", EndsAt: "2027-03-19T11:00"})
	if err != nil {
		t.Fatal(err)
	}
	opens := time.Date(2026, 10, 31, 9, 0, 0, 0, la)      // PDT
	closes := time.Date(2027, 3, 14, 23, 59, 59, 0, la)   // PDT, the day clocks spring forward
	early := time.Date(2026, 11, 1, 23, 59, 59, 0, la)    // PST, the day clocks fall back
	workshops := time.Date(2027, 3, 10, 17, 0, 0, 0, la)  // PST
	approval := time.Date(2027, 3, 15, 23, 59, 59, 0, la) // PDT
	if !conf.RegistrationOpensAt.Equal(opens) || !conf.RegistrationClosesAt.Equal(closes) || !cat.EarlyUntil.Equal(early) {
		t.Fatalf("stored deadlines: opens %s closes %s early %s", conf.RegistrationOpensAt.In(la), conf.RegistrationClosesAt.In(la), cat.EarlyUntil.In(la))
	}
	if got := closes.Sub(time.Date(2027, 3, 14, 0, 0, 0, 0, la)); got != 23*time.Hour-time.Second {
		t.Errorf("the spring-forward day should be 23 hours long: %s", got)
	}
	n := 0
	register := func(at time.Time, sessions ...int64) (models.Registration, error) {
		n++
		a := fastActors(t, s, fmt.Sprintf("b%d-", n), 1)[0]
		return s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "B", LastName: "B", Email: a.User.Email, Sessions: sessions}, a, at)
	}
	if _, err := register(opens.Add(-time.Second)); !errors.Is(err, models.ErrClosed) {
		t.Errorf("one second before opening: %v", err)
	}
	r, err := register(opens)
	if err != nil {
		t.Fatalf("at opening: %v", err)
	}
	if r.PriceCents != 8000 {
		t.Errorf("early-bird price at opening: %d", r.PriceCents)
	}
	if r, _ := register(early.Add(-time.Second)); r.PriceCents != 8000 {
		t.Errorf("one second before early-bird ends: %d, want 8000", r.PriceCents)
	}
	if r, _ := register(early); r.PriceCents != 8000 {
		t.Errorf("at the early-bird deadline itself: %d, want 8000", r.PriceCents)
	}
	if r, _ := register(early.Add(time.Second)); r.PriceCents != 10000 {
		t.Errorf("one second after early-bird ends: %d, want 10000", r.PriceCents)
	}
	if _, err := register(workshops.Add(-time.Second), ws.ID); err != nil {
		t.Errorf("workshop sign-up one second before it closes: %v", err)
	}
	if _, err := register(workshops, ws.ID); err == nil {
		t.Error("workshop sign-up accepted when it closed")
	}
	if _, err := register(closes.Add(-time.Second)); err != nil {
		t.Errorf("one second before closing: %v", err)
	}
	if _, err := register(closes); !errors.Is(err, models.ErrClosed) {
		t.Errorf("at closing: %v", err)
	}
	if _, err := register(closes.Add(time.Second)); !errors.Is(err, models.ErrClosed) {
		t.Errorf("one second after closing: %v", err)
	}
	// Payment due two days after approval, at the end of that day there.
	due := models.PaymentDue(conf, time.Date(2027, 3, 13, 10, 0, 0, 0, la))
	if want := time.Date(2027, 3, 15, 23, 59, 59, 0, la); !due.Equal(want) {
		t.Errorf("payment due %s, want %s", due.In(la), want)
	}
	// Officer approval deadline: pending registrations are flagged to staff after it.
	if _, err := s.CreateCategory(ctx, conf, models.CategoryInput{Slug: "approve", Name: "Needs approval", Price: "0", RequiresApproval: true, Approver: "staff"}); err != nil {
		t.Fatal(err)
	}
	a := fastActors(t, s, "pend", 1)[0]
	if _, err := s.Register(ctx, conf, models.RegistrationInput{Category: "approve", FirstName: "P", LastName: "P", Email: a.User.Email}, a, opens.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if flagged, _ := s.PendingPastApprovalDeadline(ctx, conf, approval.Add(-time.Second)); len(flagged) != 0 {
		t.Errorf("flagged before the approval deadline: %d", len(flagged))
	}
	if flagged, _ := s.PendingPastApprovalDeadline(ctx, conf, approval); len(flagged) != 1 {
		t.Errorf("not flagged at the approval deadline: %d", len(flagged))
	}
}

// Staff may register someone after closing; the override is in the history.
func TestStaffDeadlineOverrideIsAudited(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	after := f.conf.RegistrationClosesAt.Add(time.Hour)
	in := models.RegistrationInput{Category: "member-delegate", FirstName: "Late", LastName: "Cortés", Email: "late@example.org", Local: "4121", MemberNumber: "1002"}
	if _, err := f.s.Register(ctx, f.conf, in, f.staff, after); !errors.Is(err, models.ErrClosed) {
		t.Fatalf("staff without override: %v", err)
	}
	in.OverrideDeadline = true
	if _, err := f.s.Register(ctx, f.conf, in, f.member, after); !errors.Is(err, models.ErrClosed) {
		t.Fatalf("a member overrode the deadline: %v", err)
	}
	r, err := f.s.Register(ctx, f.conf, in, f.staff, after)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := f.s.History(ctx, "registration", r.ID)
	if len(h) == 0 || h[0].Action != "registration_submitted" || string(h[0].Details) == "" || !contains(string(h[0].Details), `"deadline_override": true`) {
		t.Errorf("override not audited: %+v", h)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
