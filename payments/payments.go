// Package payments puts the payment provider (Stripe) behind an interface and
// verifies its webhooks, so handlers and models never talk to Stripe directly.
package payments

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Gateway is what the app needs from a payment provider.
type Gateway interface {
	// Enabled reports whether online payment is configured; when it is not,
	// the app offers offline methods only.
	Enabled() bool
	// CreateCheckout creates a hosted checkout page for one registration.
	CreateCheckout(ctx context.Context, p CheckoutParams) (Checkout, error)
	// Refund refunds amountCents (0 = everything still refundable) of a payment intent.
	Refund(ctx context.Context, paymentIntentID string, amountCents int64, idempotencyKey string) (Refund, error)
	// ExpireCheckout closes an open checkout session so it can no longer be
	// paid. A session that has already expired is not an error; one the payer
	// already completed gives ErrCheckoutComplete, since it cannot be closed.
	ExpireCheckout(ctx context.Context, sessionID string) error
	// ParseWebhook verifies a webhook's signature and reduces it to an Event.
	ParseWebhook(payload []byte, signatureHeader string) (Event, error)
}

// CheckoutParams describes the payment a checkout session asks for; the
// server computes AmountCents, never the browser.
type CheckoutParams struct {
	RegistrationID int64
	AmountCents    int64
	Currency       string // ISO 4217, e.g. "usd"; case does not matter
	Description    string // shown to the payer as the line item's name
	CustomerEmail  string // optional: prefills the checkout page
	SuccessURL     string
	CancelURL      string
	IdempotencyKey string // required: the same key returns the same session
}

// Checkout is a created checkout session: store SessionID, redirect to URL.
type Checkout struct {
	SessionID string
	URL       string
}

// Refund is the provider's answer to a refund request.
type Refund struct {
	ID          string
	AmountCents int64
	Status      string // pending, succeeded, failed, requires_action or canceled
}

// Event is a verified webhook event reduced to the fields Convene reads.
//
// For checkout.session.* events SessionID, PaymentIntentID, PaymentStatus,
// RegistrationID, AmountTotalCents and Currency come from the session. For
// charge.refunded ChargeID, PaymentIntentID, AmountTotalCents (the charge's
// amount), AmountRefundedCents, Currency and RegistrationID (when the charge
// carries it) come from the charge. Other types carry only ID, Type and Created.
type Event struct {
	ID      string
	Type    string
	Created time.Time

	SessionID       string
	PaymentIntentID string
	PaymentStatus   string // paid, unpaid or no_payment_required
	// RegistrationID is metadata.registration_id; 0 if absent or unparseable.
	RegistrationID      int64
	AmountTotalCents    int64
	AmountRefundedCents int64
	Currency            string
	ChargeID            string
}

// Webhook event types that Convene acts on.
const (
	EventCheckoutCompleted          = "checkout.session.completed"
	EventCheckoutAsyncPaymentOK     = "checkout.session.async_payment_succeeded"
	EventCheckoutAsyncPaymentFailed = "checkout.session.async_payment_failed"
	EventCheckoutExpired            = "checkout.session.expired"
	EventChargeRefunded             = "charge.refunded"
)

// Errors returned by a Gateway, checked with errors.Is. The provider's own
// error, when there is one, stays in the chain for errors.As.
var (
	// ErrBadSignature means a webhook's signature is missing, wrong or older than five minutes.
	ErrBadSignature = errors.New("bad webhook signature")
	// ErrDisabled means online payment (or webhook verification) is not configured.
	ErrDisabled = errors.New("online payment is not configured")
	// ErrUnavailable means the provider could not be reached or answered with a server error.
	ErrUnavailable = errors.New("payment provider unavailable")
	// ErrInvalid means the request was rejected: bad parameters, or the provider answered 4xx.
	ErrInvalid = errors.New("invalid payment request")
	// ErrCheckoutComplete means a checkout session could not be expired
	// because the payer already completed it: its payment arrives by webhook.
	ErrCheckoutComplete = errors.New("checkout session already completed")
)

// Config configures the Stripe gateway; cmd reads it from the environment.
type Config struct {
	SecretKey     string // STRIPE_SECRET_KEY; empty disables online payment
	WebhookSecret string // STRIPE_WEBHOOK_SECRET (whsec_...)
	// APIBase is STRIPE_API_BASE, e.g. http://127.0.0.1:12111 for stripe-mock;
	// empty means Stripe itself.
	APIBase string
	// HTTPClient, when set, replaces the default client (10 s timeout); tests
	// use it to watch requests.
	HTTPClient *http.Client
}
