package models

import (
	"context"
)

// MethodTotal sums a conference's payments made one way.
type MethodTotal struct {
	Method        string `db:"method"`
	Count         int    `db:"count"`
	AmountCents   int64  `db:"amount_cents"`
	RefundedCents int64  `db:"refunded_cents"`
}

// LocalTotal sums a conference's money by the registrations' local.
type LocalTotal struct {
	LocalID       *int64  `db:"local_id"`
	LocalNumber   *string `db:"local_number"`
	LocalName     *string `db:"local_name"`
	Registrations int     `db:"registrations"`
	DueCents      int64   `db:"due_cents"`
	PaidCents     int64   `db:"paid_cents"`
	InvoicedCents int64   `db:"invoiced_cents"`
	WaivedCents   int64   `db:"waived_cents"`
	RefundedCents int64   `db:"refunded_cents"`
}

// PaymentSummary is a conference's money for staff: what is still owed, what
// came in by each method and from each local, and what went back.
type PaymentSummary struct {
	DueCents         int64
	DueCount         int
	PaidCents        int64 // received: card, cash and check
	InvoicedCents    int64 // billed to locals, and of that, what they paid
	InvoicePaidCents int64
	WaivedCents      int64
	RefundedCents    int64
	OwedBackCents    int64
	ByMethod         []MethodTotal
	ByLocal          []LocalTotal
	Payments         []Payment
	// ToRefund are payments with money still owed back; FailedRefunds are
	// Stripe refunds to retry.
	ToRefund      []Payment
	FailedRefunds []Refund
}

// ConferencePayments sums a conference's payments for its staff view.
func (s *Store) ConferencePayments(ctx context.Context, conferenceID int64) (PaymentSummary, error) {
	var sum PaymentSummary
	var owed struct {
		Due   int64 `db:"due"`
		Count int   `db:"count"`
	}
	err := s.db.GetContext(ctx, &owed, `SELECT COALESCE(sum(amount_due_cents), 0) AS due, count(*) AS count
		FROM registrations WHERE conference_id = $1 AND status = 'awaiting_payment' AND amount_due_cents > 0`, conferenceID)
	if err != nil {
		return sum, err
	}
	sum.DueCents, sum.DueCount = owed.Due, owed.Count
	if err := s.db.SelectContext(ctx, &sum.ByMethod, `SELECT p.method, count(*) AS count,
		COALESCE(sum(p.amount_cents), 0) AS amount_cents, COALESCE(sum(p.refunded_cents), 0) AS refunded_cents
		FROM payments p JOIN registrations r ON r.id = p.registration_id
		WHERE r.conference_id = $1 AND p.status IN ('succeeded', 'invoiced')
		GROUP BY p.method ORDER BY array_position(ARRAY['stripe','local_invoice','cash','check','waived'], p.method)`, conferenceID); err != nil {
		return sum, err
	}
	for _, m := range sum.ByMethod {
		switch m.Method {
		case MethodLocalInvoice:
			sum.InvoicedCents += m.AmountCents
		case MethodWaived:
			sum.WaivedCents += m.AmountCents
		default:
			sum.PaidCents += m.AmountCents
		}
		sum.RefundedCents += m.RefundedCents
	}
	if err := s.db.SelectContext(ctx, &sum.ByLocal, `SELECT r.local_id, l.number AS local_number, l.name AS local_name,
		count(*) FILTER (WHERE r.status NOT IN ('cancelled', 'denied')) AS registrations,
		COALESCE(sum(r.amount_due_cents) FILTER (WHERE r.status = 'awaiting_payment'), 0) AS due_cents,
		COALESCE(sum(pm.paid), 0) AS paid_cents, COALESCE(sum(pm.invoiced), 0) AS invoiced_cents,
		COALESCE(sum(pm.waived), 0) AS waived_cents, COALESCE(sum(pm.refunded), 0) AS refunded_cents
		FROM registrations r
		LEFT JOIN locals l ON l.id = r.local_id
		LEFT JOIN LATERAL (SELECT
			sum(amount_cents) FILTER (WHERE status = 'succeeded' AND method IN ('stripe', 'cash', 'check')) AS paid,
			sum(amount_cents) FILTER (WHERE method = 'local_invoice' AND status IN ('invoiced', 'succeeded')) AS invoiced,
			sum(amount_cents) FILTER (WHERE status = 'succeeded' AND method = 'waived') AS waived,
			sum(refunded_cents) AS refunded
			FROM payments WHERE registration_id = r.id) pm ON true
		WHERE r.conference_id = $1
		GROUP BY r.local_id, l.number, l.name
		HAVING COALESCE(sum(r.amount_due_cents) FILTER (WHERE r.status = 'awaiting_payment'), 0) + COALESCE(sum(pm.paid), 0)
			+ COALESCE(sum(pm.invoiced), 0) + COALESCE(sum(pm.waived), 0) + COALESCE(sum(pm.refunded), 0) > 0
		ORDER BY l.number NULLS LAST`, conferenceID); err != nil {
		return sum, err
	}
	if sum.Payments, err = s.ConferencePaymentList(ctx, conferenceID); err != nil {
		return sum, err
	}
	for _, p := range sum.Payments {
		if p.Method == MethodLocalInvoice && p.Status == PaySucceeded {
			sum.InvoicePaidCents += p.AmountCents
		}
		if p.OwedBack() > 0 {
			sum.ToRefund = append(sum.ToRefund, p)
			sum.OwedBackCents += p.OwedBack()
		}
	}
	err = s.db.SelectContext(ctx, &sum.FailedRefunds, refundSelect+` JOIN registrations r ON r.id = p.registration_id
		WHERE r.conference_id = $1 AND f.status = 'failed' ORDER BY f.created_at`, conferenceID)
	return sum, err
}

// ConferencePaymentList is every payment of a conference that staff see,
// newest first: abandoned and unfinished card payments (pending, expired)
// are left out.
func (s *Store) ConferencePaymentList(ctx context.Context, conferenceID int64) ([]Payment, error) {
	var ps []Payment
	err := s.db.SelectContext(ctx, &ps, paymentSelect+` WHERE r.conference_id = $1
		AND p.status NOT IN ('pending', 'expired') ORDER BY p.created_at DESC, p.id DESC`, conferenceID)
	return ps, err
}

// LocalStatement lists what a local was billed ("our local pays"), per
// conference (all when conferenceID is nil), for its officers and staff.
func (s *Store) LocalStatement(ctx context.Context, localID int64, conferenceID *int64, actor Actor) ([]Payment, error) {
	if !actor.IsStaff() && !actor.OfficerOfLocal(&localID) {
		return nil, ErrForbidden
	}
	var ps []Payment
	err := s.db.SelectContext(ctx, &ps, paymentSelect+` WHERE p.method = 'local_invoice' AND p.local_id = $1
		AND ($2::bigint IS NULL OR r.conference_id = $2)
		ORDER BY c.starts_on DESC, c.id, lower(r.last_name), lower(r.first_name), p.id`, localID, conferenceID)
	return ps, err
}
