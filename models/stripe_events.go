package models

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Webhook outcomes, stored with each Stripe event.
const (
	OutcomeDuplicate           = "duplicate"
	OutcomeIgnored             = "ignored"
	OutcomeUnknownRegistration = "unknown_registration"
	OutcomeMismatch            = "mismatch"
	OutcomeRecorded            = "recorded"
	OutcomeConfirmed           = "confirmed"
	OutcomeFlaggedForRefund    = "flagged_for_refund"
	OutcomeRefundRecorded      = "refund_recorded"
	OutcomeRefundUnmatched     = "refund_awaiting_payment"
)

// Stripe event types fulfilment reads.
const (
	stripeCompleted    = "checkout.session.completed"
	stripeAsyncOK      = "checkout.session.async_payment_succeeded"
	stripeAsyncFailed  = "checkout.session.async_payment_failed"
	stripeExpired      = "checkout.session.expired"
	stripeChargeRefund = "charge.refunded"
)

// StripeEvent is a verified Stripe webhook event with the fields fulfilment
// reads (the handler copies them from the payments package's Event).
type StripeEvent struct {
	ID, Type            string
	Created             time.Time
	SessionID           string
	PaymentIntentID     string
	PaymentStatus       string
	RegistrationID      int64
	AmountCents         int64
	AmountRefundedCents int64
	Currency            string
}

// ProcessStripeEvent stores a verified event by its id and applies it once:
// a second delivery, also a concurrent one, is a duplicate and changes
// nothing. A payment's state is worked out from every stored event of its
// session, so events applied in any order reach the same end state. The
// payload is trusted because its signature was verified; it is matched to
// the stored session and registration.
func (s *Store) ProcessStripeEvent(ctx context.Context, ev StripeEvent) (string, error) {
	var outcome string
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var regID *int64
		if ev.RegistrationID > 0 {
			regID = &ev.RegistrationID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO stripe_events (id, type, stripe_created_at, session_id, payment_intent_id,
			registration_id, payment_status, amount_cents, amount_refunded_cents, currency)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
			ev.ID, ev.Type, ev.Created, ev.SessionID, ev.PaymentIntentID, regID, ev.PaymentStatus,
			ev.AmountCents, ev.AmountRefundedCents, strings.ToLower(ev.Currency))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			outcome = OutcomeDuplicate
			return nil
		}
		switch ev.Type {
		case stripeCompleted, stripeAsyncOK, stripeAsyncFailed, stripeExpired:
			outcome, err = s.applySessionEvent(ctx, tx, ev)
		case stripeChargeRefund:
			outcome, err = s.applyChargeRefunded(ctx, tx, ev)
		default:
			outcome = OutcomeIgnored
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE stripe_events SET outcome = $2 WHERE id = $1`, ev.ID, outcome)
		return err
	})
	return outcome, err
}

func (s *Store) applySessionEvent(ctx context.Context, tx *sqlx.Tx, ev StripeEvent) (string, error) {
	if ev.SessionID == "" {
		return OutcomeIgnored, nil
	}
	var p Payment
	err := tx.GetContext(ctx, &p, paymentSelect+` WHERE p.stripe_session_id = $1`, ev.SessionID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A session Convene has no row for: created just before a crash, say.
		// The signed event carries the registration id; adopt it.
		if ev.RegistrationID == 0 {
			return OutcomeUnknownRegistration, nil
		}
		r, err := s.registration(ctx, tx, ev.RegistrationID, true)
		if errors.Is(err, ErrNotFound) {
			return OutcomeUnknownRegistration, nil
		}
		if err != nil {
			return "", err
		}
		// Another event of the session may have adopted it while this one
		// waited for the registration's lock.
		err = tx.GetContext(ctx, &p, paymentSelect+` WHERE p.stripe_session_id = $1`, ev.SessionID)
		if err == nil {
			return s.syncLocked(ctx, tx, ev, &r, p)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		if ev.AmountCents <= 0 || ev.Type == stripeExpired {
			return OutcomeIgnored, nil
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO payments (registration_id, method, status, amount_cents, currency, stripe_session_id)
			VALUES ($1, 'stripe', 'pending', $2, $3, $4) RETURNING id`, r.ID, ev.AmountCents, strings.ToLower(ev.Currency), ev.SessionID); err != nil {
			return "", err
		}
		if p, err = s.payment(ctx, tx, id, true); err != nil {
			return "", err
		}
		return s.syncStripePayment(ctx, tx, &r, &p)
	case err != nil:
		return "", err
	}
	if ev.RegistrationID != p.RegistrationID {
		return OutcomeMismatch, nil
	}
	r, err := s.registration(ctx, tx, p.RegistrationID, true)
	if err != nil {
		return "", err
	}
	return s.syncLocked(ctx, tx, ev, &r, p)
}

// syncLocked locks a known payment (its registration is locked) and syncs it.
func (s *Store) syncLocked(ctx context.Context, tx *sqlx.Tx, ev StripeEvent, r *Registration, p Payment) (string, error) {
	if ev.RegistrationID != p.RegistrationID {
		return OutcomeMismatch, nil
	}
	p, err := s.payment(ctx, tx, p.ID, true)
	if err != nil {
		return "", err
	}
	return s.syncStripePayment(ctx, tx, r, &p)
}

// syncStripePayment sets a Stripe payment's state from all of its session's
// stored events: paid if any says so, else failed, else expired, else
// processing once completed. The result depends only on the set of events,
// never on their order.
func (s *Store) syncStripePayment(ctx context.Context, tx *sqlx.Tx, r *Registration, p *Payment) (string, error) {
	var evs []struct {
		Type          string `db:"type"`
		PaymentStatus string `db:"payment_status"`
		Intent        string `db:"payment_intent_id"`
		Amount        int64  `db:"amount_cents"`
		Currency      string `db:"currency"`
	}
	if err := tx.SelectContext(ctx, &evs, `SELECT type, payment_status, payment_intent_id, amount_cents, currency
		FROM stripe_events WHERE session_id = $1 AND outcome <> $2 ORDER BY id`, *p.StripeSessionID, OutcomeMismatch); err != nil {
		return "", err
	}
	var paid, failed, expired, completed bool
	var intent, currency string
	var amount int64
	for _, e := range evs {
		if intent == "" {
			intent = e.Intent
		}
		switch {
		case e.Type == stripeAsyncOK, e.Type == stripeCompleted && (e.PaymentStatus == "paid" || e.PaymentStatus == "no_payment_required"):
			paid, amount, currency = true, e.Amount, e.Currency
		case e.Type == stripeAsyncFailed:
			failed = true
		case e.Type == stripeExpired:
			expired = true
		case e.Type == stripeCompleted:
			completed = true
		}
	}
	status := PayPending
	switch {
	case paid:
		status = PaySucceeded
	case failed:
		status = PayFailed
	case expired:
		status = PayExpired
	case completed:
		status = PayProcessing
	}
	if p.Status == PaySucceeded {
		status = PaySucceeded // already applied: nothing in the set can undo a payment
	}
	gotIntent := intent != "" && p.StripePaymentIntentID == nil
	if status == p.Status && !gotIntent {
		return OutcomeRecorded, s.applyStripeRefunds(ctx, tx, r, p)
	}
	became := status != p.Status
	if !became || status != PaySucceeded || amount <= 0 {
		amount, currency = p.AmountCents, p.Currency
	}
	if currency == "" {
		currency = p.Currency
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = $2, stripe_payment_intent_id = COALESCE(stripe_payment_intent_id, NULLIF($3, '')),
		amount_cents = $4, currency = $5, paid_at = CASE WHEN $2 = 'succeeded' THEN COALESCE(paid_at, now()) END, updated_at = now()
		WHERE id = $1`, p.ID, status, intent, amount, currency); err != nil {
		return "", err
	}
	if gotIntent {
		p.StripePaymentIntentID = &intent
	}
	p.Status, p.AmountCents, p.Currency = status, amount, currency
	outcome := OutcomeRecorded
	if became {
		if err := s.Audit(ctx, tx, 0, "payment_"+status, "registration", r.ID, map[string]any{
			"payment_id": p.ID, "method": p.Method, "amount_cents": p.AmountCents, "stripe_session_id": *p.StripeSessionID}); err != nil {
			return "", err
		}
		if status == PaySucceeded {
			var err error
			if outcome, err = s.applyPayment(ctx, tx, r, p, System); err != nil {
				return "", err
			}
		}
	}
	return outcome, s.applyStripeRefunds(ctx, tx, r, p)
}

// applyStripeRefunds records what Stripe says was refunded of the payment's
// charge: charge.refunded carries the running total, so the largest seen is
// the refunded amount however the events were ordered.
func (s *Store) applyStripeRefunds(ctx context.Context, tx *sqlx.Tx, r *Registration, p *Payment) error {
	if p.StripePaymentIntentID == nil || *p.StripePaymentIntentID == "" {
		return nil
	}
	var refunded int64
	if err := tx.GetContext(ctx, &refunded, `SELECT COALESCE(max(amount_refunded_cents), 0) FROM stripe_events
		WHERE type = $1 AND payment_intent_id = $2`, stripeChargeRefund, *p.StripePaymentIntentID); err != nil {
		return err
	}
	refunded = min(refunded, p.AmountCents)
	if refunded <= p.RefundedCents {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET refunded_cents = $2, updated_at = now() WHERE id = $1`, p.ID, refunded); err != nil {
		return err
	}
	p.RefundedCents = refunded
	return s.Audit(ctx, tx, 0, "payment_refunded", "registration", r.ID, map[string]any{
		"payment_id": p.ID, "refunded_cents": refunded, "source": "stripe"})
}

func (s *Store) applyChargeRefunded(ctx context.Context, tx *sqlx.Tx, ev StripeEvent) (string, error) {
	if ev.PaymentIntentID == "" {
		return OutcomeIgnored, nil
	}
	var p Payment
	err := tx.GetContext(ctx, &p, paymentSelect+` WHERE p.stripe_payment_intent_id = $1 ORDER BY p.id LIMIT 1`, ev.PaymentIntentID)
	if errors.Is(err, sql.ErrNoRows) {
		// The session's events have not arrived yet; they apply this refund
		// when they do.
		return OutcomeRefundUnmatched, nil
	}
	if err != nil {
		return "", err
	}
	r, err := s.registration(ctx, tx, p.RegistrationID, true)
	if err != nil {
		return "", err
	}
	if p, err = s.payment(ctx, tx, p.ID, true); err != nil {
		return "", err
	}
	return OutcomeRefundRecorded, s.applyStripeRefunds(ctx, tx, &r, &p)
}
