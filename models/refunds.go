package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Refund is money sent back for (part of) a payment.
type Refund struct {
	ID             int64     `db:"id"`
	PaymentID      int64     `db:"payment_id"`
	AmountCents    int64     `db:"amount_cents"`
	Status         string    `db:"status"`
	StripeRefundID *string   `db:"stripe_refund_id"`
	Reason         string    `db:"reason"`
	RequestedBy    *int64    `db:"requested_by"`
	CreatedAt      time.Time `db:"created_at"`
	UpdatedAt      time.Time `db:"updated_at"`

	// Joined: what the refund is of.
	Method          string  `db:"method"`
	PaymentIntentID *string `db:"payment_intent_id"`
	RegistrationID  int64   `db:"registration_id"`
	Currency        string  `db:"currency"`
}

// IdempotencyKey is the key a Stripe refund is created with: the same refund
// retried is never made twice.
func (r Refund) IdempotencyKey() string { return fmt.Sprintf("convene-refund-%d", r.ID) }

const refundSelect = `SELECT f.id, f.payment_id, f.amount_cents, f.status, f.stripe_refund_id, f.reason, f.requested_by,
	f.created_at, f.updated_at, p.method, p.stripe_payment_intent_id AS payment_intent_id, p.registration_id, p.currency
	FROM refunds f JOIN payments p ON p.id = f.payment_id`

// flagRefund records that amount more of a payment is owed back, on top of
// what was refunded or asked for already.
func (s *Store) flagRefund(ctx context.Context, tx *sqlx.Tx, r *Registration, p *Payment, amount int64, why string) error {
	var asked int64
	if err := tx.GetContext(ctx, &asked, `SELECT COALESCE(sum(amount_cents), 0) FROM refunds WHERE payment_id = $1`, p.ID); err != nil {
		return err
	}
	due := max(p.RefundDueCents, min(max(p.RefundedCents, asked)+amount, p.AmountCents))
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET refund_due_cents = $2, updated_at = now() WHERE id = $1`, p.ID, due); err != nil {
		return err
	}
	p.RefundDueCents = due
	return s.Audit(ctx, tx, 0, "payment_flagged_for_refund", "registration", r.ID, map[string]any{
		"payment_id": p.ID, "amount_cents": amount, "reason": why})
}

// RefundQuote says what cancelling a registration now gives back, so the
// member is told before confirming.
type RefundQuote struct {
	// Deadline is the conference's cancellation deadline; nil means none.
	Deadline *time.Time
	// InTime reports whether now is before the deadline (or there is none).
	InTime bool
	// CardCents would go back to the card; DeskCents (cash, check) is paid
	// back by staff; InvoicedCents is billed to the local; LocalPaidCents is
	// what the local paid of its invoice, which staff pay back to it.
	CardCents, DeskCents, InvoicedCents, LocalPaidCents int64
	// KeptCents is money paid that is not refunded (after the deadline),
	// the local's included.
	KeptCents   int64
	LocalNumber string
	Currency    string
}

// PaidCents is everything paid and not yet refunded.
func (q RefundQuote) PaidCents() int64 { return q.CardCents + q.DeskCents }

// QuoteRefund works out what cancelling the registration now would refund:
// in full before the conference's cancellation deadline, nothing after it.
func (s *Store) QuoteRefund(ctx context.Context, r Registration, now time.Time) (RefundQuote, error) {
	return s.quoteRefund(ctx, nil, r, now)
}

// quoteRefund is QuoteRefund inside tx, when tx is not nil.
func (s *Store) quoteRefund(ctx context.Context, tx *sqlx.Tx, r Registration, now time.Time) (RefundQuote, error) {
	conf, err := s.conferenceInTx(ctx, tx, r.ConferenceID)
	if err != nil {
		return RefundQuote{}, err
	}
	ps, err := s.payments(ctx, tx, r.ID)
	if err != nil {
		return RefundQuote{}, err
	}
	q := RefundQuote{Deadline: conf.CancellationDeadline, Currency: conf.Currency}
	q.InTime = q.Deadline == nil || now.Before(*q.Deadline)
	for _, p := range ps {
		switch {
		case p.Method == MethodStripe:
			q.CardCents += p.Refundable()
		case p.Method == MethodCash || p.Method == MethodCheck:
			q.DeskCents += p.Refundable()
		case p.Method == MethodLocalInvoice && p.Status == PayInvoiced:
			q.InvoicedCents += p.AmountCents
			if p.LocalNumber != nil {
				q.LocalNumber = *p.LocalNumber
			}
		case p.Method == MethodLocalInvoice:
			q.LocalPaidCents += p.Refundable()
			if p.LocalNumber != nil {
				q.LocalNumber = *p.LocalNumber
			}
		}
	}
	if !q.InTime {
		q.KeptCents = q.PaidCents() + q.LocalPaidCents
	}
	return q, nil
}

// PlanCancellationRefunds decides the refunds of a registration that was just
// cancelled: before the cancellation deadline card payments are refunded in
// full, cash and check are flagged for staff to pay back and invoices to the
// local are voided (one the local has paid is flagged for staff to pay
// back to it); after it nothing is. Staff may instead name the total to
// refund (refundCents, any time). It returns the Stripe refunds to make.
func (s *Store) PlanCancellationRefunds(ctx context.Context, registrationID int64, actor Actor, now time.Time, refundCents *int64) ([]Refund, error) {
	if refundCents != nil && !actor.IsStaff() {
		return nil, ErrForbidden
	}
	var ids []int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.registration(ctx, tx, registrationID, true)
		if err != nil {
			return err
		}
		if r.Status != RegCancelled {
			return fmt.Errorf("%w: refunds follow a cancellation", ErrConflict)
		}
		q, err := s.quoteRefund(ctx, tx, r, now)
		if err != nil {
			return err
		}
		budget := int64(-1) // everything refundable
		if refundCents != nil {
			budget = *refundCents
		} else if !q.InTime {
			budget = 0
		}
		ps, err := s.payments(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p, err = s.payment(ctx, tx, p.ID, true); err != nil {
				return err
			}
			if p.Method == MethodLocalInvoice && p.Status == PayInvoiced && (q.InTime || refundCents != nil) {
				if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = 'void', updated_at = now() WHERE id = $1`, p.ID); err != nil {
					return err
				}
				if err := s.Audit(ctx, tx, actor.User.ID, "payment_void", "registration", r.ID, map[string]any{"payment_id": p.ID}); err != nil {
					return err
				}
				continue
			}
			left, err := s.refundable(ctx, tx, p)
			if err != nil {
				return err
			}
			amount := left
			if budget >= 0 {
				amount = min(left, budget)
				budget -= amount
			}
			if amount <= 0 {
				continue
			}
			if err := s.flagRefund(ctx, tx, &r, &p, amount, "cancelled"); err != nil {
				return err
			}
			if p.Method != MethodStripe {
				continue // staff hand back cash or a check; the flag lists it for them
			}
			id, err := s.insertRefund(ctx, tx, p, amount, RefundRequested, "cancelled", actor)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.refundsByID(ctx, ids)
}

// refundable is what can still be refunded of a payment: its amount less
// refunds already made or asked for (a failed one is retried, not replaced).
func (s *Store) refundable(ctx context.Context, tx *sqlx.Tx, p Payment) (int64, error) {
	if p.Refundable() == 0 {
		return 0, nil
	}
	var asked int64
	if err := tx.GetContext(ctx, &asked, `SELECT COALESCE(sum(amount_cents), 0) FROM refunds WHERE payment_id = $1`, p.ID); err != nil {
		return 0, err
	}
	return max(p.AmountCents-max(p.RefundedCents, asked), 0), nil
}

func (s *Store) insertRefund(ctx context.Context, tx *sqlx.Tx, p Payment, amount int64, status, reason string, actor Actor) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO refunds (payment_id, amount_cents, status, reason, requested_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, p.ID, amount, status, reason, nullID(actor))
	if err != nil {
		return 0, err
	}
	return id, s.Audit(ctx, tx, actor.User.ID, "refund_"+status, "registration", p.RegistrationID, map[string]any{
		"payment_id": p.ID, "refund_id": id, "amount_cents": amount, "reason": reason})
}

func (s *Store) refundsByID(ctx context.Context, ids []int64) ([]Refund, error) {
	out := make([]Refund, 0, len(ids))
	for _, id := range ids {
		f, err := s.Refund(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Refund loads one refund.
func (s *Store) Refund(ctx context.Context, id int64) (Refund, error) {
	return s.refund(ctx, nil, id)
}

// refund is Refund inside tx, when tx is not nil.
func (s *Store) refund(ctx context.Context, tx *sqlx.Tx, id int64) (Refund, error) {
	var f Refund
	err := s.get(ctx, tx, &f, refundSelect+` WHERE f.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	return f, err
}

// RequestRefund is staff refunding (part of) a payment at any time: amount
// "" means everything still refundable. A card refund is returned for the
// caller to send to Stripe; cash or check handed back is recorded at once.
func (s *Store) RequestRefund(ctx context.Context, paymentID int64, amount, reason string, actor Actor) (Refund, error) {
	if !actor.IsStaff() {
		return Refund{}, ErrForbidden
	}
	var id int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		pay, err := s.payment(ctx, tx, paymentID, false)
		if err != nil {
			return err
		}
		r, err := s.registration(ctx, tx, pay.RegistrationID, true)
		if err != nil {
			return err
		}
		if pay, err = s.payment(ctx, tx, paymentID, true); err != nil {
			return err
		}
		left, err := s.refundable(ctx, tx, pay)
		if err != nil {
			return err
		}
		if left == 0 {
			return fmt.Errorf("%w: nothing of this payment can be refunded", ErrConflict)
		}
		p := Problems{}
		cents := left
		if strings.TrimSpace(amount) != "" {
			c, err := ParseMoney(amount)
			switch {
			case err != nil:
				p.Add("amount", "Enter an amount like 125.00.")
			case c <= 0 || c > left:
				p.Add("amount", "The refund must be more than zero and no more than what is left of the payment.")
			default:
				cents = c
			}
		}
		reason = limit(p, "reason", reason, 500)
		if err := p.Err(); err != nil {
			return err
		}
		if reason == "" {
			reason = "refunded by staff"
		}
		if err := s.flagRefund(ctx, tx, &r, &pay, cents, reason); err != nil {
			return err
		}
		status := RefundRequested
		if pay.Method != MethodStripe {
			status = RefundSucceeded
		}
		if id, err = s.insertRefund(ctx, tx, pay, cents, status, reason, actor); err != nil {
			return err
		}
		if status == RefundSucceeded {
			return s.addRefunded(ctx, tx, pay.ID)
		}
		return nil
	})
	if err != nil {
		return Refund{}, err
	}
	return s.Refund(ctx, id)
}

// addRefunded sets a payment's refunded amount from its succeeded refunds,
// keeping a larger total Stripe reported.
func (s *Store) addRefunded(ctx context.Context, tx *sqlx.Tx, paymentID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE payments SET refunded_cents = LEAST(amount_cents, GREATEST(refunded_cents,
		(SELECT COALESCE(sum(amount_cents), 0) FROM refunds WHERE payment_id = $1 AND status = 'succeeded'))), updated_at = now()
		WHERE id = $1`, paymentID)
	return err
}

// RetryRefund returns a refund that Stripe did not make, to send again with
// the same idempotency key.
func (s *Store) RetryRefund(ctx context.Context, refundID int64, actor Actor) (Refund, error) {
	if !actor.IsStaff() {
		return Refund{}, ErrForbidden
	}
	f, err := s.Refund(ctx, refundID)
	if err != nil {
		return f, err
	}
	if f.Status == RefundSucceeded {
		return f, fmt.Errorf("%w: this refund was already made", ErrConflict)
	}
	return f, nil
}

// FinishRefund records Stripe's answer to a refund: its id on success, or
// failure (failed refunds are listed for staff to retry).
func (s *Store) FinishRefund(ctx context.Context, refundID int64, stripeRefundID string, failed bool, actor Actor) (Refund, error) {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		f, err := s.refund(ctx, tx, refundID)
		if err != nil {
			return err
		}
		if f.Status == RefundSucceeded {
			return nil
		}
		status := RefundSucceeded
		if failed {
			status = RefundFailed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refunds SET status = $2, stripe_refund_id = COALESCE(NULLIF($3, ''), stripe_refund_id),
			updated_at = now() WHERE id = $1`, f.ID, status, stripeRefundID); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, actor.User.ID, "refund_"+status, "registration", f.RegistrationID, map[string]any{
			"payment_id": f.PaymentID, "refund_id": f.ID, "amount_cents": f.AmountCents}); err != nil {
			return err
		}
		if failed {
			return nil
		}
		return s.addRefunded(ctx, tx, f.PaymentID)
	})
	if err != nil {
		return Refund{}, err
	}
	return s.Refund(ctx, refundID)
}
