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

// awaitingPayment registers a member in the $150 category; a roster match
// approves it, so it waits for payment.
func (f *regFixture) awaitingPayment(t *testing.T, a models.Actor, last, number string) models.Registration {
	t.Helper()
	r, err := f.register(t, a, models.RegistrationInput{Category: "paid", FirstName: "Test", LastName: last, Local: "4121", MemberNumber: number})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegAwaitingPayment || r.AmountDueCents != 15000 {
		t.Fatalf("registration is %s owing %d, want awaiting_payment owing 15000", r.Status, r.AmountDueCents)
	}
	return r
}

func (f *regFixture) reload(t *testing.T, id int64) models.Registration {
	t.Helper()
	r, err := f.s.Registration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkout creates a pending Stripe payment as the handler would after
// Stripe answered with session sessionID.
func (f *regFixture) checkout(t *testing.T, r models.Registration, a models.Actor, sessionID string) models.Payment {
	t.Helper()
	cs, err := f.s.PrepareCheckout(context.Background(), r.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.s.RecordCheckout(context.Background(), cs, sessionID, "https://checkout.stripe.test/"+sessionID, a)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sessionEvent(id, typ, session string, reg, amount int64, status string) models.StripeEvent {
	pi := ""
	if typ != "checkout.session.expired" {
		pi = "pi_" + session
	}
	return models.StripeEvent{ID: id, Type: typ, Created: time.Now(), SessionID: session, PaymentIntentID: pi,
		PaymentStatus: status, RegistrationID: reg, AmountCents: amount, Currency: "usd"}
}

func TestCheckoutKeyAdvancesOnlyWhenASessionWasCreated(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")

	first, err := f.s.PrepareCheckout(ctx, r.ID, f.member)
	if err != nil {
		t.Fatal(err)
	}
	if first.AmountCents != 15000 || first.Open != nil {
		t.Fatalf("first checkout: %+v", first)
	}
	// Stripe failed, nothing was stored: the retry uses the same key.
	again, _ := f.s.PrepareCheckout(ctx, r.ID, f.member)
	if again.IdempotencyKey != first.IdempotencyKey {
		t.Errorf("retry key %q, want %q", again.IdempotencyKey, first.IdempotencyKey)
	}
	p, err := f.s.RecordCheckout(ctx, first, "cs_1", "https://checkout.stripe.test/cs_1", f.member)
	if err != nil {
		t.Fatal(err)
	}
	// A second request that raced the first with the same key gets its row.
	if dup, err := f.s.RecordCheckout(ctx, again, "cs_other", "https://checkout.stripe.test/cs_other", f.member); err != nil || dup.ID != p.ID {
		t.Errorf("same key recorded twice: %v %v", dup.ID, err)
	}
	open, _ := f.s.PrepareCheckout(ctx, r.ID, f.member)
	if open.Open == nil || open.Open.ID != p.ID {
		t.Errorf("an open session was not reused: %+v", open.Open)
	}
	// Once the session expired, a new one gets a new key.
	if _, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_x", "checkout.session.expired", "cs_1", r.ID, 15000, "unpaid")); err != nil {
		t.Fatal(err)
	}
	next, _ := f.s.PrepareCheckout(ctx, r.ID, f.member)
	if next.Open != nil || next.IdempotencyKey == first.IdempotencyKey {
		t.Errorf("after expiry: open %v, key %q", next.Open, next.IdempotencyKey)
	}
}

func TestOnlyTheOwnerPaysAndOnlyOnceApproved(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	for _, a := range []models.Actor{f.member2, f.officer, f.staff} {
		if _, err := f.s.PrepareCheckout(ctx, r.ID, a); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("%s started a checkout for someone else: %v", a.User.Email, err)
		}
	}
	pending, err := f.register(t, f.member2, models.RegistrationInput{Category: "paid", FirstName: "X", LastName: "Nobody", Local: "4121", MemberNumber: "9999"})
	if err != nil || pending.Status != models.RegPending {
		t.Fatalf("unknown member: %v %v", pending.Status, err)
	}
	_, err = f.s.PrepareCheckout(ctx, pending.ID, f.member2)
	if !errors.Is(err, models.ErrNotApproved) || !errors.Is(err, models.ErrConflict) {
		t.Errorf("paying a pending registration: %v", err)
	}
	if _, err := f.s.RecordPayment(ctx, pending.ID, models.PaymentInput{Method: "cash"}, f.staff); !errors.Is(err, models.ErrNotApproved) {
		t.Errorf("cash for a pending registration: %v", err)
	}
}

func TestWebhookEventsInAnyOrderReachTheSameEndState(t *testing.T) {
	t.Parallel()
	type step struct{ typ, status string }
	completedPaid := step{"checkout.session.completed", "paid"}
	completedUnpaid := step{"checkout.session.completed", "unpaid"}
	asyncOK := step{"checkout.session.async_payment_succeeded", "paid"}
	asyncFailed := step{"checkout.session.async_payment_failed", "unpaid"}
	expired := step{"checkout.session.expired", "unpaid"}
	refunded := step{"charge.refunded", ""}
	tests := []struct {
		name       string
		events     []step
		wantPay    string
		wantReg    string
		wantRefund int64
	}{
		{"card", []step{completedPaid}, models.PaySucceeded, models.RegConfirmed, 0},
		{"bank transfer", []step{completedUnpaid, asyncOK}, models.PaySucceeded, models.RegConfirmed, 0},
		{"bank transfer failed", []step{completedUnpaid, asyncFailed}, models.PayFailed, models.RegAwaitingPayment, 0},
		{"expired", []step{expired}, models.PayExpired, models.RegAwaitingPayment, 0},
		{"paid then refunded in Stripe", []step{completedPaid, refunded}, models.PaySucceeded, models.RegConfirmed, 15000},
		{"just completed, unpaid", []step{completedUnpaid}, models.PayProcessing, models.RegAwaitingPayment, 0},
	}
	for _, tc := range tests {
		for _, order := range permutations(len(tc.events)) {
			t.Run(fmt.Sprintf("%s %v", tc.name, order), func(t *testing.T) {
				t.Parallel()
				f := newRegFixture(t)
				ctx := context.Background()
				r := f.awaitingPayment(t, f.member, "Cortés", "1002")
				p := f.checkout(t, r, f.member, "cs_1")
				// Every event is delivered twice, the second time after all the others.
				var seq []int
				seq = append(seq, order...)
				seq = append(seq, order...)
				for _, i := range seq {
					e := tc.events[i]
					ev := sessionEvent(fmt.Sprintf("evt_%d", i), e.typ, "cs_1", r.ID, 15000, e.status)
					if e.typ == "charge.refunded" {
						ev = models.StripeEvent{ID: fmt.Sprintf("evt_%d", i), Type: e.typ, Created: time.Now(),
							PaymentIntentID: "pi_cs_1", RegistrationID: r.ID, AmountCents: 15000, AmountRefundedCents: 15000, Currency: "usd"}
					}
					if _, err := f.s.ProcessStripeEvent(ctx, ev); err != nil {
						t.Fatal(err)
					}
				}
				got, _ := f.s.Payment(ctx, p.ID)
				reg := f.reload(t, r.ID)
				if got.Status != tc.wantPay || reg.Status != tc.wantReg || got.RefundedCents != tc.wantRefund {
					t.Errorf("payment %s (refunded %d), registration %s; want %s (%d), %s",
						got.Status, got.RefundedCents, reg.Status, tc.wantPay, tc.wantRefund, tc.wantReg)
				}
				if tc.wantReg == models.RegConfirmed && reg.AmountDueCents != 0 {
					t.Errorf("confirmed but %d still due", reg.AmountDueCents)
				}
				var confirms int
				hist, _ := f.s.History(ctx, "registration", r.ID)
				for _, h := range hist {
					if h.Action == "status_confirmed" {
						confirms++
					}
				}
				if want := map[bool]int{true: 1, false: 0}[tc.wantReg == models.RegConfirmed]; confirms != want {
					t.Errorf("confirmed %d times, want %d", confirms, want)
				}
			})
		}
	}
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestConcurrentDeliveriesAreProcessedOnce(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	f.checkout(t, r, f.member, "cs_1")
	ev := sessionEvent("evt_1", "checkout.session.completed", "cs_1", r.ID, 15000, "paid")
	var wg sync.WaitGroup
	outcomes := make(chan string, 10)
	for range 10 {
		wg.Go(func() {
			o, err := f.s.ProcessStripeEvent(ctx, ev)
			if err != nil {
				t.Error(err)
			}
			outcomes <- o
		})
	}
	wg.Wait()
	close(outcomes)
	counts := map[string]int{}
	for o := range outcomes {
		counts[o]++
	}
	if counts[models.OutcomeConfirmed] != 1 || counts[models.OutcomeDuplicate] != 9 {
		t.Errorf("outcomes %v, want one confirmed and nine duplicates", counts)
	}
}

func TestUnknownAndMismatchedEventsChangeNothing(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	f.checkout(t, r, f.member, "cs_1")
	other := f.awaitingPayment(t, f.member2, "Reyes", "1004")
	for _, tc := range []struct {
		ev   models.StripeEvent
		want string
	}{
		{sessionEvent("evt_a", "checkout.session.completed", "cs_unknown", 999999, 15000, "paid"), models.OutcomeUnknownRegistration},
		{sessionEvent("evt_b", "checkout.session.completed", "cs_unknown", 0, 15000, "paid"), models.OutcomeUnknownRegistration},
		// The stored session belongs to another registration than the event names.
		{sessionEvent("evt_c", "checkout.session.completed", "cs_1", other.ID, 15000, "paid"), models.OutcomeMismatch},
		{models.StripeEvent{ID: "evt_d", Type: "customer.created", Created: time.Now()}, models.OutcomeIgnored},
	} {
		if got, err := f.s.ProcessStripeEvent(ctx, tc.ev); err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.ev.ID, got, err, tc.want)
		}
	}
	for _, id := range []int64{r.ID, other.ID} {
		if got := f.reload(t, id); got.Status != models.RegAwaitingPayment || got.AmountDueCents != 15000 {
			t.Errorf("registration %d changed: %s %d", id, got.Status, got.AmountDueCents)
		}
	}
	// A session Convene has no row for but that names a real registration
	// (the row was lost after Stripe created it) is adopted.
	if got, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_e", "checkout.session.completed", "cs_lost", other.ID, 15000, "paid")); err != nil || got != models.OutcomeConfirmed {
		t.Errorf("adopting a lost session: %q %v", got, err)
	}
}

func TestPaymentForACancelledRegistrationIsFlaggedForRefund(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.awaitingPayment(t, f.member, "Cortés", "1002")
	p := f.checkout(t, r, f.member, "cs_1")
	if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_1", "checkout.session.completed", "cs_1", r.ID, 15000, "paid"))
	if err != nil || got != models.OutcomeFlaggedForRefund {
		t.Fatalf("outcome %q %v", got, err)
	}
	if reg := f.reload(t, r.ID); reg.Status != models.RegCancelled {
		t.Errorf("registration is %s, want cancelled", reg.Status)
	}
	pay, _ := f.s.Payment(ctx, p.ID)
	if pay.Status != models.PaySucceeded || pay.OwedBack() != 15000 {
		t.Errorf("payment %s owed back %d, want succeeded owing 15000 back", pay.Status, pay.OwedBack())
	}
	sum, _ := f.s.ConferencePayments(ctx, f.conf.ID)
	if len(sum.ToRefund) != 1 || sum.OwedBackCents != 15000 {
		t.Errorf("staff view lists %d payments to refund (%d)", len(sum.ToRefund), sum.OwedBackCents)
	}
}

func TestOfflinePayments(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()

	t.Run("officer bills their own local only", func(t *testing.T) {
		r := f.awaitingPayment(t, f.member, "Cortés", "1002")
		if _, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "local_invoice"}, f.otherOfficer); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("another local's officer: %v", err)
		}
		if _, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "cash"}, f.officer); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("officer recorded cash: %v", err)
		}
		if _, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "local_invoice"}, f.member); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("member billed the local: %v", err)
		}
		p, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "local_invoice"}, f.officer)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != models.PayInvoiced || p.AmountCents != 15000 || p.LocalID == nil || *p.LocalID != f.local.ID {
			t.Errorf("invoice: %+v", p)
		}
		if reg := f.reload(t, r.ID); reg.Status != models.RegConfirmed || reg.AmountDueCents != 0 {
			t.Errorf("after the local pays: %s owing %d", reg.Status, reg.AmountDueCents)
		}
		st, err := f.s.LocalStatement(ctx, f.local.ID, nil, f.officer)
		if err != nil || len(st) != 1 {
			t.Errorf("statement: %d lines, %v", len(st), err)
		}
		if _, err := f.s.LocalStatement(ctx, f.local.ID, nil, f.otherOfficer); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("another local's officer read the statement: %v", err)
		}
	})

	t.Run("cash in part, then a check", func(t *testing.T) {
		r := f.awaitingPayment(t, f.member2, "Reyes", "1004")
		_, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "check"}, f.staff)
		if msg := fieldErr(t, err, "reference"); msg != "Enter the check number." {
			t.Errorf("check without a number: %q", msg)
		}
		_, err = f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "cash", Amount: "150.01"}, f.staff)
		if msg := fieldErr(t, err, "amount"); msg == "" {
			t.Error("paid more than owed")
		}
		_, err = f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "stripe"}, f.staff)
		if msg := fieldErr(t, err, "method"); msg == "" {
			t.Error("staff recorded a Stripe payment by hand")
		}
		if _, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "cash", Amount: "50", Reference: "desk 2"}, f.staff); err != nil {
			t.Fatal(err)
		}
		if reg := f.reload(t, r.ID); reg.Status != models.RegAwaitingPayment || reg.AmountDueCents != 10000 {
			t.Errorf("after $50 cash: %s owing %d", reg.Status, reg.AmountDueCents)
		}
		if _, err := f.s.RecordPayment(ctx, r.ID, models.PaymentInput{Method: "check", Reference: "#2041"}, f.staff); err != nil {
			t.Fatal(err)
		}
		if reg := f.reload(t, r.ID); reg.Status != models.RegConfirmed || reg.AmountDueCents != 0 {
			t.Errorf("after the check: %s owing %d", reg.Status, reg.AmountDueCents)
		}
		hist, _ := f.s.History(ctx, "registration", r.ID)
		recorded := 0
		for _, h := range hist {
			if h.Action == "payment_recorded" {
				recorded++
			}
		}
		if recorded != 2 {
			t.Errorf("%d payments audited, want 2", recorded)
		}
	})
}

func TestCancellationRefunds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setup := func(t *testing.T, deadline time.Time) (*regFixture, models.Registration, models.Payment) {
		f := newRegFixture(t)
		if _, err := f.s.DB().Exec(`UPDATE conferences SET cancellation_deadline = $2 WHERE id = $1`, f.conf.ID, deadline); err != nil {
			t.Fatal(err)
		}
		r := f.awaitingPayment(t, f.member, "Cortés", "1002")
		p := f.checkout(t, r, f.member, "cs_1")
		if _, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_1", "checkout.session.completed", "cs_1", r.ID, 15000, "paid")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Cancel(ctx, r.ID, f.member); err != nil {
			t.Fatal(err)
		}
		return f, f.reload(t, r.ID), p
	}

	t.Run("before the deadline: in full", func(t *testing.T) {
		t.Parallel()
		f, r, p := setup(t, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
		q, _ := f.s.QuoteRefund(ctx, r, f.now)
		if !q.InTime || q.CardCents != 15000 {
			t.Errorf("quote %+v", q)
		}
		refunds, err := f.s.PlanCancellationRefunds(ctx, r.ID, f.member, f.now, nil)
		if err != nil || len(refunds) != 1 || refunds[0].AmountCents != 15000 || *refunds[0].PaymentIntentID != "pi_cs_1" {
			t.Fatalf("refunds %+v %v", refunds, err)
		}
		if _, err := f.s.FinishRefund(ctx, refunds[0].ID, "re_1", false, f.member); err != nil {
			t.Fatal(err)
		}
		pay, _ := f.s.Payment(ctx, p.ID)
		if pay.RefundedCents != 15000 || pay.OwedBack() != 0 {
			t.Errorf("refunded %d, owed back %d", pay.RefundedCents, pay.OwedBack())
		}
		// Stripe's charge.refunded for the same refund does not count it twice.
		if _, err := f.s.ProcessStripeEvent(ctx, models.StripeEvent{ID: "evt_r", Type: "charge.refunded", Created: time.Now(),
			PaymentIntentID: "pi_cs_1", AmountCents: 15000, AmountRefundedCents: 15000}); err != nil {
			t.Fatal(err)
		}
		if pay, _ := f.s.Payment(ctx, p.ID); pay.RefundedCents != 15000 {
			t.Errorf("after charge.refunded: refunded %d", pay.RefundedCents)
		}
	})

	t.Run("after the deadline: nothing, unless staff say so", func(t *testing.T) {
		t.Parallel()
		f, r, p := setup(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		q, _ := f.s.QuoteRefund(ctx, r, f.now)
		if q.InTime || q.KeptCents != 15000 {
			t.Errorf("quote %+v", q)
		}
		if refunds, err := f.s.PlanCancellationRefunds(ctx, r.ID, f.member, f.now, nil); err != nil || len(refunds) != 0 {
			t.Errorf("refunds after the deadline: %+v %v", refunds, err)
		}
		part := int64(5000)
		if _, err := f.s.PlanCancellationRefunds(ctx, r.ID, f.member, f.now, &part); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("a member chose the refund: %v", err)
		}
		refund, err := f.s.RequestRefund(ctx, p.ID, "50.00", "hardship", f.staff)
		if err != nil || refund.AmountCents != 5000 || refund.Status != models.RefundRequested {
			t.Fatalf("staff partial refund: %+v %v", refund, err)
		}
		_, err = f.s.RequestRefund(ctx, p.ID, "100.01", "", f.staff)
		if msg := fieldErr(t, err, "amount"); msg == "" {
			t.Error("refunded more than was left")
		}
		if _, err := f.s.RequestRefund(ctx, p.ID, "", "", f.member); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("a member refunded: %v", err)
		}
	})
}

func TestBankPaymentInProgressIsNotExpired(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	if _, err := f.s.DB().Exec(`UPDATE conferences SET payment_due_days = 1 WHERE id = $1`, f.conf.ID); err != nil {
		t.Fatal(err)
	}
	slow := f.awaitingPayment(t, f.member, "Cortés", "1002")
	f.checkout(t, slow, f.member, "cs_bank")
	// The checkout completed, but the bank transfer has not arrived yet.
	if _, err := f.s.ProcessStripeEvent(ctx, sessionEvent("evt_1", "checkout.session.completed", "cs_bank", slow.ID, 15000, "unpaid")); err != nil {
		t.Fatal(err)
	}
	unpaid := f.awaitingPayment(t, f.member2, "Reyes", "1004")
	if _, err := f.s.DB().Exec(`UPDATE registrations SET payment_due_at = $1`, f.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.ExpireUnpaid(ctx, f.now); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	if r := f.reload(t, slow.ID); r.Status != models.RegAwaitingPayment {
		t.Errorf("registration with a bank payment in progress is %s", r.Status)
	}
	if r := f.reload(t, unpaid.ID); r.Status != models.RegCancelled {
		t.Errorf("unpaid registration is %s, want cancelled", r.Status)
	}
}
