package models_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"convene/models"
)

// fakeExpirer records the sessions it is asked to expire and answers with
// fail for each, when set.
type fakeExpirer struct {
	mu       sync.Mutex
	sessions []string
	fail     error
}

func (e *fakeExpirer) ExpireCheckout(_ context.Context, sessionID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sessions = append(e.sessions, sessionID)
	return e.fail
}

func (e *fakeExpirer) asked() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sessions)
}

func countAudit(t *testing.T, s *models.Store, regID int64, action string) int {
	t.Helper()
	hist, err := s.History(context.Background(), "registration", regID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hist {
		if h.Action == action {
			n++
		}
	}
	return n
}

func TestCloseCheckoutsOfACancelledRegistration(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	open := f.checkout(t, r, f.member, "cs_open")
	exp := &fakeExpirer{}

	// Control: while the registration is active its session stays open.
	if n, err := f.s.CloseCheckouts(ctx, exp, f.member, r.ID); err != nil || n != 0 || len(exp.asked()) != 0 {
		t.Fatalf("active registration: closed %d (%v), asked %v", n, err, exp.asked())
	}

	if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
		t.Fatal(err)
	}
	n, err := f.s.CloseCheckouts(ctx, exp, f.member, r.ID)
	if err != nil || n != 1 {
		t.Fatalf("closed %d (%v), want 1", n, err)
	}
	if got := exp.asked(); !slices.Equal(got, []string{"cs_open"}) {
		t.Errorf("asked to expire %v, want [cs_open]", got)
	}
	p, _ := f.s.Payment(ctx, open.ID)
	if p.Status != models.PayExpired || p.OwedBack() != 0 {
		t.Errorf("payment %s owing back %d, want expired owing nothing", p.Status, p.OwedBack())
	}
	if n := countAudit(t, f.s, r.ID, "payment_checkout_expired"); n != 1 {
		t.Errorf("%d payment_checkout_expired audit entries, want 1", n)
	}
	// Done once: a second call finds nothing open.
	if n, err := f.s.CloseCheckouts(ctx, exp, f.member, r.ID); err != nil || n != 0 || len(exp.asked()) != 1 {
		t.Errorf("again: closed %d (%v), asked %v", n, err, exp.asked())
	}
	// Stripe's own checkout.session.expired arrives: nothing more changes.
	if got, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_x", "checkout.session.expired", "cs_open", r.ID, 15000, "unpaid")); err != nil || got != models.OutcomeRecorded {
		t.Errorf("expired event: %q %v", got, err)
	}
	if p, _ := f.s.Payment(ctx, open.ID); p.Status != models.PayExpired {
		t.Errorf("after Stripe's event the payment is %s", p.Status)
	}
}

func TestCloseCheckoutsWhenTheProviderFails(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	open := f.checkout(t, r, f.member, "cs_open")
	if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
		t.Fatal(err)
	}
	down := errors.New("stripe is down")
	exp := &fakeExpirer{fail: down}
	n, err := f.s.CloseCheckouts(ctx, exp, f.member, r.ID)
	if n != 0 || !errors.Is(err, down) {
		t.Fatalf("closed %d, err %v; want 0 and the provider's error", n, err)
	}
	if reg := f.reload(t, r.ID); reg.Status != models.RegCancelled {
		t.Errorf("registration is %s, want still cancelled", reg.Status)
	}
	if p, _ := f.s.Payment(ctx, open.ID); p.Status != models.PayPending || !p.UpdatedAt.Equal(open.UpdatedAt) {
		t.Errorf("payment %s (updated %v, was %v), want untouched", p.Status, p.UpdatedAt, open.UpdatedAt)
	}
	if n := countAudit(t, f.s, r.ID, "payment_checkout_expired"); n != 0 {
		t.Errorf("%d payment_checkout_expired audit entries for a session still open", n)
	}
	// The member pays on it anyway: the money is flagged for refund.
	got, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_1", "checkout.session.completed", "cs_open", r.ID, 15000, "paid"))
	if err != nil || got != models.OutcomeFlaggedForRefund {
		t.Errorf("late payment: %q %v", got, err)
	}
}

// TestTheJobsCloseACheckoutACancellationLeftOpen: Stripe does not answer
// when a member cancels, so their checkout session stays open. The next
// round of the background jobs closes it; a session opened more than 24
// hours ago, which Stripe has closed itself, is left alone.
func TestTheJobsCloseACheckoutACancellationLeftOpen(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	open := f.checkout(t, r, f.member, "cs_left_open")
	old := f.awaitingPayment(t, f.member2, "Reyes", "1004")
	stale := f.checkout(t, old, f.member2, "cs_long_gone")
	f.s.DB().MustExec(`UPDATE payments SET created_at = now() - interval '25 hours' WHERE id = $1`, stale.ID)
	down := &fakeExpirer{fail: errors.New("stripe is down")}
	if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Cancel(ctx, old.ID, f.member2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CloseCheckouts(ctx, down, f.member, r.ID, old.ID); err == nil {
		t.Fatal("fixture: the provider's failure was not reported")
	}
	if p, _ := f.s.Payment(ctx, open.ID); p.Status != models.PayPending {
		t.Fatalf("fixture: the payment is %s, want still pending", p.Status)
	}

	exp := &fakeExpirer{}
	f.s.RunJobsOnce(ctx, time.Now(), slog.New(slog.DiscardHandler), exp)
	if got := exp.asked(); !slices.Equal(got, []string{"cs_left_open"}) {
		t.Errorf("the jobs asked Stripe to close %v, want [cs_left_open]", got)
	}
	if p, _ := f.s.Payment(ctx, open.ID); p.Status != models.PayExpired {
		t.Errorf("the payment left open is %s after the jobs ran, want expired", p.Status)
	}
	if n := countAudit(t, f.s, r.ID, "payment_checkout_expired"); n != 1 {
		t.Errorf("%d payment_checkout_expired audit entries, want 1", n)
	}
	// Done once: the next round finds nothing to close.
	f.s.RunJobsOnce(ctx, time.Now(), slog.New(slog.DiscardHandler), exp)
	if got := exp.asked(); len(got) != 1 {
		t.Errorf("a second round asked Stripe to close %v", got)
	}
}

func TestPaymentRacingTheCloseIsKept(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	open := f.checkout(t, r, f.member, "cs_open")
	if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
		t.Fatal(err)
	}
	// Stripe closed the session after the member paid, and the webhook saying
	// so was stored first: the payment is not marked expired.
	if _, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_1", "checkout.session.completed", "cs_open", r.ID, 15000, "paid")); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.CloseCheckouts(ctx, &fakeExpirer{}, f.member, r.ID); err != nil || n != 0 {
		t.Errorf("closed %d (%v), want 0", n, err)
	}
	if p, _ := f.s.Payment(ctx, open.ID); p.Status != models.PaySucceeded || p.OwedBack() != 15000 {
		t.Errorf("payment %s owing back %d, want succeeded and flagged for refund", p.Status, p.OwedBack())
	}
}

func TestJobClosesCheckoutsOfUnpaidRegistrations(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	if _, err := f.s.DB().Exec(`UPDATE conferences SET payment_due_days = 1 WHERE id = $1`, f.conf.ID); err != nil {
		t.Fatal(err)
	}
	overdue := f.awaitingPayment(t, f.member, "Cortés", "1002")
	stale := f.checkout(t, overdue, f.member, "cs_overdue")
	onTime := f.awaitingPayment(t, f.member2, "Reyes", "1004")
	live := f.checkout(t, onTime, f.member2, "cs_on_time")
	if _, err := f.s.DB().Exec(`UPDATE registrations SET payment_due_at = $2 WHERE id = $1`, overdue.ID, f.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.DB().Exec(`UPDATE registrations SET payment_due_at = $2 WHERE id = $1`, onTime.ID, f.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	exp := &fakeExpirer{}
	f.s.RunJobsOnce(ctx, f.now, slog.New(slog.DiscardHandler), exp)
	if reg := f.reload(t, overdue.ID); reg.Status != models.RegCancelled {
		t.Fatalf("overdue registration is %s, want cancelled", reg.Status)
	}
	if got := exp.asked(); !slices.Equal(got, []string{"cs_overdue"}) {
		t.Errorf("asked to expire %v, want [cs_overdue]", got)
	}
	if p, _ := f.s.Payment(ctx, stale.ID); p.Status != models.PayExpired {
		t.Errorf("overdue registration's payment is %s, want expired", p.Status)
	}
	if p, _ := f.s.Payment(ctx, live.ID); p.Status != models.PayPending {
		t.Errorf("on-time registration's payment is %s, want pending", p.Status)
	}
	if n := countAudit(t, f.s, overdue.ID, "payment_checkout_expired"); n != 1 {
		t.Errorf("%d payment_checkout_expired audit entries, want 1", n)
	}
}

// TestTheAppStoppingMidRoundStillClosesCheckouts: the app is stopped
// (SIGTERM cancels the jobs' context) while an expiry round, having
// committed conference A's cancellations, waits for conference B's seat
// counts. The Stripe session of A's cancelled registration is closed all
// the same, so its member cannot pay for a registration that is gone; no
// later round would list it again. Before, the round handed A's ids to
// CloseCheckouts with the cancelled context, and nothing was closed.
func TestTheAppStoppingMidRoundStillClosesCheckouts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	paid := models.CategoryInput{Slug: "open", Name: "Open", Price: "40"}
	confA, confB := publishedConference(t, s, "stopping-a", "5", paid), publishedConference(t, s, "stopping-b", "5", paid)
	as := fastActors(t, s, "stopping", 2)
	var regs []models.Registration
	for i, conf := range []models.Conference{confA, confB} {
		r, err := s.Register(ctx, conf, models.RegistrationInput{Category: "open", FirstName: "Noor", LastName: fmt.Sprint(i),
			Email: as[i].User.Email}, as[i], conf.RegistrationOpensAt.Add(time.Hour))
		if err != nil || r.Status != models.RegAwaitingPayment {
			t.Fatalf("fixture: %v %s", err, r.Status)
		}
		regs = append(regs, r)
	}
	a, b := regs[0], regs[1]
	cs, err := s.PrepareCheckout(ctx, a.ID, as[0])
	if err != nil {
		t.Fatal(err)
	}
	pay, err := s.RecordCheckout(ctx, cs, "cs_stopping_a", "https://checkout.stripe.test/cs_stopping_a", as[0])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = $1`, a.ID, now.Add(-2*time.Hour))
	s.DB().MustExec(`UPDATE registrations SET payment_due_at = $2 WHERE id = $1`, b.ID, now.Add(-time.Hour))

	counts := s.DB().MustBegin() // someone holds B's seat counts a moment
	counts.MustExec(`SELECT FROM conferences WHERE id = $1 FOR NO KEY UPDATE`, confB.ID)
	jobCtx, stop := context.WithCancel(ctx)
	exp := &fakeExpirer{}
	done := make(chan struct{})
	go func() { s.RunJobsOnce(jobCtx, now, slog.New(slog.DiscardHandler), exp); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); regStatus(t, s, a.ID) != models.RegCancelled; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("A's registration never expired")
		}
	}
	waitForLockWaits(t, s, 1) // the round, on B's counts
	stop()
	<-done
	counts.Rollback()
	p, err := s.Payment(ctx, pay.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != models.PayExpired || !slices.Contains(exp.asked(), "cs_stopping_a") {
		t.Errorf("the checkout of A's expired registration is %s (Stripe asked to close %v), want expired", p.Status, exp.asked())
	}
	if got := regStatus(t, s, b.ID); got != models.RegAwaitingPayment {
		t.Errorf("B's registration is %s; the stopped round should have left it for the next", got)
	}
}

// stuckExpirer refuses to close some sessions, as Stripe refuses one that
// was paid, and closes the others.
type stuckExpirer struct {
	fakeExpirer
	stuck map[string]bool
}

func (e *stuckExpirer) ExpireCheckout(ctx context.Context, sessionID string) error {
	e.fakeExpirer.ExpireCheckout(ctx, sessionID)
	if e.stuck[sessionID] {
		return errors.New("checkout is complete")
	}
	return nil
}

// TestSessionsThatWillNotCloseDoNotStarveTheRetry: 120 cancelled
// registrations have sessions Stripe will not close, more than one round
// asks about; a later cancellation's session left open is still closed
// within a few rounds, and the stuck ones are asked about less and less.
func TestSessionsThatWillNotCloseDoNotStarveTheRetry(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	f.checkout(t, r, f.member, "cs_stuck_0")
	exp := &stuckExpirer{stuck: map[string]bool{"cs_stuck_0": true}}
	// 119 more cancelled registrations with a pending session each, made
	// directly: their lives before do not matter here.
	f.s.DB().MustExec(`INSERT INTO registrations (conference_id, category_id, created_as, status, first_name, last_name, email, ticket_token)
		SELECT conference_id, category_id, 'staff', 'cancelled', 'Stuck', 'Member ' || n, 'stuck' || n || '@example.org', 'STUCKTOKEN' || n
		FROM registrations, generate_series(1, 119) AS n WHERE id = $1`, r.ID)
	f.s.DB().MustExec(`INSERT INTO payments (registration_id, method, status, amount_cents, currency, stripe_session_id)
		SELECT id, 'stripe', 'pending', 15000, 'usd', 'cs_stuck_' || substr(last_name, 8) FROM registrations WHERE first_name = 'Stuck'`)
	for i := 1; i < 120; i++ {
		exp.stuck[fmt.Sprintf("cs_stuck_%d", i)] = true
	}
	if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
		t.Fatal(err)
	}
	late := f.awaitingPayment(t, f.member2, "Reyes", "1004")
	open := f.checkout(t, late, f.member2, "cs_left_open")
	if _, err := f.s.Cancel(ctx, late.ID, f.member2); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for round := range 3 {
		f.s.RunJobsOnce(ctx, now.Add(time.Duration(round)*time.Minute), slog.New(slog.DiscardHandler), exp)
	}
	if p, _ := f.s.Payment(ctx, open.ID); p.Status != models.PayExpired {
		t.Errorf("the session left open is %s after three rounds, want expired", p.Status)
	}
	if n := len(exp.asked()); n > 300 {
		t.Errorf("%d requests to Stripe in three rounds: the stuck sessions are asked about every round", n)
	}
}
