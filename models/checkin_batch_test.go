package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"convene/models"
)

// badges adds n confirmed registrations of f's conference (insertBadge),
// each with its own ticket, and returns them by token.
func (f *regFixture) badges(t *testing.T, n int) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for range n {
		tok, id := f.insertBadge(t, 0, f.local.ID)
		out[tok] = id
	}
	return out
}

// scanResult is what one scan got back.
type scanResult struct {
	ci       models.CheckIn
	replayed bool
	err      error
}

// scanTogether sends every scan at once while s holds its batches, so they
// queue together, then lets them go and returns what each got, in order.
func scanTogether(t *testing.T, s *models.Store, send []func() scanResult) []scanResult {
	t.Helper()
	release := models.HoldCheckins(s)
	out := make([]scanResult, len(send))
	var wg sync.WaitGroup
	for i, f := range send {
		wg.Go(func() { out[i] = f() })
	}
	for deadline := time.Now().Add(10 * time.Second); models.WaitingCheckins(s) < len(send); {
		if time.Now().After(deadline) {
			release()
			t.Fatalf("only %d of %d scans queued", models.WaitingCheckins(s), len(send))
		}
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	return out
}

// TestScansQueuedTogetherGetTheirOwnAnswers sends a line of scans that all
// wait for the same batch: fresh badges, badges scanned before, refused
// codes, retries and repeats. Each gets the answer it would get alone, about
// its own registration, and each fresh badge is checked in and audited once.
func TestScansQueuedTogetherGetTheirOwnAnswers(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	fresh := f.badges(t, 12)
	seen := f.confirmed(t, "Ana", "Cortés", "1002")
	first, _, err := f.s.CheckIn(ctx, f.conf.Slug, *seen.TicketToken, "earlier", f.staff)
	if err != nil || first.Result != models.CheckedIn {
		t.Fatalf("first scan: %s %v", first.Result, err)
	}
	cancelled := f.confirmed(t, "Sam", "Okafor", "1003")
	if _, err := f.s.Cancel(ctx, cancelled.ID, f.staff); err != nil {
		t.Fatal(err)
	}
	pending, err := f.register(t, f.member, models.RegistrationInput{Category: "organizing", FirstName: "Jordan", LastName: "Reyes"})
	if err != nil || pending.Status != models.RegPending {
		t.Fatalf("pending fixture: %v %s", err, pending.Status)
	}
	twice := f.confirmed(t, "Jordan", "Reyes", "1004")

	type want struct {
		result string
		id     int64 // 0: no registration
		err    error
	}
	var send []func() scanResult
	var wants []want
	scan := func(code, nonce string, w want) {
		send = append(send, func() scanResult {
			ci, replayed, err := f.s.CheckIn(ctx, f.conf.Slug, code, nonce, f.staff)
			return scanResult{ci, replayed, err}
		})
		wants = append(wants, w)
	}
	i := 0
	for tok, id := range fresh {
		// Half with a nonce, half without, half as the whole QR text.
		code, nonce := tok, ""
		if i%2 == 0 {
			nonce = fmt.Sprintf("fresh-%d", i)
		}
		if i%4 < 2 {
			code = "https://convene.test/t/" + tok
		}
		scan(code, nonce, want{models.CheckedIn, id, nil})
		i++
	}
	scan(*seen.TicketToken, "", want{models.AlreadyCheckedIn, seen.ID, nil})
	scan(*seen.TicketToken, "earlier", want{models.CheckedIn, seen.ID, nil}) // a retry of the first scan
	scan(*cancelled.TicketToken, "", want{models.CancelledTicket, cancelled.ID, nil})
	scan(*pending.TicketToken, "p-1", want{models.NotConfirmed, pending.ID, nil})
	scan(models.NewTicketToken(), "", want{models.UnknownCode, 0, nil})
	scan("not a ticket at all", "garbage-1", want{models.UnknownCode, 0, nil})
	scan(*twice.TicketToken, "", want{"", twice.ID, nil}) // one of these two checks in
	scan(*twice.TicketToken, "", want{"", twice.ID, nil})
	scan(*cancelled.TicketToken, "earlier", want{err: models.ErrNonceReused})

	b0, n0 := f.s.CheckinBatches()
	got := scanTogether(t, f.s, send)
	b1, n1 := f.s.CheckinBatches()
	if n1-n0 < int64(len(send)) || b1-b0 >= n1-n0 {
		t.Errorf("%d scans went in %d batches: the scans did not share a batch", n1-n0, b1-b0)
	}
	twiceResults := map[string]int{}
	for i, g := range got {
		w := wants[i]
		if !errors.Is(g.err, w.err) || (w.err == nil && g.err != nil) {
			t.Errorf("scan %d: error %v, want %v", i, g.err, w.err)
			continue
		}
		if w.err != nil {
			continue
		}
		if w.result == "" {
			twiceResults[g.ci.Result]++
		} else if g.ci.Result != w.result {
			t.Errorf("scan %d: %s, want %s", i, g.ci.Result, w.result)
		}
		switch r := g.ci.Registration; {
		case w.id == 0 && r != nil:
			t.Errorf("scan %d: registration %d for a code that has none", i, r.ID)
		case w.id != 0 && r == nil:
			t.Errorf("scan %d: no registration, want %d", i, w.id)
		case w.id != 0 && r.ID != w.id:
			t.Errorf("scan %d: registration %d, want %d", i, r.ID, w.id)
		}
	}
	if twiceResults[models.CheckedIn] != 1 || twiceResults[models.AlreadyCheckedIn] != 1 {
		t.Errorf("one badge scanned twice in the same line: %v, want one of each", twiceResults)
	}
	if retry := got[len(fresh)+1]; !retry.replayed || !retry.ci.Registration.CheckedInAt.Equal(*first.Registration.CheckedInAt) {
		t.Errorf("the retried scan: replayed=%v, checked in at %v; want the first answer, %v",
			retry.replayed, retry.ci.Registration.CheckedInAt, first.Registration.CheckedInAt)
	}
	for tok, id := range fresh {
		r, err := f.s.Registration(ctx, id)
		if err != nil || r.CheckedInAt == nil || r.CheckedInBy == nil || *r.CheckedInBy != f.staff.User.ID {
			t.Errorf("badge %s: checked in %v by %v (%v)", tok, r.CheckedInAt, r.CheckedInBy, err)
		}
	}
	if r, _ := f.s.Registration(ctx, cancelled.ID); r.CheckedInAt != nil {
		t.Error("the cancelled registration was checked in")
	}
	// The 12 fresh badges, the one scanned twice and the earlier scan.
	if n := auditCount(t, f.s, "checked_in"); n != len(fresh)+2 {
		t.Errorf("%d check-ins audited, want %d", n, len(fresh)+2)
	}
}

// TestAFailedBatchGoesAgainScanByScan fails every batch of several scans, as
// a deadlock with another process's batch would: each scan then goes again
// alone, and all of them are checked in, once.
func TestAFailedBatchGoesAgainScanByScan(t *testing.T) {
	f := newRegFixture(t)
	fresh := f.badges(t, 6)
	models.SetCheckinBatchFault(errors.New("deadlock detected"))
	defer models.SetCheckinBatchFault(nil)
	var send []func() scanResult
	for tok := range fresh {
		send = append(send, func() scanResult {
			ci, replayed, err := f.s.CheckIn(context.Background(), f.conf.Slug, tok, "n-"+tok, f.staff)
			return scanResult{ci, replayed, err}
		})
	}
	b0, _ := f.s.CheckinBatches()
	for i, g := range scanTogether(t, f.s, send) {
		if g.err != nil || g.ci.Result != models.CheckedIn || g.replayed {
			t.Errorf("scan %d: %s replayed=%v err=%v, want checked_in", i, g.ci.Result, g.replayed, g.err)
		}
	}
	if b1, _ := f.s.CheckinBatches(); b1-b0 != 1 {
		t.Errorf("%d batches, want the one that failed", b1-b0)
	}
	if n := auditCount(t, f.s, "checked_in"); n != len(fresh) {
		t.Errorf("%d check-ins audited, want %d", n, len(fresh))
	}
}

// TestAScanAbandonedWhileWaitingChangesNothing: a desk that gives up on a
// scan still waiting for its batch gets its context's error, and the badge
// is not checked in behind its back.
func TestAScanAbandonedWhileWaitingChangesNothing(t *testing.T) {
	f := newRegFixture(t)
	r := f.confirmed(t, "Ana", "Cortés", "1002")
	release := models.HoldCheckins(f.s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "", f.staff)
		done <- err
	}()
	for models.WaitingCheckins(f.s) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned scan: %v, want context.Canceled", err)
	}
	release()
	if n := models.WaitingCheckins(f.s); n != 0 {
		t.Errorf("%d scans still waiting", n)
	}
	// Another scan goes through the same queue after it: if the abandoned
	// one had run, this one would find the badge checked in.
	ci, _, err := f.s.CheckIn(context.Background(), f.conf.Slug, *r.TicketToken, "", f.staff)
	if err != nil || ci.Result != models.CheckedIn {
		t.Errorf("the next scan: %s %v, want checked_in: the abandoned scan checked the badge in", ci.Result, err)
	}
}

// insertBadge adds a confirmed registration of f's conference straight
// into the table, with the given id (0: the next one) and local, and
// returns its ticket token and id.
func (f *regFixture) insertBadge(t *testing.T, id, localID int64) (string, int64) {
	t.Helper()
	tok := models.NewTicketToken()
	err := f.s.DB().Get(&id, `INSERT INTO registrations (id, conference_id, category_id, created_as, status,
		first_name, last_name, email, local_id, ticket_token, holds_seat)
		SELECT n.id, $2, k.id, 'staff', 'confirmed', 'Desk', 'P' || n.id, 'p' || n.id || '@example.org', $3, $4, true
		FROM categories k, (SELECT coalesce(nullif($1::bigint, 0), nextval('registrations_id_seq')) AS id) n
		WHERE k.conference_id = $2 AND k.slug = 'organizing' RETURNING id`, id, f.conf.ID, localID, tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, id
}

// waitForLockWaits waits until n statements of the test's database wait
// for a lock.
func waitForLockWaits(t *testing.T, s *models.Store, n int) {
	t.Helper()
	lockWaitsOrDone(t, s, n, nil)
}

// TestAPrintRunAndABatchOfScansDoNotDeadlock: a batch of scans holds several
// registrations at once, and so does a badge print run; locking in
// different orders, each would wait for the other and PostgreSQL would fail
// one of them. Here the batch holds r1 and waits for r2 (held elsewhere),
// while the print run, whose local has r1 and r3, starts with r3 (inserted
// first, so met first). Both must finish.
func TestAPrintRunAndABatchOfScansDoNotDeadlock(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	var base int64
	if err := f.s.DB().Get(&base, `SELECT nextval('registrations_id_seq') + 1000`); err != nil {
		t.Fatal(err)
	}
	t3, _ := f.insertBadge(t, base+3, f.local.ID)
	t1, _ := f.insertBadge(t, base+1, f.local.ID)
	t2, _ := f.insertBadge(t, base+2, f.other.ID)
	elsewhere := f.s.DB().MustBegin()
	elsewhere.MustExec(`SELECT FROM registrations WHERE id = $1 FOR UPDATE`, base+2)

	scanned := make(chan []scanResult)
	go func() {
		var send []func() scanResult
		for _, tok := range []string{t1, t2, t3} {
			send = append(send, func() scanResult {
				ci, replayed, err := f.s.CheckIn(ctx, f.conf.Slug, tok, "", f.staff)
				return scanResult{ci, replayed, err}
			})
		}
		scanned <- scanTogether(t, f.s, send)
	}()
	waitForLockWaits(t, f.s, 1) // the batch, for r2
	printed := make(chan error, 1)
	go func() {
		local := f.local.ID
		_, err := f.s.PrintBadges(ctx, f.conf, models.BadgeFilter{LocalID: &local, Status: models.RegConfirmed}, f.staff, nil,
			func([]models.Registration) error { return nil })
		printed <- err
	}()
	waitForLockWaits(t, f.s, 2) // the print run, for r1
	elsewhere.Commit()
	if err := <-printed; err != nil {
		t.Errorf("the print run: %v", err)
	}
	for i, g := range <-scanned {
		if g.err != nil || g.ci.Result != models.CheckedIn {
			t.Errorf("scan %d: %s %v, want checked_in", i, g.ci.Result, g.err)
		}
	}
}

// TestAStuckScanDoesNotHoldUpTheDesks: a scan waiting for a registration
// another transaction holds must not keep the desks' other scans waiting
// with it; and a desk that gives up on a scan that went alone cancels it,
// so the badge is not checked in behind its back.
func TestAStuckScanDoesNotHoldUpTheDesks(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	stuck, other := f.confirmed(t, "Ana", "Cortés", "1002"), f.confirmed(t, "Jordan", "Reyes", "1004")
	elsewhere := f.s.DB().MustBegin()
	elsewhere.MustExec(`SELECT FROM registrations WHERE id = $1 FOR UPDATE`, stuck.ID)
	gaveUp := make(chan error, 1)
	go func() {
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, _, err := f.s.CheckIn(c, f.conf.Slug, *stuck.TicketToken, "", f.staff)
		gaveUp <- err
	}()
	waitForLockWaits(t, f.s, 1)
	start := time.Now()
	ci, _, err := f.s.CheckIn(ctx, f.conf.Slug, *other.TicketToken, "", f.staff)
	if took := time.Since(start); err != nil || ci.Result != models.CheckedIn || took > 300*time.Millisecond {
		t.Errorf("another badge: %s %v after %v, want checked_in at once", ci.Result, err, took)
	}
	if err := <-gaveUp; err == nil {
		t.Error("the scan given up on answered without an error")
	}
	elsewhere.Commit()
	// The next scan of that badge goes through the same queue: it finds
	// the badge not checked in, or the given-up scan had checked it in.
	ci, _, err = f.s.CheckIn(ctx, f.conf.Slug, *stuck.TicketToken, "", f.staff)
	if err != nil || ci.Result != models.CheckedIn {
		t.Errorf("scanning the badge again: %s %v, want checked_in", ci.Result, err)
	}
}

// TestScansOfDifferentScannersShareABatch: scans that each alone get a
// different answer or refusal, queued together: a live API token, a revoked
// one, one from a throttled address, an unknown conference, unreadable
// codes and a signed-in person. Each gets its own answer, and only the two
// scans allowed to check in do.
func TestScansOfDifferentScannersShareABatch(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	var toks []string
	for tok := range f.badges(t, 5) {
		toks = append(toks, tok)
	}
	_, live, err := f.s.CreateAPIToken(ctx, f.staff.User, "desk 1")
	if err != nil {
		t.Fatal(err)
	}
	old, revoked, _ := f.s.CreateAPIToken(ctx, f.staff.User, "lost phone")
	_, throttled, _ := f.s.CreateAPIToken(ctx, f.staff.User, "desk 2")
	if _, err := f.s.RevokeAPIToken(ctx, old.ID, f.staff.User); err != nil {
		t.Fatal(err)
	}
	for i := range models.TokenFailuresPerAddress {
		f.s.TokenUser(ctx, fmt.Sprintf("cvt_guess%039d", i), "198.51.100.7")
	}
	device := func(tok, addr string) models.Actor { a := f.staff; a.Token, a.Addr = tok, addr; return a }
	scans := []struct {
		slug, code, nonce string
		by                models.Actor
		want              string
		err               error
	}{
		{f.conf.Slug, toks[0], "", device(live, "192.0.2.1"), models.CheckedIn, nil},
		{f.conf.Slug, toks[1], "r1", device(revoked, "192.0.2.1"), "", models.ErrTokenRefused},
		{f.conf.Slug, toks[2], "t1", device(throttled, "198.51.100.7"), "", models.ErrTokenRefused},
		{"no-such-conference", toks[3], "u1", f.staff, "", models.ErrNotFound},
		{f.conf.Slug, "garbage", "g1", f.staff, models.UnknownCode, nil},
		{f.conf.Slug, "garbage 2", "g2", f.staff, models.UnknownCode, nil},
		{f.conf.Slug, toks[4], "", f.staff, models.CheckedIn, nil},
	}
	var send []func() scanResult
	for _, sc := range scans {
		send = append(send, func() scanResult {
			ci, replayed, err := f.s.CheckIn(ctx, sc.slug, sc.code, sc.nonce, sc.by)
			return scanResult{ci, replayed, err}
		})
	}
	for i, g := range scanTogether(t, f.s, send) {
		sc := scans[i]
		if sc.err != nil {
			if !errors.Is(g.err, sc.err) {
				t.Errorf("scan %d: %v, want %v", i, g.err, sc.err)
			}
			continue
		}
		if g.err != nil || g.ci.Result != sc.want {
			t.Errorf("scan %d: %s %v, want %s", i, g.ci.Result, g.err, sc.want)
		}
	}
	var n struct {
		CheckedIn int `db:"checked_in"`
		Nonces    int `db:"nonces"`
	}
	if err := f.s.DB().Get(&n, `SELECT (SELECT count(*) FROM registrations WHERE checked_in_at IS NOT NULL) AS checked_in,
		(SELECT count(*) FROM checkin_requests) AS nonces`); err != nil {
		t.Fatal(err)
	}
	if n.CheckedIn != 2 || n.Nonces != 2 {
		t.Errorf("%d checked in and %d nonces stored; want 2 and 2 (the unreadable codes')", n.CheckedIn, n.Nonces)
	}
}
