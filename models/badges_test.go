package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"convene/models"
)

// staffRegisters registers attendees as staff, which confirms them at once
// in a free category.
func (f *regFixture) staffRegisters(t *testing.T, people ...models.RegistrationInput) []models.Registration {
	t.Helper()
	var out []models.Registration
	for _, in := range people {
		if in.Category == "" {
			in.Category = "organizing" // no membership needed
		}
		r, err := f.register(t, f.staff, in)
		if err != nil {
			t.Fatalf("register %s %s: %v", in.FirstName, in.LastName, err)
		}
		if r.Status != models.RegConfirmed {
			t.Fatalf("%s %s is %s, want confirmed", in.FirstName, in.LastName, r.Status)
		}
		out = append(out, r)
	}
	return out
}

func ids(rs []models.Registration) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func TestBadgeFilterChecksItsInput(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	bad := []struct {
		q     models.BadgeQuery
		field string
	}{
		{models.BadgeQuery{Local: "9999"}, "local"},
		{models.BadgeQuery{Category: "no-such-type"}, "category"},
		{models.BadgeQuery{Status: "cancelled"}, "status"},
		{models.BadgeQuery{Status: "checked_in"}, "status"},
		{models.BadgeQuery{Unprinted: "maybe"}, "unprinted"},
		{models.BadgeQuery{CheckedIn: "2"}, "checked_in"},
	}
	for _, c := range bad {
		_, err := f.s.BadgeFilter(ctx, f.conf, c.q)
		if msg := fieldErr(t, err, c.field); msg == "" {
			t.Errorf("%+v: no message for %s (error %v)", c.q, c.field, err)
		}
	}
	got, err := f.s.BadgeFilter(ctx, f.conf, models.BadgeQuery{})
	if err != nil || got.Status != models.RegConfirmed || got.LocalID != nil || got.CategoryID != nil || got.Unprinted || got.CheckedIn != nil {
		t.Errorf("no filter: %+v, %v; want every confirmed registration", got, err)
	}
	got, err = f.s.BadgeFilter(ctx, f.conf, models.BadgeQuery{Local: "Local 4121", Category: "member-delegate", Status: "awaiting_payment", Unprinted: "on", CheckedIn: "false"})
	if err != nil || got.LocalID == nil || *got.LocalID != f.local.ID || got.CategoryID == nil || got.Status != models.RegAwaitingPayment ||
		!got.Unprinted || got.CheckedIn == nil || *got.CheckedIn {
		t.Errorf("every filter: %+v, %v", got, err)
	}
}

func TestPrintBadgesMarksTheBatchAndAuditsItOnce(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	confirmed := f.staffRegisters(t,
		models.RegistrationInput{FirstName: "Ana", LastName: "Cortés", Email: "ana@example.org", Local: "4121"},
		models.RegistrationInput{FirstName: "Grace", LastName: "Liu", Email: "grace@example.org", Local: "7600"},
		models.RegistrationInput{FirstName: "Siobhán", LastName: "O'Brien", Email: "siobhan@example.org"},
	)
	// A member whose number is not on the roster waits for an officer: no badge.
	pending, err := f.register(t, f.member, models.RegistrationInput{FirstName: "Sam", LastName: "Nobody", Local: "4121", MemberNumber: "9999"})
	if err != nil || pending.Status != models.RegPending {
		t.Fatalf("pending registration: %s, %v", pending.Status, err)
	}
	all, _ := f.s.BadgeFilter(ctx, f.conf, models.BadgeQuery{})
	unprinted, _ := f.s.BadgeFilter(ctx, f.conf, models.BadgeQuery{Unprinted: "true"})
	if n, err := f.s.CountBadges(ctx, f.conf.ID, all); err != nil || n != (models.BadgeCount{Matching: 3}) {
		t.Fatalf("count before printing: %+v, %v", n, err)
	}

	// A document that fails marks nothing.
	boom := errors.New("printer on fire")
	if _, err := f.s.PrintBadges(ctx, f.conf, unprinted, f.staff, nil, func([]models.Registration) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if n, _ := f.s.CountBadges(ctx, f.conf.ID, unprinted); n.Matching != 3 {
		t.Fatalf("a failed batch marked badges printed: %d left unprinted, want 3", n.Matching)
	}

	var got []models.Registration
	n, err := f.s.PrintBadges(ctx, f.conf, unprinted, f.staff, map[string]any{"layout": "avery5392"}, func(rs []models.Registration) error {
		got = rs
		return nil
	})
	if err != nil || n != 3 || !slices.Equal(ids(got), ids(confirmed)) {
		t.Fatalf("batch: %d %v, printed %v, want %v", n, err, ids(got), ids(confirmed))
	}
	for _, r := range got {
		if r.TicketToken == nil || len(*r.TicketToken) != 26 || r.FirstName == "" || r.CategoryName == "" {
			t.Errorf("registration %d handed to the document without its token or names: %+v", r.ID, r)
		}
	}
	if got[0].LocalNumber == nil || *got[0].LocalNumber != "4121" || got[2].LocalNumber != nil {
		t.Errorf("batch not in local order: %v %v %v", got[0].LocalNumber, got[1].LocalNumber, got[2].LocalNumber)
	}
	if n, _ := f.s.CountBadges(ctx, f.conf.ID, all); n != (models.BadgeCount{Matching: 3, Printed: 3}) {
		t.Errorf("after printing: %+v, want all 3 printed", n)
	}
	if _, err := f.s.PrintBadges(ctx, f.conf, unprinted, f.staff, nil, func([]models.Registration) error { return nil }); !errors.Is(err, models.ErrNoBadges) {
		t.Errorf("second unprinted batch: %v, want ErrNoBadges", err)
	}
	// A failed reprint gives each badge back the time it was printed.
	before, _ := f.s.Registration(ctx, confirmed[0].ID)
	if _, err := f.s.PrintBadges(ctx, f.conf, all, f.staff, nil, func([]models.Registration) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed reprint: %v", err)
	}
	if after, _ := f.s.Registration(ctx, confirmed[0].ID); after.BadgePrintedAt == nil || !after.BadgePrintedAt.Equal(*before.BadgePrintedAt) {
		t.Errorf("after a failed reprint the badge reads printed at %v, want %v as before", after.BadgePrintedAt, before.BadgePrintedAt)
	}
	// Reprint on demand: without the unprinted filter every badge comes again.
	// While the document is being made, a check-in desk can still write to
	// the registrations in it: no row stays locked.
	n, err = f.s.PrintBadges(ctx, f.conf, all, f.staff, nil, func(rs []models.Registration) error {
		desk, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := f.s.DB().ExecContext(desk, `UPDATE registrations SET updated_at = now() WHERE id = $1`, rs[0].ID)
		return err
	})
	if n != 3 || err != nil {
		t.Errorf("reprint with a check-in meanwhile: %d, %v", n, err)
	}
	h, err := f.s.History(ctx, "conference", f.conf.ID)
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	for _, e := range h {
		if e.Action == "badges_printed" {
			batches++
		}
	}
	if batches != 2 {
		t.Errorf("%d badges_printed audit entries, want one per successful batch (2)", batches)
	}

	// Filters.
	checked := confirmed[1]
	if _, err := f.s.DB().ExecContext(ctx, `UPDATE registrations SET checked_in_at = now() WHERE id = $1`, checked.ID); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[models.BadgeQuery]int{
		{Local: "4121"}:                 1,
		{Local: "7600", CheckedIn: "1"}: 1,
		{CheckedIn: "true"}:             1,
		{CheckedIn: "false"}:            2,
		{Status: "pending"}:             1,
		{Category: "organizing"}:        3,
		{Category: "member-delegate"}:   0,
	} {
		flt, err := f.s.BadgeFilter(ctx, f.conf, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if n, err := f.s.CountBadges(ctx, f.conf.ID, flt); err != nil || n.Matching != want {
			t.Errorf("%+v matches %d, want %d (%v)", q, n.Matching, want, err)
		}
	}

	if _, err := f.s.PrintBadges(ctx, f.conf, all, f.officer, nil, func([]models.Registration) error { return nil }); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("officer printing badges: %v, want ErrForbidden", err)
	}
}

func TestPrintOneBadge(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.staffRegisters(t, models.RegistrationInput{FirstName: "Łukasz", LastName: "Wójcik", Email: "lw@example.org"})[0]
	for i := range 2 {
		var got models.Registration
		if err := f.s.PrintBadge(ctx, r.ID, f.staff, nil, func(x models.Registration) error { got = x; return nil }); err != nil || got.ID != r.ID {
			t.Fatalf("print %d: %v", i+1, err)
		}
	}
	h, _ := f.s.History(ctx, "registration", r.ID)
	var reprints []bool
	for _, e := range h {
		if e.Action == "badge_printed" {
			var d struct{ Reprint bool }
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			reprints = append(reprints, d.Reprint)
		}
	}
	if !slices.Equal(reprints, []bool{false, true}) {
		t.Errorf("badge_printed entries (reprint?) %v, want [false true]", reprints)
	}
	if err := f.s.PrintBadge(ctx, r.ID, f.officer, nil, func(models.Registration) error { return nil }); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("officer: %v, want ErrForbidden", err)
	}
	if _, err := f.s.Cancel(ctx, r.ID, f.staff); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PrintBadge(ctx, r.ID, f.staff, nil, func(models.Registration) error { return nil }); !errors.Is(err, models.ErrConflict) {
		t.Errorf("cancelled registration's badge: %v, want ErrConflict", err)
	}
	if err := f.s.PrintBadge(ctx, 987654, f.staff, nil, func(models.Registration) error { return nil }); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown registration: %v, want ErrNotFound", err)
	}
}

// TestConcurrentUnprintedBatchesAreDisjoint races two staff printing "not
// yet printed" at once: each badge must come out of exactly one printer. The
// control races two reprints of everything, which must overlap, to show the
// check can see an overlap.
func TestConcurrentUnprintedBatchesAreDisjoint(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	var people []models.RegistrationInput
	for _, n := range []string{"Ana", "Beto", "Carla", "Dolores", "Efraín", "Fátima"} {
		people = append(people, models.RegistrationInput{FirstName: n, LastName: "Test", Email: n + "@example.org"})
	}
	everyone := ids(f.staffRegisters(t, people...))
	race := func(q models.BadgeQuery) (a, b []int64) {
		flt, err := f.s.BadgeFilter(ctx, f.conf, q)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		out := [2][]int64{}
		for i := range 2 {
			wg.Go(func() {
				_, err := f.s.PrintBadges(ctx, f.conf, flt, f.staff, nil, func(rs []models.Registration) error {
					out[i] = ids(rs)
					time.Sleep(200 * time.Millisecond) // making the PDF takes a while
					return nil
				})
				if err != nil && !errors.Is(err, models.ErrNoBadges) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return out[0], out[1]
	}
	a, b := race(models.BadgeQuery{Unprinted: "true"})
	if both := append(slices.Clone(a), b...); len(both) != len(everyone) || !slices.Equal(slices.Sorted(slices.Values(both)), everyone) {
		t.Errorf("unprinted batches printed %v and %v; want each of %v exactly once", a, b, everyone)
	}
	a, b = race(models.BadgeQuery{})
	if !slices.Equal(a, everyone) || !slices.Equal(b, everyone) {
		t.Errorf("control: two reprints of everything printed %v and %v; want both %v", a, b, everyone)
	}
}

func TestPersonalAgenda(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	add := func(title, kind, start, end string) models.AgendaSession {
		t.Helper()
		a, err := f.s.CreateAgendaSession(ctx, f.conf, models.SessionInput{Title: title, Kind: kind, StartsAt: start, EndsAt: end, Capacity: "30"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	add("Opening plenary", "plenary", "2027-03-05T09:00", "2027-03-05T10:30")
	w1 := add("Bargaining 101", "workshop", "2027-03-05T11:00", "2027-03-05T12:30")
	add("Organizing the unorganized", "workshop", "2027-03-05T11:00", "2027-03-05T12:30")
	add("Lunch", "meal", "2027-03-05T12:30", "2027-03-05T13:30")
	r, err := f.register(t, f.staff, models.RegistrationInput{Category: "organizing", FirstName: "Ana", LastName: "Cortés", Email: "ana@example.org", Sessions: []int64{w1.ID}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.s.PersonalAgenda(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, a := range got {
		titles = append(titles, a.Title)
	}
	if want := []string{"Opening plenary", "Bargaining 101", "Lunch"}; !slices.Equal(titles, want) {
		t.Errorf("personal agenda %q, want %q", titles, want)
	}
}
