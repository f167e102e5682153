package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// InvoiceReceipt is a local's payment of invoices, as staff record it: the
// local's reference for the money (a check number, a transfer) and the day
// it came, YYYY-MM-DD (empty: today, in the conference's time zone).
type InvoiceReceipt struct {
	Reference  string
	ReceivedOn string
}

// maxInvoicesAtOnce bounds one receipt: a local's statement for a large
// conference, with room to spare.
const maxInvoicesAtOnce = 1000

// ReceiveInvoices records that a local paid these invoices of its
// statement. Only staff record it. Each must be an invoice to this local
// that is still owed; one already received is left as it is (a form sent
// twice records the money once), and a void one is refused with the rest.
// A received invoice is money paid: a cancellation in time owes it back to
// the local, as staff hand back cash. It returns the invoices received now.
func (s *Store) ReceiveInvoices(ctx context.Context, localID int64, paymentIDs []int64, in InvoiceReceipt, actor Actor, now time.Time) ([]Payment, error) {
	if !actor.IsStaff() {
		return nil, ErrForbidden
	}
	p := Problems{}
	ids := slices.Clone(paymentIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	switch {
	case len(ids) == 0:
		p.Add("payments", "Choose the invoices the local paid.")
	case len(ids) > maxInvoicesAtOnce:
		p.Add("payments", "Choose at most 1,000 invoices at a time.")
	}
	ref := limit(p, "reference", in.Reference, 200)
	if ref == "" {
		p.Add("reference", "Enter the local's reference for the payment, such as its check number.")
	}
	var on *time.Time
	if d := strings.TrimSpace(in.ReceivedOn); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil || t.Year() < 2000 {
			p.Add("received_on", "Enter the day the money came, like 2026-11-20.")
		} else {
			on = &t
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	var received []int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		received = nil
		var rows []struct {
			ID             int64      `db:"id"`
			RegistrationID int64      `db:"registration_id"`
			Method         string     `db:"method"`
			Status         string     `db:"status"`
			LocalID        *int64     `db:"local_id"`
			Zone           string     `db:"time_zone"`
			AmountCents    int64      `db:"amount_cents"`
			BilledAt       *time.Time `db:"paid_at"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT p.id, p.registration_id, p.method, p.status, p.local_id, c.time_zone, p.amount_cents, p.paid_at
			FROM payments p JOIN registrations r ON r.id = p.registration_id JOIN conferences c ON c.id = r.conference_id
			WHERE p.id = ANY($1) ORDER BY p.id FOR UPDATE OF p`, pq.Array(ids)); err != nil {
			return err
		}
		if len(rows) != len(ids) {
			return fmt.Errorf("%w: an invoice chosen is not one of this local's", ErrConflict)
		}
		for _, row := range rows {
			switch {
			case row.Method != MethodLocalInvoice || row.LocalID == nil || *row.LocalID != localID:
				return fmt.Errorf("%w: an invoice chosen is not one of this local's", ErrConflict)
			case row.Status == PayVoid:
				return fmt.Errorf("%w: an invoice chosen was cancelled: the local owes nothing for it", ErrConflict)
			case row.Status == PaySucceeded:
				continue // received before
			case row.Status != PayInvoiced:
				return fmt.Errorf("%w: an invoice chosen is not one of this local's", ErrConflict)
			}
			// Days as the conference's staff count them: today, and the
			// day the invoice was made, in the conference's time zone.
			loc := Conference{TimeZone: row.Zone}.Location()
			today := calendarDay(now.In(loc))
			day := on
			switch {
			case day == nil:
				day = &today
			case day.After(today):
				return &ValidationError{Fields: map[string]string{"received_on": "The day the money came cannot be in the future."}}
			case row.BilledAt != nil && day.Before(calendarDay(row.BilledAt.In(loc))):
				return &ValidationError{Fields: map[string]string{"received_on": "The day the money came cannot be before the invoice was made."}}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = 'succeeded', received_on = $2, received_reference = $3,
				received_by = $4, updated_at = now() WHERE id = $1`, row.ID, day.Format("2006-01-02"), ref, nullID(actor)); err != nil {
				return err
			}
			if err := s.Audit(ctx, tx, actor.User.ID, "invoice_received", "registration", row.RegistrationID, map[string]any{
				"payment_id": row.ID, "amount_cents": row.AmountCents, "reference": ref, "received_on": day.Format("2006-01-02")}); err != nil {
				return err
			}
			received = append(received, row.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Payment, 0, len(received))
	for _, id := range received {
		pay, err := s.Payment(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, pay)
	}
	return out, nil
}

// calendarDay is t's calendar day, as a date at midnight UTC (how dates
// read from PostgreSQL's date columns compare).
func calendarDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
