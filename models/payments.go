package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Payment methods.
const (
	MethodStripe       = "stripe"
	MethodLocalInvoice = "local_invoice"
	MethodCash         = "cash"
	MethodCheck        = "check"
	MethodWaived       = "waived"
)

// PaymentMethods lists every method, in the order pages show them.
var PaymentMethods = []string{MethodStripe, MethodLocalInvoice, MethodCash, MethodCheck, MethodWaived}

// Payment statuses. A Stripe payment goes pending → (processing →)
// succeeded, failed or expired; an invoice to a local is invoiced (void when
// the registration is cancelled in time); cash, check and waivers are
// succeeded when recorded.
const (
	PayPending    = "pending"
	PayProcessing = "processing"
	PaySucceeded  = "succeeded"
	PayInvoiced   = "invoiced"
	PayFailed     = "failed"
	PayExpired    = "expired"
	PayVoid       = "void"
)

// Refund statuses.
const (
	RefundRequested = "requested"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
)

// Payment is money towards a registration, or a promise of it (an invoice).
type Payment struct {
	ID                    int64      `db:"id"`
	RegistrationID        int64      `db:"registration_id"`
	Method                string     `db:"method"`
	Status                string     `db:"status"`
	AmountCents           int64      `db:"amount_cents"`
	Currency              string     `db:"currency"`
	RefundedCents         int64      `db:"refunded_cents"`
	RefundDueCents        int64      `db:"refund_due_cents"`
	Reference             string     `db:"reference"`
	LocalID               *int64     `db:"local_id"`
	RecordedBy            *int64     `db:"recorded_by"`
	StripeSessionID       *string    `db:"stripe_session_id"`
	StripePaymentIntentID *string    `db:"stripe_payment_intent_id"`
	CheckoutURL           string     `db:"checkout_url"`
	IdempotencyKey        *string    `db:"idempotency_key"`
	PaidAt                *time.Time `db:"paid_at"`
	// ReceivedOn and ReceivedReference are, for an invoice the local has
	// paid, the day the money came and the local's reference for it.
	ReceivedOn        *time.Time `db:"received_on"`
	ReceivedReference string     `db:"received_reference"`
	ReceivedByName    *string    `db:"received_by_name"`
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`

	// Joined for display: the registration, its conference and the local
	// (the one billed for an invoice, else the registration's).
	FirstName          string  `db:"first_name"`
	LastName           string  `db:"last_name"`
	Email              string  `db:"email"`
	RegistrationStatus string  `db:"registration_status"`
	RegistrationUserID *int64  `db:"registration_user_id"`
	RegistrationLocal  *int64  `db:"registration_local_id"`
	ConferenceID       int64   `db:"conference_id"`
	ConferenceSlug     string  `db:"conference_slug"`
	ConferenceTitle    string  `db:"conference_title"`
	ConferenceZone     string  `db:"conference_zone"`
	CategoryName       string  `db:"category_name"`
	LocalNumber        *string `db:"local_number"`
	LocalName          *string `db:"local_name"`
	RecordedByName     *string `db:"recorded_by_name"`
}

// FullName is the attendee's name.
func (p Payment) FullName() string { return p.FirstName + " " + p.LastName }

// Settles reports whether the payment counts towards what is owed: money
// received, a waiver, or an invoice the local will pay.
func (p Payment) Settles() bool { return p.Status == PaySucceeded || p.Status == PayInvoiced }

// HasReceipt reports whether the payment has a receipt (or, for a local, an invoice).
func (p Payment) HasReceipt() bool {
	return p.Settles() || (p.Status == PayVoid && p.Method == MethodLocalInvoice)
}

// Refundable is how much of the payment could still go back to the payer
// (for an invoice the local has paid, to the local).
func (p Payment) Refundable() int64 {
	if p.Status != PaySucceeded || p.Method == MethodWaived {
		return 0
	}
	return max(p.AmountCents-p.RefundedCents, 0)
}

// OwedBack is money Convene still owes the payer: flagged for refund and not
// yet refunded.
func (p Payment) OwedBack() int64 {
	return max(min(p.RefundDueCents, p.AmountCents)-p.RefundedCents, 0)
}

// ReceiptNumber is the number printed on the receipt.
func (p Payment) ReceiptNumber() string { return fmt.Sprintf("R-%06d", p.ID) }

// ConferenceLocation is the time zone of the payment's conference, in which
// its dates are shown.
func (p Payment) ConferenceLocation() *time.Location {
	return Conference{TimeZone: p.ConferenceZone}.Location()
}

const paymentSelect = `SELECT p.id, p.registration_id, p.method, p.status, p.amount_cents, p.currency, p.refunded_cents,
	p.refund_due_cents, p.reference, p.local_id, p.recorded_by, p.stripe_session_id, p.stripe_payment_intent_id,
	p.checkout_url, p.idempotency_key, p.paid_at, p.received_on, p.received_reference, p.created_at, p.updated_at,
	r.first_name, r.last_name, r.email, r.status AS registration_status, r.user_id AS registration_user_id,
	r.local_id AS registration_local_id, r.conference_id, c.slug AS conference_slug, c.title AS conference_title,
	c.time_zone AS conference_zone, k.name AS category_name, l.number AS local_number, l.name AS local_name, u.name AS recorded_by_name,
	rb.name AS received_by_name
	FROM payments p
	JOIN registrations r ON r.id = p.registration_id
	JOIN conferences c ON c.id = r.conference_id
	JOIN categories k ON k.id = r.category_id
	LEFT JOIN locals l ON l.id = COALESCE(p.local_id, r.local_id)
	LEFT JOIN users u ON u.id = p.recorded_by
	LEFT JOIN users rb ON rb.id = p.received_by`

// payState is a conflict a member can act on: the registration cannot be paid now.
type payState struct{ msg string }

func (e *payState) Error() string { return e.msg }

// Is makes errors.Is(err, ErrConflict) true.
func (e *payState) Is(target error) bool { return target == ErrConflict }

// Reasons a registration cannot be paid, checked with errors.Is; each is also
// an ErrConflict. Their texts are shown to people.
var (
	ErrNotApproved    error = &payState{"This registration can be paid once it is approved."}
	ErrNothingDue     error = &payState{"Nothing is owed on this registration."}
	ErrNotPayable     error = &payState{"This registration is cancelled or denied, so it cannot be paid."}
	ErrPaymentPending error = &payState{"A payment for this registration is being processed. We will email you when it is done."}
	ErrAmountChanged  error = &payState{"What is owed on this registration changed meanwhile. Reload the page and pay what it shows now."}
)

// Unpayable reports whether err is one of the reasons above that a
// registration cannot be paid now.
func Unpayable(err error) bool {
	var ps *payState
	return errors.As(err, &ps)
}

// payable says whether a registration can take a payment now.
func payable(r Registration) error {
	switch r.Status {
	case RegAwaitingPayment:
		if r.AmountDueCents <= 0 {
			return ErrNothingDue
		}
		return nil
	case RegConfirmed:
		return ErrNothingDue
	case RegCancelled, RegDenied:
		return ErrNotPayable
	}
	return ErrNotApproved
}

// Payable reports why a registration cannot take a payment now, or nil.
func (r Registration) Payable() error { return payable(r) }

// Owns reports whether the actor is the registration's own member.
func (a Actor) Owns(r Registration) bool {
	return a.User.ID != 0 && r.UserID != nil && *r.UserID == a.User.ID
}

// Payments lists a registration's payments, oldest first.
func (s *Store) Payments(ctx context.Context, registrationID int64) ([]Payment, error) {
	return s.payments(ctx, nil, registrationID)
}

// payments is Payments inside tx, when tx is not nil.
func (s *Store) payments(ctx context.Context, tx *sqlx.Tx, registrationID int64) ([]Payment, error) {
	var ps []Payment
	err := s.sel(ctx, tx, &ps, paymentSelect+` WHERE p.registration_id = $1 ORDER BY p.created_at, p.id`, registrationID)
	return ps, err
}

// Payment loads one payment.
func (s *Store) Payment(ctx context.Context, id int64) (Payment, error) {
	return s.payment(ctx, s.db, id, false)
}

func (s *Store) payment(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (Payment, error) {
	var p Payment
	query := paymentSelect + ` WHERE p.id = $1`
	if lock {
		query += ` FOR UPDATE OF p`
	}
	err := sqlx.GetContext(ctx, q, &p, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// Refunds lists the refunds of a registration's payments, oldest first.
func (s *Store) Refunds(ctx context.Context, registrationID int64) ([]Refund, error) {
	var rs []Refund
	err := s.db.SelectContext(ctx, &rs, refundSelect+` WHERE p.registration_id = $1 ORDER BY f.created_at, f.id`, registrationID)
	return rs, err
}

// CheckoutStart is what creating a Checkout Session needs, worked out by the
// server: the amount is what the registration owes, never what a browser sent.
type CheckoutStart struct {
	Registration   Registration
	Conference     Conference
	AmountCents    int64
	IdempotencyKey string
	// Open is a session already created for this amount and still usable:
	// send the member back to it instead of creating another.
	Open *Payment
}

// checkoutGuard is RecordCheckout's payable check; only the control run of
// the concurrency test turns it off, to show that test can see the race.
var checkoutGuard = true

// checkoutReuse is how long a Checkout Session is sent to again; Stripe
// expires them after 24 hours.
const checkoutReuse = 23 * time.Hour

// PrepareCheckout checks that the actor may pay the registration online now
// and works out the amount and the idempotency key: registration, amount and
// attempt, where the attempt only advances once a session was created, so a
// retry after Stripe failed reuses the key.
func (s *Store) PrepareCheckout(ctx context.Context, id int64, actor Actor) (CheckoutStart, error) {
	var cs CheckoutStart
	r, err := s.Registration(ctx, id)
	if err != nil {
		return cs, err
	}
	if !actor.Owns(r) {
		return cs, ErrForbidden
	}
	if err := payable(r); err != nil {
		return cs, err
	}
	if cs.Conference, err = s.ConferenceBySlug(ctx, r.ConferenceSlug, true); err != nil {
		return cs, err
	}
	ps, err := s.Payments(ctx, id)
	if err != nil {
		return cs, err
	}
	attempt := 1
	for _, p := range ps {
		if p.Method != MethodStripe {
			continue
		}
		if p.IdempotencyKey != nil {
			attempt++
		}
		if p.Status == PayProcessing {
			return cs, ErrPaymentPending
		}
	}
	// The database's clock, like created_at's, says whether a session is fresh.
	var open int64
	err = s.db.GetContext(ctx, &open, `SELECT id FROM payments WHERE registration_id = $1 AND method = 'stripe'
		AND status = 'pending' AND amount_cents = $2 AND checkout_url <> '' AND created_at > now() - $3 * interval '1 second'
		ORDER BY id DESC LIMIT 1`, r.ID, r.AmountDueCents, checkoutReuse.Seconds())
	switch {
	case err == nil:
		p, err := s.Payment(ctx, open)
		if err != nil {
			return cs, err
		}
		cs.Open = &p
	case !errors.Is(err, sql.ErrNoRows):
		return cs, err
	}
	cs.Registration, cs.AmountCents = r, r.AmountDueCents
	cs.IdempotencyKey = fmt.Sprintf("convene-checkout-%d-%d-%d", r.ID, r.AmountDueCents, attempt)
	return cs, nil
}

// RecordCheckout stores a created Checkout Session as a pending payment. Two
// requests that created a session with the same key share one row: the
// first one stored is returned to both. If the registration stopped being
// payable since PrepareCheckout (cancelled, or paid another way), it stores
// nothing and returns why, as PrepareCheckout would; if it now owes another
// amount (part paid at the desk meanwhile), ErrAmountChanged. The caller
// should then expire the session it created.
func (s *Store) RecordCheckout(ctx context.Context, cs CheckoutStart, sessionID, url string, actor Actor) (Payment, error) {
	var id int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		// The row lock orders this against Cancel, Deny and the unpaid-expiry
		// job, which all change the status under a lock on the same row. A
		// cancellation that committed first is seen here and refused; one
		// that comes second waits for this commit, so the CloseCheckouts it
		// runs afterwards finds this session and expires it.
		r, err := s.registration(ctx, tx, cs.Registration.ID, true)
		if err != nil {
			return err
		}
		if err := payable(r); checkoutGuard && err != nil {
			return err
		}
		if checkoutGuard && r.AmountDueCents != cs.AmountCents {
			return ErrAmountChanged
		}
		err = tx.GetContext(ctx, &id, `INSERT INTO payments (registration_id, method, status, amount_cents, currency,
			stripe_session_id, checkout_url, idempotency_key, recorded_by)
			VALUES ($1, 'stripe', 'pending', $2, $3, $4, $5, $6, $7)
			ON CONFLICT DO NOTHING RETURNING id`,
			r.ID, cs.AmountCents, strings.ToLower(cs.Conference.Currency), sessionID, url, cs.IdempotencyKey, nullID(actor))
		if errors.Is(err, sql.ErrNoRows) {
			return tx.GetContext(ctx, &id, `SELECT id FROM payments WHERE idempotency_key = $1 OR stripe_session_id = $2
				ORDER BY id LIMIT 1`, cs.IdempotencyKey, sessionID)
		}
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, actor.User.ID, "payment_checkout_started", "registration", r.ID,
			map[string]any{"payment_id": id, "amount_cents": cs.AmountCents, "stripe_session_id": sessionID})
	})
	if err != nil {
		return Payment{}, err
	}
	return s.Payment(ctx, id)
}

// CheckoutExpirer closes checkout sessions at the payment provider;
// payments.Gateway is one.
type CheckoutExpirer interface {
	ExpireCheckout(ctx context.Context, sessionID string) error
}

// openCheckouts lists the Stripe sessions still pending for registrations,
// of those given, that are no longer active.
const openCheckouts = `SELECT p.id, p.registration_id, p.stripe_session_id, r.status
	FROM payments p JOIN registrations r ON r.id = p.registration_id
	WHERE p.registration_id = ANY($1) AND p.method = 'stripe' AND p.status = 'pending'
	AND p.stripe_session_id IS NOT NULL AND r.status IN ('cancelled', 'denied')
	ORDER BY p.id`

// CloseCheckouts expires, at the provider, the checkout sessions still open
// for the given registrations once they are cancelled or denied, so nobody
// pays on them, and marks their payments expired (audited). Call it after
// the cancellation committed: it holds no transaction while the provider
// answers. It is best effort: a session the provider does not close stays
// pending, is named in the returned error, and a payment made on it is
// flagged for refund when its webhook arrives. It returns how many closed.
func (s *Store) CloseCheckouts(ctx context.Context, exp CheckoutExpirer, actor Actor, registrationIDs ...int64) (int, error) {
	if len(registrationIDs) == 0 {
		return 0, nil
	}
	var open []struct {
		ID                 int64  `db:"id"`
		RegistrationID     int64  `db:"registration_id"`
		SessionID          string `db:"stripe_session_id"`
		RegistrationStatus string `db:"status"`
	}
	if err := s.db.SelectContext(ctx, &open, openCheckouts, pq.Array(registrationIDs)); err != nil {
		return 0, err
	}
	closed := 0
	var errs []error
	for _, o := range open {
		if err := exp.ExpireCheckout(ctx, o.SessionID); err != nil {
			errs = append(errs, fmt.Errorf("payment %d, session %s: %w", o.ID, o.SessionID, err))
			continue
		}
		marked := false
		err := s.InTx(ctx, func(tx *sqlx.Tx) error {
			// A webhook may have moved the payment on meanwhile (a payment
			// that raced the cancellation); that state stands.
			res, err := tx.ExecContext(ctx, `UPDATE payments SET status = 'expired', updated_at = now()
				WHERE id = $1 AND status = 'pending'`, o.ID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err
			}
			marked = true
			return s.Audit(ctx, tx, actor.User.ID, "payment_checkout_expired", "registration", o.RegistrationID, map[string]any{
				"payment_id": o.ID, "stripe_session_id": o.SessionID, "reason": "registration " + o.RegistrationStatus})
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("payment %d, session %s: expired at the provider, not recorded: %w", o.ID, o.SessionID, err))
			continue
		}
		if marked {
			closed++
		}
	}
	return closed, errors.Join(errs...)
}

func nullID(a Actor) *int64 {
	if a.User.ID == 0 {
		return nil
	}
	return &a.User.ID
}

// PaymentInput is an offline payment as typed into the form or sent to the API.
type PaymentInput struct {
	Method    string
	Amount    string // decimal, e.g. "150.00"; empty means everything owed
	Reference string
}

// RecordPayment records an offline payment: staff take cash or a check with
// a reference, waive the fee, or bill the local; an officer of the
// registration's local may bill their local ("our local pays"). The amount
// defaults to what is owed and may not exceed it. The registration is
// confirmed once nothing is owed.
func (s *Store) RecordPayment(ctx context.Context, registrationID int64, in PaymentInput, actor Actor) (Payment, error) {
	var id int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.registration(ctx, tx, registrationID, true)
		if err != nil {
			return err
		}
		method := strings.TrimSpace(in.Method)
		switch {
		case actor.IsStaff():
		case method == MethodLocalInvoice && actor.OfficerOfLocal(r.LocalID):
		default:
			return ErrForbidden
		}
		p := Problems{}
		if method == MethodStripe || !contains(PaymentMethods, method) {
			p.Add("method", "Choose how it was paid: local invoice, cash, check or waiver.")
		}
		ref := limit(p, "reference", in.Reference, 200)
		if method == MethodCheck && ref == "" {
			p.Add("reference", "Enter the check number.")
		}
		if method == MethodLocalInvoice && r.LocalID == nil {
			p.Add("method", "This registration names no local, so no local can be billed.")
		}
		amount := r.AmountDueCents
		if strings.TrimSpace(in.Amount) != "" {
			c, err := ParseMoney(in.Amount)
			switch {
			case err != nil:
				p.Add("amount", "Enter an amount like 125.00.")
			case c <= 0 || c > r.AmountDueCents:
				p.Add("amount", "The amount must be more than zero and no more than what is owed.")
			default:
				amount = c
			}
		}
		if err := payable(r); err != nil {
			return err
		}
		if err := p.Err(); err != nil {
			return err
		}
		conf, err := s.conferenceInTx(ctx, tx, r.ConferenceID)
		if err != nil {
			return err
		}
		status := PaySucceeded
		var local *int64
		if method == MethodLocalInvoice {
			status, local = PayInvoiced, r.LocalID
		}
		err = tx.GetContext(ctx, &id, `INSERT INTO payments (registration_id, method, status, amount_cents, currency,
			reference, local_id, recorded_by, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING id`,
			r.ID, method, status, amount, strings.ToLower(conf.Currency), ref, local, nullID(actor))
		if err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, actor.User.ID, "payment_recorded", "registration", r.ID, map[string]any{
			"payment_id": id, "method": method, "amount_cents": amount, "reference": ref}); err != nil {
			return err
		}
		pay, err := s.payment(ctx, tx, id, true)
		if err != nil {
			return err
		}
		_, err = s.applyPayment(ctx, tx, &r, &pay, actor)
		return err
	})
	if err != nil {
		return Payment{}, err
	}
	return s.Payment(ctx, id)
}

// applyPayment applies a payment that now counts (received, waived or invoiced) to
// its registration: it lowers what is owed and confirms the registration once
// nothing is. Money for a cancelled or denied registration, or beyond what
// was owed, is flagged for refund instead.
func (s *Store) applyPayment(ctx context.Context, tx *sqlx.Tx, r *Registration, p *Payment, actor Actor) (string, error) {
	if !Active(r.Status) {
		if p.Method == MethodLocalInvoice || p.Method == MethodWaived {
			return OutcomeRecorded, nil
		}
		return OutcomeFlaggedForRefund, s.flagRefund(ctx, tx, r, p, p.AmountCents, "registration "+r.Status)
	}
	var settled int64
	if err := tx.GetContext(ctx, &settled, `SELECT COALESCE(sum(amount_cents), 0) FROM payments
		WHERE registration_id = $1 AND status IN ('succeeded', 'invoiced')`, r.ID); err != nil {
		return "", err
	}
	due := max(r.PriceCents-settled, 0)
	if _, err := tx.ExecContext(ctx, `UPDATE registrations SET amount_due_cents = $2, updated_at = now() WHERE id = $1`, r.ID, due); err != nil {
		return "", err
	}
	r.AmountDueCents = due
	outcome := OutcomeRecorded
	if over := min(settled-r.PriceCents, p.AmountCents); over > 0 && p.Method != MethodLocalInvoice && p.Method != MethodWaived {
		if err := s.flagRefund(ctx, tx, r, p, over, "paid more than was owed"); err != nil {
			return "", err
		}
		outcome = OutcomeFlaggedForRefund
	}
	if r.Status == RegAwaitingPayment && due == 0 {
		if err := s.Transition(ctx, tx, r, RegConfirmed, actor, map[string]any{"payment_id": p.ID, "method": p.Method}); err != nil {
			return "", err
		}
		outcome = OutcomeConfirmed
	}
	return outcome, nil
}
