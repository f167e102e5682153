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

// badges adds n confirmed registrations of f's conference straight into the
// table, each with its own ticket, and returns them by token.
func (f *regFixture) badges(t *testing.T, n int) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for i := range n {
		tok := models.NewTicketToken()
		var id int64
		err := f.s.DB().Get(&id, `INSERT INTO registrations (conference_id, category_id, created_as, status,
			first_name, last_name, email, local_id, ticket_token, holds_seat)
			SELECT $1, k.id, 'staff', 'confirmed', 'Desk', $2, $3, $4, $5, true
			FROM categories k WHERE k.conference_id = $1 AND k.slug = 'organizing' RETURNING id`,
			f.conf.ID, fmt.Sprintf("Badge %d", i), fmt.Sprintf("badge%d@example.org", i), f.local.ID, tok)
		if err != nil {
			t.Fatal(err)
		}
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
