package models_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

// publishedConference makes a published conference of capacity seats with
// these registration types.
func publishedConference(t *testing.T, s *models.Store, slug, capacity string, types ...models.CategoryInput) models.Conference {
	t.Helper()
	ctx := context.Background()
	in := validConference(slug)
	in.Capacity = capacity
	conf, err := s.CreateConference(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if conf, err = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished); err != nil {
		t.Fatal(err)
	}
	for _, c := range types {
		if _, err := s.CreateCategory(ctx, conf, c); err != nil {
			t.Fatal(err)
		}
	}
	return conf
}

func newSeatsAndLine(t *testing.T, s *models.Store, slug string) seatsAndLine {
	t.Helper()
	ctx := context.Background()
	conf := publishedConference(t, s, slug, "2",
		models.CategoryInput{Slug: "open", Name: "Open", Price: "0"}, models.CategoryInput{Slug: "retiree", Name: "Retiree", Price: "0"})
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

// allAtOnce runs ops at the same moment and returns what each returned.
func allAtOnce(ops ...func() error) []error {
	errs := make([]error, len(ops))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() { <-start; errs[i] = op() })
	}
	close(start)
	wg.Wait()
	return errs
}

// refusedOrNil fails the test for an error other than a conflict or "full".
func refusedOrNil(t *testing.T, round int, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil && !errors.Is(err, models.ErrConflict) && !errors.Is(err, models.ErrFull) {
			t.Errorf("round %d: operation %d: %v", round, i, err)
		}
	}
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
	if bad := seatCountProblems(t, s, f.conf.ID); len(bad) > 0 {
		t.Fatalf("seat counts disagree with the seats held: %v", bad)
	}
}

// seatCountsAgainstHolders is SQL listing, for conference $1, each
// registration type and the conference whose seat count is not the number
// of registrations holding a seat there, or is past its capacity.
const seatCountsAgainstHolders = `
	SELECT 'category ' || c.slug || ': taken ' || c.taken || ', held ' || count(r.id)
	FROM categories c LEFT JOIN registrations r ON r.category_id = c.id AND r.holds_seat
	WHERE c.conference_id = $1 GROUP BY c.id HAVING c.taken <> count(r.id) OR c.taken > coalesce(c.capacity, c.taken)
	UNION ALL
	SELECT 'conference: taken ' || c.taken || ', held ' || count(r.id)
	FROM conferences c LEFT JOIN registrations r ON r.conference_id = c.id AND r.holds_seat
	WHERE c.id = $1 GROUP BY c.id HAVING c.taken <> count(r.id) OR c.taken > c.capacity`

func seatCountProblems(t *testing.T, s *models.Store, conferenceID int64) []string {
	t.Helper()
	var bad []string
	if err := s.DB().Select(&bad, seatCountsAgainstHolders, conferenceID); err != nil {
		t.Fatal(err)
	}
	return bad
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
		errs := allAtOnce(
			func() error { _, err := s.Cancel(ctx, f.openHolder, staff); return err },
			func() error { _, err := s.Cancel(ctx, f.retHolder, staff); return err })
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
	lockWaitsOrDone(t, s, 1, done)
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
		errs := allAtOnce(
			func() error { _, err := s.PromoteNow(ctx, f.line[0], staff); return err },
			func() error { _, err := s.Cancel(ctx, f.openHolder, staff); return err })
		promoteErr, cancelErr := errs[0], errs[1]
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
		errs := allAtOnce(
			func() error { return s.MoveOnWaitlist(ctx, f.line[1], true, f.line[0], staff) },
			func() error { _, err := s.Cancel(ctx, f.openHolder, staff); return err })
		moveErr, cancelErr := errs[0], errs[1]
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

// lineWithALateHolder is newSeatsAndLine with a third seat, given by staff to
// a member who registered after the line formed: a seat holder whose id is
// higher than everyone's in line, so a batch of scans locks the line's rows
// first.
func lineWithALateHolder(t *testing.T, s *models.Store, slug string) (seatsAndLine, models.Registration) {
	t.Helper()
	ctx := context.Background()
	f := newSeatsAndLine(t, s, slug)
	a := fastActors(t, s, slug+"-late", 1)[0]
	late, err := s.Register(ctx, f.conf, models.RegistrationInput{Category: "open", FirstName: "Late", LastName: "Comer",
		Email: a.User.Email}, a, f.conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The late member waits behind the line; staff add a seat and give it
	// to them by hand.
	if _, err := s.DB().Exec(`UPDATE conferences SET capacity = 3 WHERE id = $1`, f.conf.ID); err != nil {
		t.Fatal(err)
	}
	if late, err = s.PromoteNow(ctx, late.ID, models.Actor{User: models.User{ID: 1, IsStaff: true}}); err != nil {
		t.Fatal(err)
	}
	if late.Status != models.RegConfirmed || late.ID < f.line[2] {
		t.Fatalf("fixture: the late holder is %s, id %d", late.Status, late.ID)
	}
	if f.conf, err = s.ConferenceBySlug(ctx, slug, true); err != nil {
		t.Fatal(err)
	}
	return f, late
}

// lockWaitsOrDone waits until n statements of the test's database wait for
// a lock, or done (when not nil) has a value, put back for the caller;
// false when done came first.
func lockWaitsOrDone(t *testing.T, s *models.Store, n int, done chan error) bool {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err
			return false
		default:
		}
		var k int
		if err := s.DB().Get(&k, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if k >= n {
			return true
		}
	}
	t.Fatalf("fewer than %d statements wait for a lock", n)
	return false
}

// scanBoth scans two badges at the door in one batch.
func scanBoth(t *testing.T, s *models.Store, slug string, a, b models.Registration) chan []scanResult {
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	scanned := make(chan []scanResult, 1)
	go func() {
		var send []func() scanResult
		for _, tok := range []string{*a.TicketToken, *b.TicketToken} {
			send = append(send, func() scanResult {
				ci, replayed, err := s.CheckIn(context.Background(), slug, tok, "", staff)
				return scanResult{ci, replayed, err}
			})
		}
		scanned <- scanTogether(t, s, send)
	}()
	return scanned
}

// TestTheFirstInLineScannedWithTheCancellingMember: the cancelling member and
// the first in line are scanned at the door in one batch just as the
// cancellation reaches the line. The batch holds the first in line's row and
// waits for the cancelling member's, which the cancellation holds, so the
// cancellation cannot have the first in line's row until it commits. It
// commits without giving the seat on, then gives it to the first in line.
func TestTheFirstInLineScannedWithTheCancellingMember(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 3 {
		slug := fmt.Sprintf("scan-first-%d", round)
		f, late := lineWithALateHolder(t, s, slug)
		first, err := s.Registration(ctx, f.line[0])
		if err != nil {
			t.Fatal(err)
		}
		// A registration committing its seat counts holds the cancellation
		// up for a moment, until the batch is waiting.
		counts, err := s.DB().Beginx()
		if err != nil {
			t.Fatal(err)
		}
		counts.MustExec(`SELECT FROM conferences WHERE id = $1 FOR NO KEY UPDATE`, f.conf.ID)
		cancelled := make(chan error, 1)
		go func() { _, err := s.Cancel(ctx, late.ID, staff); cancelled <- err }()
		waitForLockWaits(t, s, 1)
		scanned := scanBoth(t, s, slug, first, late)
		waitForLockWaits(t, s, 2)
		counts.Rollback()
		if err := <-cancelled; err != nil {
			t.Fatalf("round %d: cancel: %v", round, err)
		}
		scans := <-scanned
		for i, want := range []string{"not_confirmed", "cancelled"} {
			if scans[i].err != nil || scans[i].ci.Result != want {
				t.Errorf("round %d: scan %d: %q, %v; want %s", round, i, scans[i].ci.Result, scans[i].err, want)
			}
		}
		if got := f.waiting(t, s); !slices.Equal(got, f.line[1:]) {
			t.Errorf("round %d: waiting %v, want %v: the first in line takes the seat", round, got, f.line[1:])
		}
		f.seatsHeld(t, s)
	}
}

// TestAMoveAScanAndACancellationAtOnce: staff move the second in line up
// while a print holds the first's row for a moment; a member cancels; a
// batch at the door scans the second in line and the cancelling member.
// When the print lets go, nothing may wait in a circle: the cancellation
// and the scans succeed, and the move either happens or is refused as a
// conflict. Before, the move held a share of the conference's row while it
// waited for the scan, which waited for the cancellation, which waited for
// the move, and PostgreSQL failed the cancellation.
func TestAMoveAScanAndACancellationAtOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 3 {
		slug := fmt.Sprintf("move-scan-cancel-%d", round)
		f, late := lineWithALateHolder(t, s, slug)
		second, err := s.Registration(ctx, f.line[1])
		if err != nil {
			t.Fatal(err)
		}
		release := holdRow(t, s, f.line[0]) // the print, for a moment
		moved := make(chan error, 1)
		go func() { moved <- s.MoveOnWaitlist(ctx, f.line[1], true, f.line[0], staff) }()
		waitForLockWaits(t, s, 1)
		cancelled := make(chan error, 1)
		go func() { _, err := s.Cancel(ctx, late.ID, staff); cancelled <- err }()
		waiting := lockWaitsOrDone(t, s, 2, cancelled)
		var scanned chan []scanResult
		if waiting {
			scanned = scanBoth(t, s, slug, second, late)
			waitForLockWaits(t, s, 3)
		}
		release()
		if err := <-cancelled; err != nil {
			t.Errorf("round %d: cancel: %v", round, err)
		}
		if err := <-moved; err != nil && !errors.Is(err, models.ErrConflict) {
			t.Errorf("round %d: move: %v", round, err)
		}
		if scanned != nil {
			for i, sc := range <-scanned {
				if sc.err != nil {
					t.Errorf("round %d: scan %d: %v", round, i, sc.err)
				}
			}
		}
		if got := f.waiting(t, s); len(got) != 2 {
			t.Errorf("round %d: waiting %v, want two left", round, got)
		}
		f.seatsHeld(t, s)
	}
}

// TestStaffOnABusyRowDoNotHoldUpRegistrations: staff move someone on the
// line, or promote them by hand, while that person's row is locked for a
// while (a badge print). New registrations of the conference go on; the
// staff member is told to try again in a moment.
func TestStaffOnABusyRowDoNotHoldUpRegistrations(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for _, tc := range []struct {
		name string
		act  func(f seatsAndLine) error
	}{
		{"promote", func(f seatsAndLine) error { _, err := s.PromoteNow(ctx, f.line[0], staff); return err }},
		{"move", func(f seatsAndLine) error { return s.MoveOnWaitlist(ctx, f.line[1], true, f.line[0], staff) }},
	} {
		f := newSeatsAndLine(t, s, "busy-staff-"+tc.name)
		if _, err := s.DB().Exec(`UPDATE conferences SET capacity = 3 WHERE id = $1`, f.conf.ID); err != nil {
			t.Fatal(err)
		}
		release := holdRow(t, s, f.line[0])
		done := make(chan error, 1)
		go func() { done <- tc.act(f) }()
		waitForLockWaits(t, s, 1)
		a := fastActors(t, s, "busy-staff-new-"+tc.name, 1)[0]
		began := time.Now()
		newcomer, err := s.Register(ctx, f.conf, models.RegistrationInput{Category: "open", FirstName: "New", LastName: "Comer",
			Email: a.User.Email}, a, f.conf.RegistrationOpensAt.Add(time.Hour))
		took := time.Since(began)
		if err != nil {
			t.Fatal(err)
		}
		if took > 1500*time.Millisecond {
			t.Errorf("%s: a registration waited %v behind staff waiting for a busy row", tc.name, took)
		}
		err = <-done
		release()
		if !errors.Is(err, models.ErrConflict) || !strings.Contains(err.Error(), "try again in a moment") {
			t.Errorf("%s on a busy row: %v, want a conflict saying to try again", tc.name, err)
		}
		// The line is as it was, the newcomer behind it: those waiting
		// come first for the seat staff added.
		if got, want := f.waiting(t, s), append(slices.Clone(f.line), newcomer.ID); !slices.Equal(got, want) {
			t.Errorf("%s: waiting %v, want %v: unchanged, the newcomer last", tc.name, got, want)
		}
	}
}

// TestACancellationGivenUpWhileWaiting: the member gives up on a cancellation
// while it waits for the first in line's row. It is undone as a whole, and no
// pooled connection is left in a transaction or with the wait's lock
// timeout.
func TestACancellationGivenUpWhileWaiting(t *testing.T) {
	s := newStore(t)
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	f := newSeatsAndLine(t, s, "given-up")
	release := holdRow(t, s, f.line[0])
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	if _, err := s.Cancel(ctx, f.openHolder, staff); err == nil {
		t.Error("a cancellation given up after 250 ms went through")
	}
	release()
	if got := regStatus(t, s, f.openHolder); got != models.RegConfirmed {
		t.Errorf("the holder is %s after a cancellation that failed", got)
	}
	f.seatsHeld(t, s)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var idle int
		if err := s.DB().Get(&idle, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		if idle == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections idle in a transaction", idle)
		}
	}
	for range 8 {
		var lt string
		if err := s.DB().Get(&lt, `SHOW lock_timeout`); err != nil {
			t.Fatal(err)
		}
		if lt != "0" {
			t.Errorf("a pooled connection has lock_timeout %s", lt)
		}
	}
}

// TestEverythingAtOnceOnOneLine: cancellations in both types, new
// registrations in both, a staff promotion and a staff move, all at once.
// Nothing fails but with a conflict or "full", and the counts match the
// seats held.
func TestEverythingAtOnceOnOneLine(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 20 {
		slug := fmt.Sprintf("all-at-once-%d", round)
		f := newSeatsAndLine(t, s, slug)
		newcomers := fastActors(t, s, slug+"-new", 2)
		ops := []func() error{
			func() error { _, err := s.Cancel(ctx, f.openHolder, staff); return err },
			func() error { _, err := s.Cancel(ctx, f.retHolder, staff); return err },
			func() error { _, err := s.PromoteNow(ctx, f.line[2], staff); return err },
			func() error { return s.MoveOnWaitlist(ctx, f.line[1], true, f.line[0], staff) },
		}
		for i, kind := range []string{"open", "retiree"} {
			ops = append(ops, func() error {
				_, err := s.Register(ctx, f.conf, models.RegistrationInput{Category: kind, FirstName: "New",
					LastName: "Comer", Email: newcomers[i].User.Email}, newcomers[i], f.conf.RegistrationOpensAt.Add(time.Hour))
				return err
			})
		}
		refusedOrNil(t, round, allAtOnce(ops...))
		f.seatsHeld(t, s)
	}
}

// TestExpiryWaitsForABusyFirstInLineOnce: ten unpaid registrations of one
// conference expire together while the first in line's row is held (a badge
// being made). The job gives the ten seats back and then waits for the line
// once, not once per seat: a registration meanwhile is not held up for
// seconds, and the first in line gets a seat once the row is free.
func TestExpiryWaitsForABusyFirstInLineOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf := rushConference(t, s, "expire-busy", "10", 0)
	now := conf.RegistrationOpensAt.Add(time.Hour)
	var ids []int64
	for i, a := range fastActors(t, s, "expire-busy", 12) {
		r, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "Member", LastName: fmt.Sprint(i),
			Email: a.User.Email}, a, now)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	unpaid, line := ids[:10], ids[10:]
	for _, id := range unpaid { // approved with a fee, never paid
		s.DB().MustExec(`UPDATE registrations SET status = 'awaiting_payment', payment_due_at = $2 WHERE id = $1`, id, now)
	}
	release := holdRow(t, s, line[0])
	expired := make(chan error, 1)
	var took time.Duration
	go func() {
		began := time.Now()
		n, err := s.ExpireUnpaid(ctx, now.Add(time.Hour))
		took = time.Since(began)
		if err == nil && n != 10 {
			err = fmt.Errorf("%d expired, want 10", n)
		}
		expired <- err
	}()
	waitForLockWaits(t, s, 1)
	// The badge is done 0.7 s later, while the job still waits for it.
	go func() { time.Sleep(700 * time.Millisecond); release() }()
	a := fastActors(t, s, "expire-busy-new", 1)[0]
	began := time.Now()
	if _, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "New", LastName: "Comer",
		Email: a.User.Email}, a, now); err != nil {
		t.Fatal(err)
	}
	if wait := time.Since(began); wait > 2*time.Second {
		t.Errorf("a registration waited %v behind the expiry job", wait)
	}
	if err := <-expired; err != nil {
		t.Fatal(err)
	}
	if took > 3*time.Second {
		t.Errorf("the expiry job took %v", took)
	}
	if got := regStatus(t, s, line[0]); got != models.RegConfirmed {
		t.Errorf("the first in line is %s, want confirmed", got)
	}
}

// TestARaisedCapacityIsStaffsToGive: staff raise the capacity by one to
// seat a particular delegate, the third in line, by hand. Nothing in the
// background gives the seat away first.
func TestARaisedCapacityIsStaffsToGive(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	f := newSeatsAndLine(t, s, "by-hand")
	s.DB().MustExec(`UPDATE conferences SET capacity = 3 WHERE id = $1`, f.conf.ID)
	s.RunJobsOnce(ctx, time.Now(), slog.New(slog.DiscardHandler), nil)
	if _, err := s.PromoteNow(ctx, f.line[2], staff); err != nil {
		t.Fatalf("staff could not give the seat they added: %v", err)
	}
	if got := f.waiting(t, s); !slices.Equal(got, f.line[:2]) {
		t.Errorf("waiting %v, want %v", got, f.line[:2])
	}
	f.seatsHeld(t, s)
}

// TestALongLineOfAFullType: 201 delegates wait for the one delegate seat,
// then a retiree, whose type has room. A retiree cancels: the retiree
// waiting gets the seat at once, past the delegates, who keep their places.
func TestALongLineOfAFullType(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	conf := publishedConference(t, s, "long-line", "2", models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"},
		models.CategoryInput{Slug: "retiree", Name: "Retiree", Price: "0"})
	now := conf.RegistrationOpensAt.Add(time.Hour)
	actors := fastActors(t, s, "long-line", 204)
	register := func(i int, kind string) models.Registration {
		r, err := s.Register(ctx, conf, models.RegistrationInput{Category: kind, FirstName: "Member", LastName: fmt.Sprint(i),
			Email: actors[i].User.Email}, actors[i], now)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	register(0, "delegate")
	retiree := register(1, "retiree")
	for i := 2; i < 203; i++ {
		register(i, "delegate")
	}
	waiting := register(203, "retiree")
	if waiting.Status != models.RegWaitlisted {
		t.Fatalf("fixture: the last retiree is %s", waiting.Status)
	}
	if _, err := s.Cancel(ctx, retiree.ID, staff); err != nil {
		t.Fatal(err)
	}
	if got := regStatus(t, s, waiting.ID); got != models.RegConfirmed {
		t.Errorf("the retiree waiting is %s with a retiree seat free, want confirmed", got)
	}
	var delegates int
	s.DB().Get(&delegates, `SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'`, conf.ID)
	if delegates != 201 {
		t.Errorf("%d still waiting, want the 201 delegates", delegates)
	}
}

// TestACancellationGivenUpAfterItCommitted: the first in line's row is held
// for a second (a badge being made), and the member who cancels closes the
// page after 900 ms, when the cancellation has committed without giving the
// seat on and is giving it in a transaction of its own. That goes on
// without the page, so the seat still goes to the line, not to the next
// person who registers.
func TestACancellationGivenUpAfterItCommitted(t *testing.T) {
	s := newStore(t)
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	f := newSeatsAndLine(t, s, "given-up-later")
	release := holdRow(t, s, f.line[0])
	go func() { time.Sleep(time.Second); release() }()
	ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
	defer cancel()
	s.Cancel(ctx, f.openHolder, staff) // it may say the page went away
	if got := regStatus(t, s, f.openHolder); got != models.RegCancelled {
		t.Fatalf("the holder is %s, want cancelled", got)
	}
	a := fastActors(t, s, "given-up-later-new", 1)[0]
	r, err := s.Register(context.Background(), f.conf, models.RegistrationInput{Category: "open", FirstName: "New",
		LastName: "Comer", Email: a.User.Email}, a, f.conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegWaitlisted {
		t.Errorf("a newcomer got the freed seat (%s) while %d waited", r.Status, len(f.waiting(t, s)))
	}
	f.seatsHeld(t, s)
}
