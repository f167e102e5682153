package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"convene/models"
)

type mixedConference struct {
	conf     models.Conference
	workshop int64
	ids      map[string][]int64 // by kind: holders, pending, denied, unpaid, waiting
}

// newMixedConference makes a conference of five seats and three
// registration types: delegates (two seats, approved by staff), guests (one
// seat) and open, with one workshop of two places everybody signs up for.
// Two delegates wait for approval, three hold seats, six wait in line.
func newMixedConference(t *testing.T, s *models.Store, slug string) mixedConference {
	t.Helper()
	ctx := context.Background()
	conf := publishedConference(t, s, slug, "5",
		models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "2", RequiresApproval: true, Approver: "staff"},
		models.CategoryInput{Slug: "guest", Name: "Guest", Price: "0", Capacity: "1"},
		models.CategoryInput{Slug: "open", Name: "Open", Price: "0"})
	w, err := s.CreateAgendaSession(ctx, conf, models.SessionInput{Title: "W", Kind: "workshop", StartsAt: "2027-03-05T10:00", EndsAt: "2027-03-05T11:00", Capacity: "2"})
	if err != nil {
		t.Fatal(err)
	}
	now := conf.RegistrationOpensAt.Add(time.Hour)
	f := mixedConference{conf: conf, workshop: w.ID, ids: map[string][]int64{}}
	kinds := []string{"delegate", "delegate", "guest", "open", "open", // seats: 2 pending delegates, guest, 2 open
		"guest", "delegate", "open", "open", "guest", "open"} // line
	for i, a := range fastActors(t, s, slug, len(kinds)) {
		r, err := s.Register(ctx, conf, models.RegistrationInput{Category: kinds[i], FirstName: "M", LastName: fmt.Sprint(i),
			Email: a.User.Email, Sessions: []int64{w.ID}}, a, now)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Status == models.RegPending:
			f.ids["pending"] = append(f.ids["pending"], r.ID)
		case r.Status == models.RegWaitlisted:
			f.ids["waiting"] = append(f.ids["waiting"], r.ID)
		default:
			f.ids["holders"] = append(f.ids["holders"], r.ID)
		}
	}
	if len(f.ids["pending"]) != 2 || len(f.ids["holders"]) != 3 || len(f.ids["waiting"]) != 6 {
		t.Fatalf("fixture: %v", f.ids)
	}
	return f
}

// checkSeatsAndLines checks every count against the rows, and that nobody who could
// take a free seat (or workshop place) waits.
func checkSeatsAndLines(t *testing.T, s *models.Store, f mixedConference, round int) {
	t.Helper()
	var bad []string
	if err := s.DB().Select(&bad, seatCountsAgainstHolders+`
		UNION ALL
		SELECT 'workshop: taken ' || a.taken || ', placed ' || count(r.id)
		FROM agenda_sessions a LEFT JOIN registration_sessions rs ON rs.session_id = a.id AND NOT rs.waitlisted
		LEFT JOIN registrations r ON r.id = rs.registration_id AND r.holds_seat
		WHERE a.id = $2 GROUP BY a.id HAVING a.taken <> count(r.id) OR a.taken > a.capacity
		UNION ALL
		SELECT 'on the workshop line without a seat: ' || r.id FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
		WHERE rs.session_id = $2 AND rs.waitlisted AND NOT r.holds_seat
		UNION ALL
		SELECT 'workshop place free while ' || rs.registration_id || ' waits' FROM registration_sessions rs JOIN agenda_sessions a ON a.id = rs.session_id
		JOIN registrations r ON r.id = rs.registration_id
		WHERE rs.session_id = $2 AND rs.waitlisted AND r.holds_seat AND a.taken < a.capacity
		UNION ALL
		SELECT 'holds_seat ' || r.holds_seat || ' but ' || r.status || ': ' || r.id FROM registrations r
		WHERE r.conference_id = $1 AND r.holds_seat <> (r.status NOT IN ('waitlisted', 'cancelled', 'denied'))
		UNION ALL
		SELECT 'seat free (conference ' || c.taken || '/' || c.capacity || ', ' || k.slug || ' ' || k.taken || '/' || coalesce(k.capacity::text, '-') || ') while ' || r.id || ' waits'
		FROM registrations r JOIN categories k ON k.id = r.category_id JOIN conferences c ON c.id = r.conference_id
		WHERE r.conference_id = $1 AND r.status = 'waitlisted' AND c.taken < c.capacity AND (k.capacity IS NULL OR k.taken < k.capacity)`,
		f.conf.ID, f.workshop); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("round %d: %s", round, strings.Join(bad, "; "))
	}
}

// TestEveryActionOnACappedConferenceAtOnce: in a conference of capped types
// and a capped workshop, at once: two cancellations, a denial, the approval
// of one denied before, the expiry of an unpaid registration, a promotion by
// hand, a move, and two new registrations. Only conflicts and "full" may
// fail; afterwards the counts match the rows, and no seat or workshop place
// is free while someone who could take it waits.
func TestEveryActionOnACappedConferenceAtOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 25 {
		slug := fmt.Sprintf("capped-all-%d", round)
		f := newMixedConference(t, s, slug)
		now := f.conf.RegistrationOpensAt.Add(time.Hour)
		// One pending delegate denied before; one holder unpaid and overdue.
		if _, err := s.Deny(ctx, f.ids["pending"][0], staff, "no"); err != nil {
			t.Fatal(err)
		}
		unpaid := f.ids["holders"][2]
		s.DB().MustExec(`UPDATE registrations SET status = 'awaiting_payment', payment_due_at = $2 WHERE id = $1`, unpaid, now)
		newcomers := fastActors(t, s, slug+"-new", 2)
		w := f.ids["waiting"]
		ops := []func() error{
			func() error { _, err := s.Cancel(ctx, f.ids["holders"][0], staff); return err },
			func() error { _, err := s.Cancel(ctx, f.ids["holders"][1], staff); return err },
			func() error { _, err := s.Deny(ctx, f.ids["pending"][1], staff, "no"); return err },
			func() error { _, err := s.Approve(ctx, f.ids["pending"][0], staff); return err },
			func() error { _, err := s.ExpireUnpaid(ctx, now.Add(time.Hour)); return err },
			func() error { _, err := s.PromoteNow(ctx, w[4], staff); return err },
			func() error { return s.MoveOnWaitlist(ctx, w[2], true, w[1], staff) },
		}
		for i, kind := range []string{"open", "guest"} {
			ops = append(ops, func() error {
				_, err := s.Register(ctx, f.conf, models.RegistrationInput{Category: kind, FirstName: "N", LastName: "C",
					Email: newcomers[i].User.Email, Sessions: []int64{f.workshop}}, newcomers[i], now)
				return err
			})
		}
		refusedOrNil(t, round, allAtOnce(ops...))
		checkSeatsAndLines(t, s, f, round)
	}
}

// TestSeatCountsWaitHalfASecondInAll: a transaction holding the seat counts
// waits half a second for rows in all, not per row. A member's cancellation
// finds the first two in line busy (their rows held, as by long prints) and
// commits; its fillSeats then holds the counts while it tries the line. A
// second member cancels, queued on those counts while holding their own
// row, and a batch of scans at the door holds the third in line's row while
// it waits for the second member's. Both cancellations succeed. Before,
// fillSeats waited half a second for each busy person in turn, reached the
// third after the queued cancellation had waited over a second, and
// PostgreSQL's deadlock check failed that cancellation.
func TestSeatCountsWaitHalfASecondInAll(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 3 {
		slug := fmt.Sprintf("counts-wait-%d", round)
		f, late := lineWithALateHolder(t, s, slug)
		third, err := s.Registration(ctx, f.line[2])
		if err != nil {
			t.Fatal(err)
		}
		r0, r1 := holdRow(t, s, f.line[0]), holdRow(t, s, f.line[1])
		first := make(chan error, 1)
		go func() { _, err := s.Cancel(ctx, f.openHolder, staff); first <- err }()
		// The cancellation waits 0.5 s for line[0], commits, and fillSeats
		// waits 0.5 s more for line[0]: the member cancels meanwhile.
		time.Sleep(700 * time.Millisecond)
		second := make(chan error, 1)
		go func() { _, err := s.Cancel(ctx, late.ID, staff); second <- err }()
		time.Sleep(50 * time.Millisecond)
		scanned := scanBoth(t, s, slug, third, late)
		e1, e2 := <-first, <-second
		scans := <-scanned
		r0()
		r1()
		t.Logf("round %d: first cancel %v; second cancel %v; scans %v / %v", round, e1, e2, scans[0].err, scans[1].err)
		if e1 != nil || e2 != nil {
			t.Errorf("round %d: cancellations: %v / %v", round, e1, e2)
		}
		f.seatsHeld(t, s)
	}
}

// TestOneExpiryRoundAcrossThreeConferences: one expiry round cancels an
// unpaid registration in each of three conferences whose first in line's row
// is held a while (a badge print). The round holds all three conferences'
// seat counts until it commits, and waits half a second in all, not in each:
// a registration in the last conference is not held up for longer.
func TestOneExpiryRoundAcrossThreeConferences(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var confs []models.Conference
	var releases []func()
	var now time.Time
	for i := range 3 {
		slug := fmt.Sprintf("expiry-round-%d", i)
		conf := rushConference(t, s, slug, "1", 0)
		now = conf.RegistrationOpensAt.Add(time.Hour)
		var ids []int64
		for j, a := range fastActors(t, s, slug, 2) {
			r, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "M", LastName: fmt.Sprint(j), Email: a.User.Email}, a, now)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		s.DB().MustExec(`UPDATE registrations SET status = 'awaiting_payment', payment_due_at = $2 WHERE id = $1`, ids[0], now)
		releases = append(releases, holdRow(t, s, ids[1]))
		confs = append(confs, conf)
	}
	done := make(chan time.Duration, 1)
	go func() {
		began := time.Now()
		if _, err := s.ExpireUnpaid(ctx, now.Add(time.Hour)); err != nil {
			t.Error(err)
		}
		done <- time.Since(began)
	}()
	waitForLockWaits(t, s, 1)
	a := fastActors(t, s, "expiry-round-new", 1)[0]
	began := time.Now()
	_, err := s.Register(ctx, confs[2], models.RegistrationInput{Category: "open", FirstName: "N", LastName: "C", Email: a.User.Email}, a, now)
	took := time.Since(began)
	for _, r := range releases {
		r()
	}
	t.Logf("registration took %v (%v); expiry %v", took, err, <-done)
	if took > 1500*time.Millisecond {
		t.Errorf("a registration waited %v behind one expiry round", took)
	}
}

// TestExpiryPromotesSomeoneStaffRegistered: staff registered a delegate
// when the conference was full (waitlisted, created as staff). An unpaid
// registration expires and the job moves the delegate on. Before, the
// promotion recorded its actor, the system (user 0, which no user is), as
// who approved them: the foreign key failed the job's whole round, every
// minute.
func TestExpiryPromotesSomeoneStaffRegistered(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	conf := rushConference(t, s, "staff-registered", "1", 0)
	now := conf.RegistrationOpensAt.Add(time.Hour)
	a := fastActors(t, s, "staff-registered", 1)[0]
	holder, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "H", LastName: "H", Email: a.User.Email}, a, now)
	if err != nil {
		t.Fatal(err)
	}
	var staffID int64
	if err := s.DB().Get(&staffID, `SELECT id FROM users ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	staff.User.ID = staffID
	w, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "W", LastName: "W", Email: "w@example.org"}, staff, now)
	if err != nil || w.Status != models.RegWaitlisted {
		t.Fatalf("fixture: %v %s", err, w.Status)
	}
	s.DB().MustExec(`UPDATE registrations SET status = 'awaiting_payment', payment_due_at = $2 WHERE id = $1`, holder.ID, now)
	n, err := s.ExpireUnpaid(ctx, now.Add(time.Hour))
	t.Logf("expired %d: %v; waiting one now %s", n, err, regStatus(t, s, w.ID))
	if err != nil || n != 1 {
		t.Errorf("the expiry job failed: %d, %v", n, err)
	}
	// Approved on the spot by the staff member who registered them, as when
	// a seat was free at once; not by the system that moved them on.
	var decidedBy *int64
	if err := s.DB().Get(&decidedBy, `SELECT decided_by FROM registrations WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	if decidedBy == nil || *decidedBy != staffID {
		t.Errorf("decided by %v, want the staff member %d who registered them", decidedBy, staffID)
	}
}

// TestAnExpiryRoundWhileTwoConferencesAreBusy: conference B's counts are held
// a while (staff pressing "give a seat now" twice for someone whose badge is
// being printed), and the expiry job has overdue registrations in A and B.
// In A, a member cancels and a batch of scans holds A's first in line while
// it waits for that member. Nothing fails: the job handles one conference's
// counts at a time. Before, one round took A's counts, queued for B's, and
// then waited for A's first in line: the member's cancellation, queued on
// A's counts for over a second, failed with a deadlock.
func TestAnExpiryRoundWhileTwoConferencesAreBusy(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 3 {
		slugA, slugB := fmt.Sprintf("expiry-busy-a-%d", round), fmt.Sprintf("expiry-busy-b-%d", round)
		a, late := lineWithALateHolder(t, s, slugA)
		b := newSeatsAndLine(t, s, slugB)
		now := a.conf.RegistrationOpensAt.Add(time.Hour)
		s.DB().MustExec(`UPDATE registrations SET status = 'awaiting_payment', payment_due_at = $2 WHERE id IN ($1, $3)`,
			a.openHolder, now, b.openHolder)
		first, err := s.Registration(ctx, a.line[0])
		if err != nil {
			t.Fatal(err)
		}
		releaseB := holdRow(t, s, b.line[0])
		p1, p2 := make(chan error, 1), make(chan error, 1)
		go func() { _, err := s.PromoteNow(ctx, b.line[0], staff); p1 <- err }()
		waitForLockWaits(t, s, 1)
		go func() { _, err := s.PromoteNow(ctx, b.line[0], staff); p2 <- err }()
		waitForLockWaits(t, s, 2)
		expired := make(chan error, 1)
		go func() { _, err := s.ExpireUnpaid(ctx, now.Add(time.Hour)); expired <- err }()
		waitForLockWaits(t, s, 3) // the job, for B's counts
		cancelled := make(chan error, 1)
		go func() { _, err := s.Cancel(ctx, late.ID, staff); cancelled <- err }()
		lockWaitsOrDone(t, s, 4, cancelled) // before, it queued on A's counts, which the job held
		scanned := scanBoth(t, s, slugA, first, late)
		if err := <-cancelled; err != nil {
			t.Errorf("round %d: cancel: %v", round, err)
		}
		for i, sc := range <-scanned {
			if sc.err != nil {
				t.Errorf("round %d: scan %d: %v", round, i, sc.err)
			}
		}
		for _, err := range []error{<-p1, <-p2} {
			if err != nil && !errors.Is(err, models.ErrConflict) && !errors.Is(err, models.ErrFull) {
				t.Errorf("round %d: give a seat now: %v", round, err)
			}
		}
		if err := <-expired; err != nil {
			t.Errorf("round %d: expiry: %v", round, err)
		}
		releaseB()
		a.seatsHeld(t, s)
		b.seatsHeld(t, s)
	}
}

// TestSomeoneMovedOnIsMovedOnByNobodyInParticular: a member's cancellation
// moves on a delegate staff registered while the conference was full. The
// delegate's page says the staff member approved them, and their history
// names nobody for the moves a freed seat made (the member who cancelled,
// perhaps of another local, did not approve anyone).
func TestSomeoneMovedOnIsMovedOnByNobodyInParticular(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf := rushConference(t, s, "moved-on", "1", 0)
	now := conf.RegistrationOpensAt.Add(time.Hour)
	member := fastActors(t, s, "moved-on", 1)[0]
	holder, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "Carl", LastName: "Okafor",
		Email: member.User.Email}, member, now)
	if err != nil {
		t.Fatal(err)
	}
	staff := fastActors(t, s, "moved-on-staff", 1)[0]
	s.DB().MustExec(`UPDATE users SET is_staff = true, name = 'Stella Brandt' WHERE id = $1`, staff.User.ID)
	staff.User.IsStaff, staff.User.Name = true, "Stella Brandt"
	w, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "Wen", LastName: "Moreau",
		Email: "wen.moreau@example.org"}, staff, now)
	if err != nil || w.Status != models.RegWaitlisted {
		t.Fatalf("fixture: %v %s", err, w.Status)
	}
	if _, err := s.Cancel(ctx, holder.ID, member); err != nil {
		t.Fatal(err)
	}
	got, err := s.Registration(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != models.RegConfirmed || got.DecidedByName == nil || *got.DecidedByName != staff.User.Name {
		t.Errorf("%s, approved by %v; want confirmed, approved by %s", got.Status, got.DecidedByName, staff.User.Name)
	}
	history, err := s.History(ctx, "registration", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range history {
		if e.ActorID != nil && *e.ActorID == member.User.ID {
			t.Errorf("the history says the member who cancelled did %s", e.Action)
		}
	}
}
