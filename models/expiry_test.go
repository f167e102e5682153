package models_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"convene/internal/testdb"
	"convene/models"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// paidConference is a published conference of capacity seats with one $40
// type that needs no check: a registration waits for payment at once.
func paidConference(t *testing.T, s *models.Store, slug, capacity string) models.Conference {
	t.Helper()
	return publishedConference(t, s, slug, capacity, models.CategoryInput{Slug: "open", Name: "Open", Price: "40"})
}

func registerPaying(t *testing.T, s *models.Store, conf models.Conference, a models.Actor) models.Registration {
	t.Helper()
	r, err := s.Register(context.Background(), conf, models.RegistrationInput{Category: "open", FirstName: "Ines",
		LastName: "Paquet", Email: a.User.Email}, a, conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExpiryTwoProcessesThreeConferences: two processes run the job
// at once over three conferences (one with 130 overdue, more than two
// claims), while 20 more registrations of A become overdue mid-run and a
// batch at the door holds 10 of C's overdue rows for a moment. Each is
// cancelled at most once, by one process, each process returns exactly what
// it cancelled, no seat is lost, and one more round leaves nothing overdue.
func TestExpiryTwoProcessesThreeConferences(t *testing.T) {
	db, dsn := testdb.New(t)
	s := models.NewStore(db)
	ctx := context.Background()
	type spec struct {
		slug          string
		cap, waiters  int
		conf          models.Conference
		overdue, late []int64
	}
	specs := []*spec{{slug: "two-procs-a", cap: 150, waiters: 40}, {slug: "two-procs-b", cap: 40, waiters: 10}, {slug: "two-procs-c", cap: 12, waiters: 5}}
	now := time.Now()
	for _, sp := range specs {
		sp.conf = paidConference(t, s, sp.slug, fmt.Sprint(sp.cap))
		in := sp.conf.Input()
		in.PaymentDueDays = "3"
		var err error
		if sp.conf, err = s.UpdateConference(ctx, sp.conf.ID, in); err != nil {
			t.Fatal(err)
		}
		rush(t, s, sp.conf, fastActors(t, s, sp.slug+"-payer", sp.cap), nil)
		rush(t, s, sp.conf, fastActors(t, s, sp.slug+"-waiter", sp.waiters), nil)
		var ids []int64
		s.DB().Select(&ids, `SELECT id FROM registrations WHERE conference_id = $1 AND status = 'awaiting_payment' ORDER BY id`, sp.conf.ID)
		if len(ids) != sp.cap {
			t.Fatalf("fixture: %d awaiting payment in %s", len(ids), sp.slug)
		}
		sp.overdue = ids
		if sp.slug == "two-procs-a" {
			sp.overdue, sp.late = ids[:130], ids[130:]
		}
		s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = ANY($1)`, pq.Array(sp.overdue), now.Add(-time.Hour))
		s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = ANY($1)`, pq.Array(sp.late), now.Add(time.Hour))
	}
	other, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	procs := []*models.Store{s, models.NewStore(other)}
	got := make([][]int64, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, p := range procs {
		wg.Go(func() { <-start; got[i], errs[i] = models.ExpireUnpaidIDs(p, ctx, now) })
	}
	wg.Go(func() { // mid-run: A's late payers' deadline passes (staff set it back)
		<-start
		time.Sleep(30 * time.Millisecond)
		s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = ANY($1)`, pq.Array(specs[0].late), now.Add(-time.Minute))
	})
	wg.Go(func() { // a batch at the door holds 10 of C's overdue rows
		tx := s.DB().MustBegin()
		tx.MustExec(`SELECT FROM registrations WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.Array(specs[2].overdue[:10]))
		<-start
		time.Sleep(300 * time.Millisecond)
		tx.Rollback()
	})
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v", i, err)
		}
	}
	all := append(slices.Clone(got[0]), got[1]...)
	slices.Sort(all)
	if c := slices.Compact(slices.Clone(all)); len(c) != len(all) {
		t.Errorf("%d ids returned by both processes", len(all)-len(c))
	}
	var cancelled []int64
	s.DB().Select(&cancelled, `SELECT id FROM registrations WHERE status = 'cancelled' ORDER BY id`)
	if !slices.Equal(cancelled, all) {
		t.Errorf("cancelled %d, returned %d", len(cancelled), len(all))
	}
	var twice int
	s.DB().Get(&twice, `SELECT count(*) FROM (SELECT entity_id FROM audit_log WHERE action IN ('status_cancelled', 'status_submitted') GROUP BY entity_id, action HAVING count(*) > 1) x`)
	if twice != 0 {
		t.Errorf("%d registrations cancelled or moved on twice", twice)
	}
	t.Logf("process 0 cancelled %d, process 1 %d", len(got[0]), len(got[1]))
	n, err := s.ExpireUnpaid(ctx, now)
	t.Logf("the next round cancelled %d (%v)", n, err)
	for _, sp := range specs {
		seatsAndLine{conf: sp.conf}.seatsHeld(t, s)
		var left, free, waiting int
		s.DB().Get(&left, `SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'awaiting_payment' AND payment_due_at <= $2`, sp.conf.ID, now)
		s.DB().Get(&free, `SELECT capacity - taken FROM conferences WHERE id = $1`, sp.conf.ID)
		s.DB().Get(&waiting, `SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'`, sp.conf.ID)
		if left != 0 || (free > 0 && waiting > 0) {
			t.Errorf("%s: %d still overdue, %d seats free while %d wait", sp.slug, left, free, waiting)
		}
	}
}

// TestExpiryPassesAConferenceAnotherProcessHolds: every overdue row of
// conference A is held by the other process's round; this round cancels B's
// without waiting for A, and A's are cancelled once they are let go.
func TestExpiryPassesAConferenceAnotherProcessHolds(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	confA, confB := paidConference(t, s, "held-elsewhere-a", "5"), paidConference(t, s, "held-elsewhere-b", "5")
	as := fastActors(t, s, "held-elsewhere", 4)
	var aIDs, bIDs []int64
	for i, a := range as {
		if i < 2 {
			aIDs = append(aIDs, registerPaying(t, s, confA, a).ID)
		} else {
			bIDs = append(bIDs, registerPaying(t, s, confB, a).ID)
		}
	}
	now := time.Now()
	s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = ANY($1)`, pq.Array(aIDs), now.Add(-2*time.Hour))
	s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = ANY($1)`, pq.Array(bIDs), now.Add(-time.Hour))
	tx := s.DB().MustBegin()
	tx.MustExec(`SELECT FROM registrations WHERE id = ANY($1) FOR UPDATE`, pq.Array(aIDs))
	began := time.Now()
	n, err := s.ExpireUnpaid(ctx, now)
	took := time.Since(began)
	tx.Rollback()
	t.Logf("with A's rows held: cancelled %d (%v) in %v", n, err, took)
	if err != nil || n != 2 || took > time.Second {
		t.Errorf("cancelled %d (%v) in %v; want B's 2 at once", n, err, took)
	}
	if n, err := s.ExpireUnpaid(ctx, now); err != nil || n != 2 {
		t.Errorf("the next round cancelled %d (%v), want A's 2", n, err)
	}
}
