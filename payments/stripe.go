package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// httpTimeout bounds one request to Stripe: a member waits on it before the redirect.
const httpTimeout = 10 * time.Second

// maxNetworkRetries is one retry: every write carries an idempotency key, so a
// retried request never charges or refunds twice.
const maxNetworkRetries = 1

// NewStripe returns a Gateway backed by Stripe, or a disabled one when
// cfg.SecretKey is empty.
func NewStripe(cfg Config, log *slog.Logger) Gateway {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.SecretKey == "" {
		log.Info("stripe is not configured: offline payment methods only")
		return disabled{}
	}
	if cfg.WebhookSecret == "" {
		log.Warn("STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks will be refused and payments will not be confirmed")
	}

	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: httpTimeout}
	}
	backend := func(t stripe.SupportedBackend) stripe.Backend {
		bc := &stripe.BackendConfig{
			HTTPClient:        hc,
			MaxNetworkRetries: stripe.Int64(maxNetworkRetries),
			LeveledLogger:     slogAdapter{log},
		}
		if cfg.APIBase != "" {
			bc.URL = stripe.String(strings.TrimRight(cfg.APIBase, "/"))
		}
		return stripe.GetBackendWithConfig(t, bc)
	}
	api := &client.API{}
	api.Init(cfg.SecretKey, &stripe.Backends{
		API:     backend(stripe.APIBackend),
		Connect: backend(stripe.ConnectBackend),
		Uploads: backend(stripe.UploadsBackend),
	})
	if cfg.APIBase != "" {
		log.Info("stripe payments enabled", "api_base", cfg.APIBase)
	} else {
		log.Info("stripe payments enabled")
	}
	return &stripeGateway{api: api, webhookSecret: cfg.WebhookSecret}
}

type stripeGateway struct {
	api           *client.API
	webhookSecret string
}

func (g *stripeGateway) Enabled() bool { return true }

func (g *stripeGateway) CreateCheckout(ctx context.Context, p CheckoutParams) (Checkout, error) {
	const op = "create checkout"
	currency := strings.ToLower(strings.TrimSpace(p.Currency))
	switch {
	case p.RegistrationID <= 0:
		return Checkout{}, invalid(op, "registration id must be positive")
	case p.AmountCents <= 0:
		return Checkout{}, invalid(op, "amount must be positive")
	case !isCurrency(currency):
		return Checkout{}, invalid(op, "currency must be a three-letter ISO code")
	case strings.TrimSpace(p.Description) == "":
		return Checkout{}, invalid(op, "description is required")
	case p.SuccessURL == "" || p.CancelURL == "":
		return Checkout{}, invalid(op, "success and cancel URLs are required")
	}
	if err := checkIdempotencyKey(op, p.IdempotencyKey); err != nil {
		return Checkout{}, err
	}

	regID := strconv.FormatInt(p.RegistrationID, 10)
	params := &stripe.CheckoutSessionParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:   stripe.String(currency),
				UnitAmount: stripe.Int64(p.AmountCents),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{
					Name: stripe.String(p.Description),
				},
			},
			Quantity: stripe.Int64(1),
		}},
		ClientReferenceID: stripe.String(regID),
		SuccessURL:        stripe.String(p.SuccessURL),
		CancelURL:         stripe.String(p.CancelURL),
		// The payment intent (and so its charge) carries the registration id
		// too, so a charge.refunded event can be matched without a lookup.
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{
			Metadata: map[string]string{metadataRegistrationID: regID},
		},
	}
	if p.CustomerEmail != "" {
		params.CustomerEmail = stripe.String(p.CustomerEmail)
	}
	params.AddMetadata(metadataRegistrationID, regID)
	params.Context = ctx
	params.SetIdempotencyKey(p.IdempotencyKey)

	s, err := g.api.CheckoutSessions.New(params)
	if err != nil {
		return Checkout{}, providerError(op, err)
	}
	return Checkout{SessionID: s.ID, URL: s.URL}, nil
}

func (g *stripeGateway) Refund(ctx context.Context, paymentIntentID string, amountCents int64, idempotencyKey string) (Refund, error) {
	const op = "refund"
	switch {
	case strings.TrimSpace(paymentIntentID) == "":
		return Refund{}, invalid(op, "payment intent id is required")
	case amountCents < 0:
		return Refund{}, invalid(op, "amount must not be negative")
	}
	if err := checkIdempotencyKey(op, idempotencyKey); err != nil {
		return Refund{}, err
	}

	params := &stripe.RefundParams{PaymentIntent: stripe.String(paymentIntentID)}
	if amountCents > 0 {
		params.Amount = stripe.Int64(amountCents)
	}
	params.Context = ctx
	params.SetIdempotencyKey(idempotencyKey)

	r, err := g.api.Refunds.New(params)
	if err != nil {
		return Refund{}, providerError(op, err)
	}
	return Refund{ID: r.ID, AmountCents: r.Amount, Status: string(r.Status)}, nil
}

func (g *stripeGateway) ExpireCheckout(ctx context.Context, sessionID string) error {
	const op = "expire checkout"
	if strings.TrimSpace(sessionID) == "" {
		return invalid(op, "session id is required")
	}
	// No idempotency key of ours: expiring twice changes nothing more than
	// once, and Stripe would replay a cached 5xx for a reused key.
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	_, err := g.api.CheckoutSessions.Expire(sessionID, params)
	if err == nil {
		return nil
	}
	err = providerError(op, err)
	if !errors.Is(err, ErrInvalid) {
		return err
	}
	// Stripe refuses to expire a session that is not open, in words that are
	// not a stable error code; its status says whether it is already closed.
	get := &stripe.CheckoutSessionParams{}
	get.Context = ctx
	s, gerr := g.api.CheckoutSessions.Get(sessionID, get)
	if gerr != nil {
		return err
	}
	switch s.Status {
	case stripe.CheckoutSessionStatusExpired:
		return nil
	case stripe.CheckoutSessionStatusComplete:
		return fmt.Errorf("payments: %s: %w", op, ErrCheckoutComplete)
	}
	return err
}

// disabled is the Gateway used when no secret key is configured.
type disabled struct{}

func (disabled) Enabled() bool { return false }

func (disabled) CreateCheckout(context.Context, CheckoutParams) (Checkout, error) {
	return Checkout{}, fmt.Errorf("payments: create checkout: %w", ErrDisabled)
}

func (disabled) Refund(context.Context, string, int64, string) (Refund, error) {
	return Refund{}, fmt.Errorf("payments: refund: %w", ErrDisabled)
}

func (disabled) ExpireCheckout(context.Context, string) error {
	return fmt.Errorf("payments: expire checkout: %w", ErrDisabled)
}

func (disabled) ParseWebhook([]byte, string) (Event, error) {
	return Event{}, fmt.Errorf("payments: webhook: %w", ErrDisabled)
}

const metadataRegistrationID = "registration_id"

func invalid(op, why string) error {
	return fmt.Errorf("payments: %s: %w: %s", op, ErrInvalid, why)
}

func checkIdempotencyKey(op, key string) error {
	switch k := strings.TrimSpace(key); {
	case k == "":
		return invalid(op, "idempotency key is required")
	case len(k) > 255:
		return invalid(op, "idempotency key is longer than 255 characters")
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// providerError classifies an error from stripe-go: a 4xx answer is
// ErrInvalid, anything else (no answer, timeout, 5xx, 429, an unreadable
// answer) is ErrUnavailable.
func providerError(op string, err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("payments: %s: %w: %w", op, ErrUnavailable, err)
	}
	kind := ErrInvalid
	if se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusTooManyRequests {
		kind = ErrUnavailable
	}
	return &apiError{op: op, kind: kind, stripeErr: se}
}

// apiError keeps stripe-go's error in the chain but prints a short, log-safe
// line instead of its JSON.
type apiError struct {
	op        string
	kind      error
	stripeErr *stripe.Error
}

func (e *apiError) Error() string {
	se := e.stripeErr
	var b strings.Builder
	fmt.Fprintf(&b, "payments: %s: %v: stripe answered %d", e.op, e.kind, se.HTTPStatusCode)
	if se.Code != "" {
		fmt.Fprintf(&b, " %s", se.Code)
	}
	if se.Param != "" {
		fmt.Fprintf(&b, " (param %s)", se.Param)
	}
	if se.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", se.RequestID)
	}
	if se.Msg != "" {
		fmt.Fprintf(&b, ": %s", redactEmails(se.Msg))
	}
	return b.String()
}

func (e *apiError) Unwrap() []error { return []error{e.kind, e.stripeErr} }

// emailRE finds addresses Stripe echoes back in messages ("Invalid email
// address: ..."), which must not reach the logs.
var emailRE = regexp.MustCompile(`[^\s@:'"]+@[^\s@'"]+`)

func redactEmails(s string) string { return emailRE.ReplaceAllString(s, "[email]") }

// slogAdapter routes stripe-go's own logging to slog at debug level: the
// gateway's callers log the errors that matter, and stripe-go's lines can
// quote request details.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Debugf(format string, v ...any) { a.debug("debug", format, v...) }
func (a slogAdapter) Infof(format string, v ...any)  { a.debug("info", format, v...) }
func (a slogAdapter) Warnf(format string, v ...any)  { a.debug("warn", format, v...) }
func (a slogAdapter) Errorf(format string, v ...any) { a.debug("error", format, v...) }

func (a slogAdapter) debug(level, format string, v ...any) {
	if !a.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	a.log.Debug(redactEmails(fmt.Sprintf(format, v...)), "source", "stripe-go", "stripe_level", level)
}
