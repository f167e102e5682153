package models_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"convene/models"
)

// registerNow registers a new member of kind in the conference as it is
// now (read again, so the registration sees the seats as they are) and
// returns the registration as it stands afterwards.
func registerNow(t *testing.T, s *models.Store, slug, kind string, a models.Actor) models.Registration {
	t.Helper()
	ctx := context.Background()
	conf, err := s.ConferenceBySlug(ctx, slug, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Register(ctx, conf, models.RegistrationInput{Category: kind, FirstName: "New", LastName: "Comer",
		Email: a.User.Email}, a, conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// noSeatFreeForTheLine fails the test when a seat is free that someone
// waiting could take.
func noSeatFreeForTheLine(t *testing.T, s *models.Store, conferenceID int64) {
	t.Helper()
	var bad []string
	if err := s.DB().Select(&bad, `SELECT r.id::text FROM registrations r JOIN categories k ON k.id = r.category_id
		JOIN conferences c ON c.id = r.conference_id
		WHERE r.conference_id = $1 AND r.status = 'waitlisted' AND (c.capacity IS NULL OR c.taken < c.capacity)
		AND (k.capacity IS NULL OR k.taken < k.capacity)`, conferenceID); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("a seat is free while %v wait", bad)
	}
	if bad := seatCountProblems(t, s, conferenceID); len(bad) > 0 {
		t.Errorf("seat counts: %v", bad)
	}
}

// TestARaisedSeatGoesToTheLineBeforeANewcomer: staff raise the capacity by
// one while three wait. A member who registers before staff have given the
// seat joins the line, whether the registration read the conference as it
// is now (a seat free) or as it was (full), and the seat goes to the first
// in line, as a cancellation's would.
func TestARaisedSeatGoesToTheLineBeforeANewcomer(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	f := newSeatsAndLine(t, s, "raised-newcomer")
	s.DB().MustExec(`UPDATE conferences SET capacity = 3 WHERE id = $1`, f.conf.ID)
	newcomers := fastActors(t, s, "raised-newcomer-new", 2)
	now := registerNow(t, s, f.conf.Slug, "open", newcomers[0])
	stale, err := s.Register(ctx, f.conf, models.RegistrationInput{Category: "retiree", FirstName: "New", LastName: "Comer",
		Email: newcomers[1].User.Email}, newcomers[1], f.conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []models.Registration{now, stale} {
		if r.Status != models.RegWaitlisted {
			t.Errorf("a newcomer (%s) is %s with three waiting for the free seat, want waitlisted", r.CategorySlug, r.Status)
		}
	}
	if got := regStatus(t, s, f.line[0]); got != models.RegConfirmed {
		t.Errorf("the first in line is %s, want confirmed: the seat is theirs", got)
	}
	if got, want := f.waiting(t, s), append(slices.Clone(f.line[1:]), now.ID, stale.ID); !slices.Equal(got, want) {
		t.Errorf("waiting %v, want %v: the newcomers behind the line", got, want)
	}
	noSeatFreeForTheLine(t, s, f.conf.ID)
}

// TestARaiseLargerThanTheLine: staff raise a capacity of 2 to 7 while three
// wait. Newcomers take the seats beyond those three; the next joins the
// line, which then moves on, and the conference is full.
func TestARaiseLargerThanTheLine(t *testing.T) {
	s := newStore(t)
	f := newSeatsAndLine(t, s, "raised-more")
	s.DB().MustExec(`UPDATE conferences SET capacity = 7 WHERE id = $1`, f.conf.ID)
	a := fastActors(t, s, "raised-more-new", 4)
	var got []string
	for i := range a {
		got = append(got, registerNow(t, s, f.conf.Slug, "open", a[i]).Status)
	}
	want := []string{models.RegConfirmed, models.RegConfirmed, models.RegWaitlisted, models.RegWaitlisted}
	if !slices.Equal(got, want) {
		t.Errorf("newcomers %v, want %v: two seats beyond the three waiting", got, want)
	}
	for _, id := range f.line {
		if st := regStatus(t, s, id); st != models.RegConfirmed {
			t.Errorf("%d of the line is %s, want confirmed", id, st)
		}
	}
	var taken int
	s.DB().Get(&taken, `SELECT taken FROM conferences WHERE id = $1`, f.conf.ID)
	if taken != 7 {
		t.Errorf("%d of 7 seats taken", taken)
	}
	noSeatFreeForTheLine(t, s, f.conf.ID)
}

// TestANewcomerTakesASeatNobodyWaitingCanTake: a delegate waits for the
// one delegate seat. A new retiree is seated, as no delegate could take
// that seat. Raising the delegates' type by one gives the next new
// delegate a place behind the one waiting, who then gets the seat; a new
// retiree then takes the conference's last seat, which no one waiting can
// use, and the next waits; once the conference has no capacity, a retiree
// is seated and the one waiting moves on.
func TestANewcomerTakesASeatNobodyWaitingCanTake(t *testing.T) {
	s := newStore(t)
	conf := publishedConference(t, s, "delegates-wait", "4",
		models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"},
		models.CategoryInput{Slug: "retiree", Name: "Retiree", Price: "0"})
	a := fastActors(t, s, "delegates-wait", 7)
	registerNow(t, s, conf.Slug, "delegate", a[0])
	waiting := registerNow(t, s, conf.Slug, "delegate", a[1])
	if waiting.Status != models.RegWaitlisted {
		t.Fatalf("fixture: the second delegate is %s", waiting.Status)
	}
	if r := registerNow(t, s, conf.Slug, "retiree", a[2]); r.Status == models.RegWaitlisted {
		t.Errorf("a new retiree waits with retiree seats free and only a delegate waiting for a full type")
	}

	s.DB().MustExec(`UPDATE categories SET capacity = 2 WHERE conference_id = $1 AND slug = 'delegate'`, conf.ID)
	if r := registerNow(t, s, conf.Slug, "delegate", a[3]); r.Status != models.RegWaitlisted {
		t.Errorf("a new delegate is %s while a delegate waits for the raised seat, want waitlisted", r.Status)
	}
	if got := regStatus(t, s, waiting.ID); got != models.RegConfirmed {
		t.Errorf("the delegate waiting is %s, want given the raised seat", got)
	}
	if r := registerNow(t, s, conf.Slug, "retiree", a[4]); r.Status == models.RegWaitlisted {
		t.Errorf("a new retiree waits for the conference's last seat, which the delegate waiting for a full type cannot take")
	}
	if r := registerNow(t, s, conf.Slug, "retiree", a[5]); r.Status != models.RegWaitlisted {
		t.Errorf("a new retiree is %s in a full conference", r.Status)
	}
	s.DB().MustExec(`UPDATE conferences SET capacity = NULL WHERE id = $1`, conf.ID)
	// Seats for everyone now: the next retiree is seated, and moves on the
	// retiree who waited.
	if r := registerNow(t, s, conf.Slug, "retiree", a[6]); r.Status == models.RegWaitlisted {
		t.Errorf("a new retiree waits in a conference with no capacity")
	}
	noSeatFreeForTheLine(t, s, conf.ID)
}

// TestASeatLeftForABusyFirstInLine: the only one waiting is busy (a badge
// print holds their row) through a cancellation and its second try, so the
// seat stays free for them. Once they are free, the next member to
// register joins the line behind them and moves it on: the seat is theirs,
// not the newcomer's, and it does not stay free.
func TestASeatLeftForABusyFirstInLine(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	conf := publishedConference(t, s, "left-for-busy", "1", models.CategoryInput{Slug: "open", Name: "Open", Price: "0"})
	a := fastActors(t, s, "left-for-busy", 4)
	holder := registerNow(t, s, conf.Slug, "open", a[0])
	first := registerNow(t, s, conf.Slug, "open", a[1])
	if holder.Status != models.RegConfirmed || first.Status != models.RegWaitlisted {
		t.Fatalf("fixture: %s, %s", holder.Status, first.Status)
	}
	release := holdRow(t, s, first.ID)
	if _, err := s.Cancel(ctx, holder.ID, staff); err != nil {
		release()
		t.Fatal(err)
	}
	release()
	var taken int
	s.DB().Get(&taken, `SELECT taken FROM conferences WHERE id = $1`, conf.ID)
	if taken != 0 || regStatus(t, s, first.ID) != models.RegWaitlisted {
		t.Fatalf("fixture: %d taken, the first in line %s; want the seat left free for them", taken, regStatus(t, s, first.ID))
	}
	r := registerNow(t, s, conf.Slug, "open", a[2])
	if r.Status != models.RegWaitlisted {
		t.Errorf("the newcomer is %s, want behind the one waiting", r.Status)
	}
	if got := regStatus(t, s, first.ID); got != models.RegConfirmed {
		t.Errorf("the first in line is %s after the newcomer moved the line on, want confirmed", got)
	}
	if r := registerNow(t, s, conf.Slug, "open", a[3]); r.Status != models.RegWaitlisted {
		t.Errorf("a second newcomer is %s in a full conference", r.Status)
	}
	noSeatFreeForTheLine(t, s, conf.ID)
}

// TestRetireesRegisterWhileADelegateSeatFrees: a delegate waits for the
// one delegate seat, and the conference has one seat more. The delegate
// holder cancels while the one waiting is busy a moment; two retirees
// register meanwhile. The delegate seat goes to the delegate waiting, the
// conference's spare seat to one retiree, and the other retiree waits.
func TestRetireesRegisterWhileADelegateSeatFrees(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	for round := range 5 {
		slug := "delegate-frees-" + string(rune('a'+round))
		conf := publishedConference(t, s, slug, "3",
			models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"},
			models.CategoryInput{Slug: "retiree", Name: "Retiree", Price: "0"})
		a := fastActors(t, s, slug, 5)
		holder := registerNow(t, s, slug, "delegate", a[0])
		registerNow(t, s, slug, "retiree", a[1])
		w := registerNow(t, s, slug, "delegate", a[2])
		if w.Status != models.RegWaitlisted {
			t.Fatalf("fixture: the second delegate is %s", w.Status)
		}
		release := holdRow(t, s, w.ID)
		cancelled := make(chan error, 1)
		go func() { _, err := s.Cancel(ctx, holder.ID, staff); cancelled <- err }()
		waitForLockWaits(t, s, 1)
		retirees := make([]models.Registration, 2)
		done := make(chan struct{})
		go func() {
			defer close(done)
			allAtOnce(
				func() error { retirees[0] = registerNow(t, s, slug, "retiree", a[3]); return nil },
				func() error { retirees[1] = registerNow(t, s, slug, "retiree", a[4]); return nil })
		}()
		time.Sleep(150 * time.Millisecond)
		release()
		if err := <-cancelled; err != nil {
			t.Fatal(err)
		}
		<-done
		if got := regStatus(t, s, w.ID); got != models.RegConfirmed {
			t.Errorf("round %d: the delegate waiting is %s, want the freed delegate seat", round, got)
		}
		seated := 0
		for _, r := range retirees {
			if regStatus(t, s, r.ID) == models.RegConfirmed {
				seated++
			}
		}
		if seated != 1 {
			t.Errorf("round %d: %d new retirees seated, want 1: the conference had one spare seat", round, seated)
		}
		noSeatFreeForTheLine(t, s, conf.ID)
	}
}

// pauseWaitlisting installs, in the test's scratch database only, a trigger
// that makes a registration joining the waiting line (waitlist_rank set) wait
// for advisory lock 4242 before it goes on. The test holds that lock on a
// connection of its own until release. It only widens the moment between a
// registration reading the seat counts and its commit; it changes no
// decision the code makes.
func pauseWaitlisting(t *testing.T, s *models.Store) (release func()) {
	t.Helper()
	s.DB().MustExec(`CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.waitlist_rank IS NOT NULL AND OLD.waitlist_rank IS NULL THEN
				PERFORM pg_advisory_xact_lock_shared(4242);
			END IF;
			RETURN NEW;
		END $$`)
	s.DB().MustExec(`CREATE TRIGGER test_pause BEFORE UPDATE ON registrations FOR EACH ROW EXECUTE FUNCTION test_pause()`)
	conn, err := s.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(4242)`)
			conn.Close()
		})
	}
}

// TestAFullReadWhileASeatFrees: a conference of one seat is full. W
// registers, finds it full and joins the line; before W commits, the seat
// holder cancels, and that cancellation's promotion cannot see W yet. Once
// committed, W moves the line on itself: W takes the seat rather than
// leave it free while W waits. (Found by a review; the trigger only widens
// the moment between W's reading the counts and its commit.)
func TestAFullReadWhileASeatFrees(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	conf := publishedConference(t, s, "strand", "1", models.CategoryInput{Slug: "open", Name: "Open", Price: "0"})
	a := fastActors(t, s, "strand", 2)
	holder := registerNow(t, s, conf.Slug, "open", a[0])
	if holder.Status != models.RegConfirmed {
		t.Fatalf("fixture: holder %s", holder.Status)
	}
	release := pauseWaitlisting(t, s)
	defer release()

	w := make(chan models.Registration, 1)
	go func() { w <- registerNow(t, s, conf.Slug, "open", a[1]) }()
	waitForLockWaits(t, s, 1) // W read "full" and is about to join the line
	if _, err := s.Cancel(ctx, holder.ID, staff); err != nil {
		t.Fatal(err)
	}
	release()
	got := <-w
	t.Logf("W is %s", got.Status)
	s.RunJobsOnce(ctx, time.Now(), slog.New(slog.DiscardHandler), nil)
	var taken int
	s.DB().Get(&taken, `SELECT taken FROM conferences WHERE id = $1`, conf.ID)
	t.Logf("after the jobs ran: %d of 1 seat taken, W %s", taken, regStatus(t, s, got.ID))
	noSeatFreeForTheLine(t, s, conf.ID)
}

// TestAFullReadWhileACancellationCommits: the seat holder cancels, and the
// cancellation is committing (held at its commit here, its promotion having
// found nobody in line) when W registers and finds the conference full. W
// joins the line and looks at it again after its own commit, too early to
// see the seat; the cancellation, looking after its commit, sees W, and
// the freed seat is W's. (Found by a review.)
func TestAFullReadWhileACancellationCommits(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	conf := publishedConference(t, s, "strand-commit", "1", models.CategoryInput{Slug: "open", Name: "Open", Price: "0"})
	a := fastActors(t, s, "strand-commit", 2)
	holder := registerNow(t, s, conf.Slug, "open", a[0])
	s.DB().MustExec(`CREATE FUNCTION test_pause_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.taken < OLD.taken THEN PERFORM pg_advisory_xact_lock_shared(4343); END IF;
			RETURN NULL;
		END $$`)
	s.DB().MustExec(`CREATE CONSTRAINT TRIGGER test_pause_commit AFTER UPDATE ON conferences
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_pause_commit()`)
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(ctx, `SELECT pg_advisory_lock(4343)`)
	cancelled := make(chan error, 1)
	go func() { _, err := s.Cancel(ctx, holder.ID, staff); cancelled <- err }()
	waitForLockWaits(t, s, 1) // the cancellation is committing
	w := make(chan models.Registration, 1)
	go func() { w <- registerNow(t, s, conf.Slug, "open", a[1]) }()
	var got models.Registration
	select {
	case got = <-w:
		t.Logf("W returned %s while the cancellation was still committing", got.Status)
	case <-time.After(time.Second):
		t.Logf("W waited for the cancellation's commit")
	}
	conn.ExecContext(ctx, `SELECT pg_advisory_unlock(4343)`)
	if err := <-cancelled; err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 {
		got = <-w
	}
	t.Logf("W is %s", regStatus(t, s, got.ID))
	noSeatFreeForTheLine(t, s, conf.ID)
}
