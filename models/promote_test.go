package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"convene/models"
)

// seatsAndLine is a conference of two seats, held by a member of each of its
// two registration types, with three people waiting for a seat: a retiree
// first, then two open members.
type seatsAndLine struct {
	conf                  models.Conference
	openHolder, retHolder int64
	line                  []int64 // first to last
}

func newSeatsAndLine(t *testing.T, s *models.Store, slug string) seatsAndLine {
	t.Helper()
	ctx := context.Background()
	in := validConference(slug)
	in.Capacity = "2"
	conf, err := s.CreateConference(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if conf, err = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"open", "retiree"} {
		if _, err := s.CreateCategory(ctx, conf, models.CategoryInput{Slug: c, Name: c, Price: "0"}); err != nil {
			t.Fatal(err)
		}
	}
	now := conf.RegistrationOpensAt.Add(time.Hour)
	var ids []int64
	for i, a := range fastActors(t, s, slug, 5) {
		kind := []string{"open", "retiree", "retiree", "open", "open"}[i]
		r, err := s.Register(ctx, conf, models.RegistrationInput{Category: kind, FirstName: "Member",
			LastName: fmt.Sprint(i), Email: a.User.Email}, a, now)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	f := seatsAndLine{conf: conf, openHolder: ids[0], retHolder: ids[1], line: ids[2:]}
	for i, want := range []string{models.RegConfirmed, models.RegConfirmed, models.RegWaitlisted, models.RegWaitlisted, models.RegWaitlisted} {
		if got := regStatus(t, s, ids[i]); got != want {
			t.Fatalf("fixture: registration %d is %s, want %s", i, got, want)
		}
	}
	return f
}

func regStatus(t *testing.T, s *models.Store, id int64) string {
	t.Helper()
	var st string
	if err := s.DB().Get(&st, `SELECT status FROM registrations WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return st
}

// waiting is the conference's waiting list, first to last.
func (f seatsAndLine) waiting(t *testing.T, s *models.Store) []int64 {
	t.Helper()
	var ids []int64
	if err := s.DB().Select(&ids, `SELECT id FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'
		ORDER BY waitlist_rank, id`, f.conf.ID); err != nil {
		t.Fatal(err)
	}
	return ids
}

// seatsHeld checks the conference's and its categories' seat counts against
// the registrations holding seats.
func (f seatsAndLine) seatsHeld(t *testing.T, s *models.Store) {
	t.Helper()
	var bad []string
	if err := s.DB().Select(&bad, `SELECT c.slug || ': taken ' || c.taken || ', held ' || count(r.id)
		FROM categories c LEFT JOIN registrations r ON r.category_id = c.id AND r.holds_seat
		WHERE c.conference_id = $1 GROUP BY c.id HAVING c.taken <> count(r.id)
		UNION ALL
		SELECT 'conference: taken ' || c.taken || ', held ' || count(r.id)
		FROM conferences c LEFT JOIN registrations r ON r.conference_id = c.id AND r.holds_seat
		WHERE c.id = $1 GROUP BY c.id HAVING c.taken <> count(r.id) OR c.taken > 2`, f.conf.ID); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("seat counts disagree with the seats held: %v", bad)
	}
}

// TestTwoCancellationsInTwoTypesAtOnce: two members of different
// registration types cancel at the same moment while a retiree is first in
// line. Each cancellation gives back its type's seat and the conference's,
// and one of them then takes a seat of the retiree type for the first in
// line. Before, a cancellation took its own type's row, then the
// conference's, then the retirees' for the promotion, while the retiree's
// own cancellation held the retirees' row and waited for the conference's:
// PostgreSQL found the deadlock and failed one of them.
func TestTwoCancellationsInTwoTypesAtOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 20 {
		f := newSeatsAndLine(t, s, fmt.Sprintf("two-cancel-%d", round))
		errs := make([]error, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, id := range []int64{f.openHolder, f.retHolder} {
			wg.Go(func() { <-start; _, errs[i] = s.Cancel(ctx, id, staff) })
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: cancellation %d: %v", round, i, err)
			}
		}
		if got := f.waiting(t, s); !slices.Equal(got, f.line[2:]) {
			t.Fatalf("round %d: waiting %v, want %v: the first two in line take the two seats", round, got, f.line[2:])
		}
		f.seatsHeld(t, s)
	}
}

// holdRow locks a registration's row in a transaction of its own, as a scan
// at the door or a badge print run does for a moment, until release.
func holdRow(t *testing.T, s *models.Store, id int64) (release func()) {
	t.Helper()
	tx, err := s.DB().Beginx()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT id FROM registrations WHERE id = $1 FOR UPDATE`, id); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// TestTheFirstInLineGetsTheSeatWhileTheirRowIsBusy: a seat frees while the
// first in line's row is locked for a moment (their badge is being scanned,
// say). The seat waits for them rather than going to the second in line.
func TestTheFirstInLineGetsTheSeatWhileTheirRowIsBusy(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	f := newSeatsAndLine(t, s, "busy-first")
	release := holdRow(t, s, f.line[0])
	done := make(chan error, 1)
	go func() { _, err := s.Cancel(ctx, f.openHolder, staff); done <- err }()
	// The cancellation waits for the row (on the old code it did not, and
	// gave the seat to the second).
	var err error
	waited := false
	for deadline := time.Now().Add(10 * time.Second); !waited && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case err = <-done:
			waited = true
			done <- err
		default:
			var k int
			if err := s.DB().Get(&k, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
				t.Fatal(err)
			}
			waited = k > 0
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := regStatus(t, s, f.line[0]); got != models.RegConfirmed {
		t.Errorf("first in line is %s, want confirmed", got)
	}
	if got := f.waiting(t, s); !slices.Equal(got, f.line[1:]) {
		t.Errorf("waiting %v, want %v", got, f.line[1:])
	}
	f.seatsHeld(t, s)
}

// TestTheFirstInLineBusyTooLongKeepsTheirPlace: if the first in line's row
// stays locked past the wait, the seat goes to the next in line (someone
// waits for a seat at that moment, and a seat left empty would go to the
// next person to register), and the first keeps first place for the next
// seat. The cancellation does not hang.
func TestTheFirstInLineBusyTooLongKeepsTheirPlace(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	f := newSeatsAndLine(t, s, "busy-long")
	release := holdRow(t, s, f.line[0])
	defer release()
	began := time.Now()
	if _, err := s.Cancel(ctx, f.openHolder, staff); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the cancellation took %v", took)
	}
	release()
	if got := regStatus(t, s, f.line[1]); got != models.RegConfirmed {
		t.Errorf("second in line is %s, want confirmed", got)
	}
	if got := f.waiting(t, s); !slices.Equal(got, []int64{f.line[0], f.line[2]}) {
		t.Errorf("waiting %v, want %v", got, []int64{f.line[0], f.line[2]})
	}
	f.seatsHeld(t, s)
}

// TestPromoteTheFirstInLineWhileASeatFrees: staff move the first in line on
// by hand just as a seat frees. Whichever goes first, the first in line ends
// up with the seat, the second still waits, and staff are told why their
// move was not needed. Before, the staff member's move locked the first in
// line's row and then waited for the seat counts, the cancellation skipped
// the locked row and gave the seat to the second, and the move then found
// no seat.
func TestPromoteTheFirstInLineWhileASeatFrees(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 20 {
		f := newSeatsAndLine(t, s, fmt.Sprintf("promote-race-%d", round))
		var promoteErr, cancelErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; _, promoteErr = s.PromoteNow(ctx, f.line[0], staff) })
		wg.Go(func() { <-start; _, cancelErr = s.Cancel(ctx, f.openHolder, staff) })
		close(start)
		wg.Wait()
		if cancelErr != nil {
			t.Fatalf("round %d: cancel: %v", round, cancelErr)
		}
		if promoteErr != nil && !errors.Is(promoteErr, models.ErrFull) && !errors.Is(promoteErr, models.ErrConflict) {
			t.Fatalf("round %d: promote: %v", round, promoteErr)
		}
		if got := f.waiting(t, s); !slices.Equal(got, f.line[1:]) {
			t.Fatalf("round %d: waiting %v, want %v (promote: %v)", round, got, f.line[1:], promoteErr)
		}
		f.seatsHeld(t, s)
	}
}

// TestMoveUpWhileASeatFrees: staff move the second in line up just as a seat
// frees. Either the move goes first and the one moved up takes the seat, or
// the seat goes to the first and the move is refused because the line
// changed; the third never jumps both. Before, the move held both rows and
// the cancellation skipped them.
func TestMoveUpWhileASeatFrees(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 20 {
		f := newSeatsAndLine(t, s, fmt.Sprintf("move-race-%d", round))
		var moveErr, cancelErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; moveErr = s.MoveOnWaitlist(ctx, f.line[1], true, f.line[0], staff) })
		wg.Go(func() { <-start; _, cancelErr = s.Cancel(ctx, f.openHolder, staff) })
		close(start)
		wg.Wait()
		if cancelErr != nil {
			t.Fatalf("round %d: cancel: %v", round, cancelErr)
		}
		want := []int64{f.line[0], f.line[2]} // the move went first
		if moveErr != nil {
			if !errors.Is(moveErr, models.ErrConflict) {
				t.Fatalf("round %d: move: %v", round, moveErr)
			}
			want = f.line[1:]
		}
		if got := f.waiting(t, s); !slices.Equal(got, want) {
			t.Fatalf("round %d: waiting %v, want %v (move: %v)", round, got, want, moveErr)
		}
		f.seatsHeld(t, s)
	}
}
