package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"convene/internal/testdb"
	"convene/models"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// fastActors inserts n members directly (no password hashing) for races.
func fastActors(t *testing.T, s *models.Store, prefix string, n int) []models.Actor {
	t.Helper()
	out := make([]models.Actor, n)
	for i := range out {
		var u models.User
		err := s.DB().Get(&u, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, 'x')
			RETURNING id, email, name, password_hash, is_staff, is_admin, created_at`, fmt.Sprintf("%s%03d@example.org", prefix, i), fmt.Sprintf("Member %d", i))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = models.Actor{User: u}
	}
	return out
}

type rushResult struct {
	held, waitlisted, oversold int
	waitOrderOK                bool
}

// rush races one registration per actor into conf at once.
func rush(t *testing.T, s *models.Store, conf models.Conference, actors []models.Actor, sessions []int64) {
	t.Helper()
	now := conf.RegistrationOpensAt.Add(time.Hour)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(actors))
	for i, a := range actors {
		wg.Add(1)
		go func(i int, a models.Actor) {
			defer wg.Done()
			<-start
			_, err := s.Register(context.Background(), conf, models.RegistrationInput{Category: "open", FirstName: "Member",
				LastName: fmt.Sprint(i), Email: a.User.Email, Sessions: sessions}, a, now)
			errs <- err
		}(i, a)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("register during the rush: %v", err)
		}
	}
}

func rushConference(t *testing.T, s *models.Store, slug, capacity string, takenBefore int) models.Conference {
	t.Helper()
	conf := publishedConference(t, s, slug, capacity, models.CategoryInput{Slug: "open", Name: "Open", Price: "0"})
	if takenBefore > 0 {
		rush(t, s, conf, fastActors(t, s, slug+"-early", takenBefore), nil)
	}
	return conf
}

func conferenceOutcome(t *testing.T, s *models.Store, conf models.Conference, capacity int) rushResult {
	t.Helper()
	var rows []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
		Rank   *int64 `db:"waitlist_rank"`
	}
	if err := s.DB().Select(&rows, `SELECT id, status, waitlist_rank FROM registrations WHERE conference_id = $1 ORDER BY id`, conf.ID); err != nil {
		t.Fatal(err)
	}
	var res rushResult
	var ranks []int64
	for _, r := range rows {
		switch r.Status {
		case models.RegConfirmed:
			res.held++
		case models.RegWaitlisted:
			res.waitlisted++
			ranks = append(ranks, *r.Rank)
		}
	}
	var taken int
	s.DB().Get(&taken, `SELECT taken FROM conferences WHERE id = $1`, conf.ID)
	res.oversold = max(res.held-capacity, taken-capacity, 0)
	// Rows are in arrival (id) order; their waiting-list ranks must be too.
	res.waitOrderOK = sort.SliceIsSorted(ranks, func(i, j int) bool { return ranks[i] < ranks[j] })
	return res
}

// TestRushForTheLastSeats races 200 members for the last 50 of 250 seats.
// The control run switches the capacity guard off and must see overselling,
// which shows the test can fail.
func TestRushForTheLastSeats(t *testing.T) {
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guard), func(t *testing.T) {
			s := newStore(t)
			conf := rushConference(t, s, "rush", "250", 200)
			models.SetSeatGuard(guard)
			defer models.SetSeatGuard(true)
			rush(t, s, conf, fastActors(t, s, "racer", 200), nil)
			res := conferenceOutcome(t, s, conf, 250)
			if !guard {
				if res.oversold == 0 {
					t.Fatal("control: with the guard off the test saw no overselling, so it cannot detect it")
				}
				t.Logf("control run oversold by %d, as expected", res.oversold)
				return
			}
			if res.held != 250 || res.waitlisted != 150 || res.oversold != 0 {
				t.Errorf("held %d (want 250), waitlisted %d (want 150), oversold %d", res.held, res.waitlisted, res.oversold)
			}
			if !res.waitOrderOK {
				t.Error("the waiting list is not in arrival order")
			}
			wl, _ := s.Waitlist(context.Background(), conf.ID)
			for i, r := range wl {
				if r.WaitlistPosition != i+1 {
					t.Fatalf("waitlist entry %d has position %d", i, r.WaitlistPosition)
				}
			}
		})
	}
}

func TestRushForATenPlaceWorkshop(t *testing.T) {
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%v", guard), func(t *testing.T) {
			s := newStore(t)
			conf := rushConference(t, s, "ws", "", 0)
			ws, err := s.CreateAgendaSession(context.Background(), conf, models.SessionInput{Title: "Stewards' council", Kind: "workshop",
				StartsAt: "2027-03-05T14:00", EndsAt: "2027-03-05T15:30", Capacity: "10"})
			if err != nil {
				t.Fatal(err)
			}
			models.SetSeatGuard(guard)
			defer models.SetSeatGuard(true)
			rush(t, s, conf, fastActors(t, s, "ws", 200), []int64{ws.ID})
			var held, waiting, taken int
			s.DB().Get(&held, `SELECT count(*) FROM registration_sessions WHERE session_id = $1 AND NOT waitlisted`, ws.ID)
			s.DB().Get(&waiting, `SELECT count(*) FROM registration_sessions WHERE session_id = $1 AND waitlisted`, ws.ID)
			s.DB().Get(&taken, `SELECT taken FROM agenda_sessions WHERE id = $1`, ws.ID)
			if !guard {
				if held <= 10 && taken <= 10 {
					t.Fatal("control: with the guard off the workshop was not oversold, so the test cannot detect it")
				}
				return
			}
			if held != 10 || taken != 10 || waiting != 190 {
				t.Errorf("workshop held %d (taken %d), waitlisted %d; want 10 and 190", held, taken, waiting)
			}
			var regIDs []int64
			s.DB().Select(&regIDs, `SELECT registration_id FROM registration_sessions WHERE session_id = $1 AND waitlisted ORDER BY waitlist_rank`, ws.ID)
			if !sort.SliceIsSorted(regIDs, func(i, j int) bool { return regIDs[i] < regIDs[j] }) {
				t.Error("the workshop's waiting list is not in arrival order")
			}
			// A freed place goes to the first in the workshop's line.
			var first, leaving int64
			s.DB().Get(&leaving, `SELECT registration_id FROM registration_sessions WHERE session_id = $1 AND NOT waitlisted LIMIT 1`, ws.ID)
			first = regIDs[0]
			if _, err := s.Cancel(context.Background(), leaving, models.Actor{User: models.User{ID: 1, IsStaff: true}}); err != nil {
				t.Fatal(err)
			}
			var nowWaiting bool
			s.DB().Get(&nowWaiting, `SELECT waitlisted FROM registration_sessions WHERE session_id = $1 AND registration_id = $2`, ws.ID, first)
			if nowWaiting {
				t.Error("the first in the workshop's line did not get the freed place")
			}
			// Staff add five places: the next five in line get them at once.
			in := models.SessionInput{Title: "Stewards' council", Kind: "workshop",
				StartsAt: "2027-03-05T14:00", EndsAt: "2027-03-05T15:30", Capacity: "15"}
			raised, err := s.UpdateAgendaSession(context.Background(), conf, ws.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			// (The cancelled registration keeps its row, no longer waiting.)
			s.DB().Get(&held, `SELECT count(*) FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
				WHERE rs.session_id = $1 AND NOT rs.waitlisted AND r.holds_seat`, ws.ID)
			s.DB().Get(&waiting, `SELECT count(*) FROM registration_sessions WHERE session_id = $1 AND waitlisted`, ws.ID)
			if held != 15 || raised.Taken != 15 || waiting != 184 {
				t.Errorf("after raising the workshop to 15: held %d (taken %d), waitlisted %d; want 15 and 184", held, raised.Taken, waiting)
			}
			var given []int64
			s.DB().Select(&given, `SELECT registration_id FROM registration_sessions WHERE session_id = $1 AND NOT waitlisted
				AND registration_id = ANY ($2) ORDER BY registration_id`, ws.ID, pq.Array(regIDs[:6]))
			if !slices.Equal(given, regIDs[:6]) {
				t.Errorf("the raised places went to %v, want the first six in line %v", given, regIDs[:6])
			}
		})
	}
}

func TestSeatFreedGoesToFirstInLine(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf := rushConference(t, s, "fifo", "2", 2)
	late := fastActors(t, s, "late", 3)
	for _, a := range late {
		rush(t, s, conf, []models.Actor{a}, nil)
	}
	wl, _ := s.Waitlist(ctx, conf.ID)
	if len(wl) != 3 {
		t.Fatalf("waitlist %d", len(wl))
	}
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	// Staff move the third up to second.
	if err := s.MoveOnWaitlist(ctx, wl[2].ID, true, wl[1].ID, staff); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveOnWaitlist(ctx, wl[2].ID, true, wl[1].ID, late[0]); err == nil {
		t.Error("a member reordered the waiting list")
	}
	var holder int64
	s.DB().Get(&holder, `SELECT id FROM registrations WHERE conference_id = $1 AND status = 'confirmed' ORDER BY id LIMIT 1`, conf.ID)
	if _, err := s.Cancel(ctx, holder, staff); err != nil {
		t.Fatal(err)
	}
	first, _ := s.Registration(ctx, wl[0].ID)
	if first.Status != models.RegConfirmed {
		t.Errorf("first in line: %s, want confirmed", first.Status)
	}
	wl2, _ := s.Waitlist(ctx, conf.ID)
	if len(wl2) != 2 || wl2[0].ID != wl[2].ID || wl2[0].WaitlistPosition != 1 {
		t.Errorf("after promotion the line is %v", wl2)
	}
	// No seat: moving someone on by hand is refused.
	if _, err := s.PromoteNow(ctx, wl2[0].ID, staff); err == nil {
		t.Error("promoted with no free seat")
	}
}

// Two app processes run the expiry job at once: each overdue registration
// is cancelled once, and each freed seat goes to the waiting list once.
func TestExpiryJobTwoProcesses(t *testing.T) {
	db, dsn := testdb.New(t)
	s := models.NewStore(db)
	ctx := context.Background()
	in := validConference("expiry")
	in.Capacity = "20"
	in.PaymentDueDays = "3"
	conf, _ := s.CreateConference(ctx, in)
	conf, _ = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished)
	if _, err := s.CreateCategory(ctx, conf, models.CategoryInput{Slug: "open", Name: "Open", Price: "40"}); err != nil {
		t.Fatal(err)
	}
	rush(t, s, conf, fastActors(t, s, "payer", 20), nil)
	rush(t, s, conf, fastActors(t, s, "waiter", 30), nil)
	var due time.Time
	if err := s.DB().Get(&due, `SELECT max(payment_due_at) FROM registrations WHERE status = 'awaiting_payment'`); err != nil {
		t.Fatal(err)
	}
	// One second before the deadline nothing expires.
	if n, err := s.ExpireUnpaid(ctx, due.Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("before the deadline: %d %v", n, err)
	}
	other, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	procs := []*models.Store{s, models.NewStore(other)}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, p := range procs {
		wg.Add(1)
		go func(i int, p *models.Store) {
			defer wg.Done()
			n, err := p.ExpireUnpaid(ctx, due)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}(i, p)
	}
	wg.Wait()
	// The first 20 expired; the 20 promoted are now awaiting payment with a
	// fresh deadline, and 10 still wait.
	if counts[0]+counts[1] != 20 {
		t.Errorf("processes cancelled %d + %d, want 20 in all", counts[0], counts[1])
	}
	var cancelledTwice, promotedTwice int
	s.DB().Get(&cancelledTwice, `SELECT count(*) FROM (SELECT entity_id FROM audit_log WHERE action = 'status_cancelled' GROUP BY entity_id HAVING count(*) > 1) x`)
	s.DB().Get(&promotedTwice, `SELECT count(*) FROM (SELECT entity_id FROM audit_log WHERE action = 'status_submitted' GROUP BY entity_id HAVING count(*) > 1) x`)
	var promoted, waiting, taken int
	s.DB().Get(&promoted, `SELECT count(DISTINCT entity_id) FROM audit_log WHERE action = 'status_submitted'`)
	s.DB().Get(&waiting, `SELECT count(*) FROM registrations WHERE status = 'waitlisted'`)
	s.DB().Get(&taken, `SELECT taken FROM conferences WHERE id = $1`, conf.ID)
	if cancelledTwice != 0 || promotedTwice != 0 || promoted != 20 || waiting != 10 || taken != 20 {
		t.Errorf("cancelled twice %d, promoted twice %d, promoted %d (want 20), waiting %d (want 10), taken %d (want 20)",
			cancelledTwice, promotedTwice, promoted, waiting, taken)
	}
}

// TestSeatRowKeysHoldAtCommit: the keys from a registration to its conference,
// category and workshops are checked at commit since migration 00007, not
// dropped: a transaction that writes a dangling one cannot commit.
func TestSeatRowKeysHoldAtCommit(t *testing.T) {
	s := newStore(t)
	conf := rushConference(t, s, "keys", "10", 1)
	for name, q := range map[string]string{
		"conference": `UPDATE registrations SET conference_id = -1 WHERE conference_id = $1`,
		"category":   `UPDATE registrations SET category_id = -1 WHERE conference_id = $1`,
		"workshop":   `INSERT INTO registration_sessions (registration_id, session_id) SELECT id, -1 FROM registrations WHERE conference_id = $1`,
	} {
		tx, err := s.DB().Beginx()
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(q, conf.ID)
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err == nil || !strings.Contains(err.Error(), "foreign key") {
			t.Errorf("%s: a dangling key: %v, want a foreign key violation", name, err)
		}
	}
}

// TestAuditTrailOfARegistration: approval on the spot records each move in
// order, and a registration that expected a seat and lost it to another
// keeps nothing of the moves it undid.
func TestAuditTrailOfARegistration(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf := rushConference(t, s, "trail", "1", 0)
	actors := fastActors(t, s, "trail", 2)
	now := conf.RegistrationOpensAt.Add(time.Hour)
	trail := func(r models.Registration) string {
		h, err := s.History(ctx, "registration", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range h {
			out = append(out, e.Action+string(e.Details))
		}
		return strings.Join(out, " ")
	}
	// conf still says no seat is taken, so both go for a seat first.
	for i, want := range []string{
		`registration_submitted{"category": "open", "created_as": "self", "price_cents": 0} ` +
			`status_approved{"from": "submitted", "verification": "No membership check is needed for this registration type."} ` +
			`status_confirmed{"from": "approved"}`,
		`registration_submitted{"category": "open", "created_as": "self", "price_cents": 0} ` +
			`status_waitlisted{"from": "submitted", "reason": "full"}`,
	} {
		r, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "Member", LastName: fmt.Sprint(i),
			Email: actors[i].User.Email}, actors[i], now)
		if err != nil {
			t.Fatal(err)
		}
		if got := trail(r); got != want {
			t.Errorf("registration %d (%s): audit trail\n%s\nwant\n%s", i, r.Status, got, want)
		}
	}
	if res := conferenceOutcome(t, s, conf, 1); res.held != 1 || res.waitlisted != 1 || res.oversold != 0 {
		t.Errorf("held %d, waitlisted %d, oversold %d; want 1, 1, 0", res.held, res.waitlisted, res.oversold)
	}
}

// TestSeatGoneSinceItWasReadUndoesTheRegistration: a registration that
// expects a seat stores itself and takes the seat in one statement. When
// the seat went since it was read, that statement must undo all of itself,
// the counters included, and the registration goes on the waiting list.
//
//   - conference full: registered with the conference as read before its
//     last seat went (a stale read), with room left in the category;
//   - category full: 40 members race for a category of 10 in a conference
//     with room (Register reads the categories itself, so only a race makes
//     that read stale).
func TestSeatGoneSinceItWasReadUndoesTheRegistration(t *testing.T) {
	for _, full := range []string{"conference", "category"} {
		t.Run(full+" full", func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			in := validConference("stale")
			if full == "conference" {
				in.Capacity = "1"
			}
			conf, err := s.CreateConference(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			conf, _ = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished)
			cat := models.CategoryInput{Slug: "open", Name: "Open", Price: "0"}
			if full == "category" {
				cat.Capacity = "10"
			}
			if _, err := s.CreateCategory(ctx, conf, cat); err != nil {
				t.Fatal(err)
			}
			stale, err := s.ConferenceBySlug(ctx, conf.Slug, true)
			if err != nil {
				t.Fatal(err)
			}
			want := struct{ held, waitlisted int }{1, 1}
			if full == "category" {
				rush(t, s, stale, fastActors(t, s, "racer", 40), nil)
				want.held, want.waitlisted = 10, 30
			} else {
				now := stale.RegistrationOpensAt.Add(time.Hour)
				for i, a := range fastActors(t, s, "stale", 2) {
					if _, err := s.Register(ctx, stale, models.RegistrationInput{Category: "open", FirstName: "Member",
						LastName: fmt.Sprint(i), Email: a.User.Email}, a, now); err != nil {
						t.Fatalf("registration %d: %v", i, err)
					}
				}
			}
			var n struct {
				Conference int `db:"conference"`
				Category   int `db:"category"`
				Held       int `db:"held"`
				Waitlisted int `db:"waitlisted"`
				Orphans    int `db:"orphans"`
			}
			err = s.DB().Get(&n, `SELECT (SELECT taken FROM conferences WHERE id = $1) AS conference,
				(SELECT taken FROM categories WHERE conference_id = $1) AS category,
				(SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'confirmed' AND holds_seat) AS held,
				(SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'waitlisted' AND NOT holds_seat) AS waitlisted,
				(SELECT count(*) FROM audit_log a WHERE a.entity = 'registration'
					AND NOT EXISTS (SELECT FROM registrations r WHERE r.id = a.entity_id)) AS orphans`, conf.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n.Held != want.held || n.Waitlisted != want.waitlisted {
				t.Errorf("%d confirmed and %d waitlisted, want %d and %d", n.Held, n.Waitlisted, want.held, want.waitlisted)
			}
			if n.Conference != want.held || n.Category != want.held || n.Orphans != 0 {
				t.Errorf("seats taken: conference %d, category %d (want %d each); %d audit entries of no registration",
					n.Conference, n.Category, want.held, n.Orphans)
			}
		})
	}
}

// waitingLine makes a conference whose one seat is taken, with n people on
// its waiting list, and returns what reads their ids in line order.
func waitingLine(t *testing.T, s *models.Store, slug string, n int) (line func() []int64) {
	t.Helper()
	conf := rushConference(t, s, slug, "1", 1)
	for _, a := range fastActors(t, s, "line", n) {
		rush(t, s, conf, []models.Actor{a}, nil)
	}
	return func() []int64 {
		t.Helper()
		var ids []int64
		if err := s.DB().Select(&ids, `SELECT id FROM registrations WHERE conference_id = $1 AND status = 'waitlisted' ORDER BY waitlist_rank`, conf.ID); err != nil {
			t.Fatal(err)
		}
		if len(ids) != n {
			t.Fatalf("%d people on the waiting list, want %d", len(ids), n)
		}
		return ids
	}
}

// TestStaffReorderTheLineAtOnce has two staff members swap the same two
// neighbours on the waiting list at the same moment, one moving the first
// down and the other moving the second up, many times over. Both meant the
// same swap: it is made once, and the other move is refused as a conflict,
// not made again with someone its staff member did not see. Before, each
// move locked its own person first and then the other, and PostgreSQL
// failed one of them with a deadlock.
func TestStaffReorderTheLineAtOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	line := waitingLine(t, s, "reorder", 6)
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 40 {
		before := line()
		i := round % 5
		ahead, behind := before[i], before[i+1]
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; errs[0] = s.MoveOnWaitlist(ctx, ahead, false, behind, staff) })
		wg.Go(func() { <-start; errs[1] = s.MoveOnWaitlist(ctx, behind, true, ahead, staff) })
		close(start)
		wg.Wait()
		refused := 0
		for k, err := range errs {
			switch {
			case errors.Is(err, models.ErrConflict):
				refused++
			case err != nil:
				t.Fatalf("round %d, move %d: %v", round, k, err)
			}
		}
		want := slices.Clone(before)
		want[i], want[i+1] = want[i+1], want[i]
		if got := line(); refused != 1 || !slices.Equal(got, want) {
			t.Fatalf("round %d: %d moves refused and the line went from %v to %v, want one refused and %v", round, refused, before, got, want)
		}
	}
}

// TestMoveOnALineThatChanged: a move whose page showed another neighbour
// than the one there now, or nobody where someone is now, is refused and
// changes nothing.
func TestMoveOnALineThatChanged(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	line := waitingLine(t, s, "changed", 3)
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	ids := line()
	a, b, c := ids[0], ids[1], ids[2]
	// Someone else moved c ahead of b: the line is a c b.
	if err := s.MoveOnWaitlist(ctx, c, true, b, staff); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		id, neighbour int64
		up            bool
	}{
		{b, a, true},      // the page showed a ahead of b; c is there now
		{a, b, false},     // the page showed b behind a; c is there now
		{c, a, false},     // a is ahead of c, not behind it
		{a, c, true},      // a is first: nobody is ahead of it
		{c, 999999, true}, // nobody of that number
		{c, 0, false},     // the page showed c last; b is behind it now
		{b, 0, true},      // the page showed b first; c is ahead of it now
	} {
		err := s.MoveOnWaitlist(ctx, m.id, m.up, m.neighbour, staff)
		if !errors.Is(err, models.ErrConflict) {
			t.Errorf("move %d (up %v) past %d: %v, want a conflict", m.id, m.up, m.neighbour, err)
		}
	}
	if got := line(); !slices.Equal(got, []int64{a, c, b}) {
		t.Errorf("line %v, want %v unchanged", got, []int64{a, c, b})
	}
	// The first up and the last down, as the page showed them, do nothing.
	if err := s.MoveOnWaitlist(ctx, a, true, 0, staff); err != nil {
		t.Errorf("moving the first up: %v", err)
	}
	if err := s.MoveOnWaitlist(ctx, b, false, 0, staff); err != nil {
		t.Errorf("moving the last down: %v", err)
	}
	// With the neighbour that is there, it moves.
	if err := s.MoveOnWaitlist(ctx, b, true, c, staff); err != nil {
		t.Fatal(err)
	}
	if got := line(); !slices.Equal(got, []int64{a, b, c}) {
		t.Errorf("line %v, want %v", got, []int64{a, b, c})
	}
}

// TestARemovedCapacitySeatsTheWholeLine: staff take the capacity off a
// full conference with 250 people waiting, more than one transaction moves
// on (200). Everyone waiting is seated by the edit itself; an edit that
// frees nothing leaves the line alone.
func TestARemovedCapacitySeatsTheWholeLine(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf := rushConference(t, s, "unlimited", "10", 10)
	for _, a := range fastActors(t, s, "late", 250) {
		rush(t, s, conf, []models.Actor{a}, nil)
	}
	res := conferenceOutcome(t, s, conf, 10)
	if res.held != 10 || res.waitlisted != 250 {
		t.Fatalf("fixture: %d seated, %d waiting", res.held, res.waitlisted)
	}
	in := conf.Input()
	in.Title = "Renamed"
	if _, err := s.UpdateConference(ctx, conf.ID, in); err != nil {
		t.Fatal(err)
	}
	if wl, _ := s.Waitlist(ctx, conf.ID); len(wl) != 250 {
		t.Fatalf("a new title moved the line: %d waiting, want 250", len(wl))
	}
	in.Capacity = ""
	updated, err := s.UpdateConference(ctx, conf.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	res = conferenceOutcome(t, s, conf, 10)
	if res.held != 260 || res.waitlisted != 0 || updated.Taken != 260 {
		t.Errorf("after the capacity came off: %d seated, %d waiting, taken %d; want 260, 0, 260", res.held, res.waitlisted, updated.Taken)
	}
}
