package payments_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"convene/payments"
	"convene/payments/paymentstest"
)

// recorder is an http.RoundTripper that remembers what the gateway sent.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path string
	header       http.Header
	form         url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Header.Clone(), form})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request reached Stripe")
	}
	return r.reqs[len(r.reqs)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func newGateway(t *testing.T, apiBase string) (payments.Gateway, *recorder) {
	t.Helper()
	rec := &recorder{}
	g := payments.NewStripe(payments.Config{
		SecretKey:     "sk_test_123",
		WebhookSecret: testWebhookSecret,
		APIBase:       apiBase,
		HTTPClient:    &http.Client{Transport: rec, Timeout: 10 * time.Second},
	}, nil)
	if !g.Enabled() {
		t.Fatal("gateway with a secret key is not enabled")
	}
	return g, rec
}

func checkoutParams() payments.CheckoutParams {
	return payments.CheckoutParams{
		RegistrationID: 42,
		AmountCents:    12500,
		Currency:       "USD",
		Description:    "PAL Conference 2026 — Member delegate",
		CustomerEmail:  "ana.chavez@example.org",
		SuccessURL:     "http://localhost:8080/registrations/42?paid=1",
		CancelURL:      "http://localhost:8080/registrations/42",
		IdempotencyKey: "checkout-42-1",
	}
}

func TestCreateCheckoutAgainstStripeMock(t *testing.T) {
	g, rec := newGateway(t, paymentstest.StartStripeMock(t))

	co, err := g.CreateCheckout(context.Background(), checkoutParams())
	if err != nil {
		t.Fatalf("CreateCheckout: %v", err)
	}
	if !strings.HasPrefix(co.SessionID, "cs_") {
		t.Errorf("SessionID = %q, want a cs_ id", co.SessionID)
	}
	if co.URL == "" {
		t.Error("URL is empty")
	}

	req := rec.last(t)
	if req.method != http.MethodPost || req.path != "/v1/checkout/sessions" {
		t.Errorf("request = %s %s, want POST /v1/checkout/sessions", req.method, req.path)
	}
	if got := req.header.Get("Idempotency-Key"); got != "checkout-42-1" {
		t.Errorf("Idempotency-Key = %q, want checkout-42-1", got)
	}
	want := map[string]string{
		"mode":                                           "payment",
		"line_items[0][quantity]":                        "1",
		"line_items[0][price_data][unit_amount]":         "12500",
		"line_items[0][price_data][currency]":            "usd",
		"line_items[0][price_data][product_data][name]":  "PAL Conference 2026 — Member delegate",
		"metadata[registration_id]":                      "42",
		"payment_intent_data[metadata][registration_id]": "42",
		"client_reference_id":                            "42",
		"customer_email":                                 "ana.chavez@example.org",
		"success_url":                                    "http://localhost:8080/registrations/42?paid=1",
		"cancel_url":                                     "http://localhost:8080/registrations/42",
	}
	for k, v := range want {
		if got := req.form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
}

func TestCreateCheckoutUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	g, _ := newGateway(t, closed)

	start := time.Now()
	_, err = g.CreateCheckout(context.Background(), checkoutParams())
	if !errors.Is(err, payments.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to give up on a closed port, want a few hundred ms", d)
	}
}

func TestCreateCheckoutHonoursContext(t *testing.T) {
	g, _ := newGateway(t, paymentstest.StartStripeMock(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.CreateCheckout(ctx, checkoutParams())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in the chain", err)
	}
}

func TestCreateCheckoutRejectsBadParamsWithoutCallingStripe(t *testing.T) {
	g, rec := newGateway(t, "http://127.0.0.1:1")
	tests := []struct {
		name   string
		change func(*payments.CheckoutParams)
	}{
		{"no registration", func(p *payments.CheckoutParams) { p.RegistrationID = 0 }},
		{"zero amount", func(p *payments.CheckoutParams) { p.AmountCents = 0 }},
		{"negative amount", func(p *payments.CheckoutParams) { p.AmountCents = -5 }},
		{"bad currency", func(p *payments.CheckoutParams) { p.Currency = "dollars" }},
		{"no currency", func(p *payments.CheckoutParams) { p.Currency = "" }},
		{"no description", func(p *payments.CheckoutParams) { p.Description = " " }},
		{"no success url", func(p *payments.CheckoutParams) { p.SuccessURL = "" }},
		{"no cancel url", func(p *payments.CheckoutParams) { p.CancelURL = "" }},
		{"no idempotency key", func(p *payments.CheckoutParams) { p.IdempotencyKey = "" }},
		{"long idempotency key", func(p *payments.CheckoutParams) { p.IdempotencyKey = strings.Repeat("k", 256) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := checkoutParams()
			tt.change(&p)
			if _, err := g.CreateCheckout(context.Background(), p); !errors.Is(err, payments.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d requests reached Stripe, want 0", n)
	}
}

// TestStripeErrorsAreClassified uses a fake Stripe to answer with given
// statuses, which stripe-mock cannot be made to do.
func TestStripeErrorsAreClassified(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error
		inMsg  string
	}{
		{"invalid request", 400, `{"error":{"type":"invalid_request_error","code":"email_invalid","param":"customer_email","message":"Invalid email address: ana.chavez@example.org"}}`,
			payments.ErrInvalid, "Invalid email address: [email]"},
		{"bad key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_***"}}`,
			payments.ErrInvalid, "Invalid API Key provided"},
		{"idempotency conflict", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`,
			payments.ErrInvalid, "idempotent"},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`,
			payments.ErrUnavailable, "Too many requests"},
		{"server error", 500, `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`,
			payments.ErrUnavailable, "Stripe's end"},
		{"proxy error page", 502, `<html>Bad Gateway</html>`, payments.ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Request-Id", "req_test")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			g, _ := newGateway(t, srv.URL)

			_, err := g.CreateCheckout(context.Background(), checkoutParams())
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.inMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.inMsg)
			}
			if strings.Contains(err.Error(), "ana.chavez@example.org") {
				t.Errorf("err = %q quotes the member's email", err)
			}
			if tt.inMsg != "" {
				var se *stripe.Error
				if !errors.As(err, &se) || se.HTTPStatusCode != tt.status {
					t.Errorf("errors.As(*stripe.Error) = %v, want status %d", se, tt.status)
				}
			}
			_, err = g.Refund(context.Background(), "pi_123", 0, "refund-1")
			if !errors.Is(err, tt.want) {
				t.Errorf("Refund err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRefundAgainstStripeMock(t *testing.T) {
	g, rec := newGateway(t, paymentstest.StartStripeMock(t))

	t.Run("full", func(t *testing.T) {
		r, err := g.Refund(context.Background(), "pi_123", 0, "refund-42-full")
		if err != nil {
			t.Fatalf("Refund: %v", err)
		}
		if !strings.HasPrefix(r.ID, "re_") || r.Status == "" {
			t.Errorf("Refund = %+v, want a re_ id and a status", r)
		}
		req := rec.last(t)
		if req.path != "/v1/refunds" || req.form.Get("payment_intent") != "pi_123" {
			t.Errorf("request = %s %v, want /v1/refunds for pi_123", req.path, req.form)
		}
		if req.form.Has("amount") {
			t.Errorf("full refund sent amount=%s, want no amount", req.form.Get("amount"))
		}
		if got := req.header.Get("Idempotency-Key"); got != "refund-42-full" {
			t.Errorf("Idempotency-Key = %q", got)
		}
	})
	t.Run("partial", func(t *testing.T) {
		r, err := g.Refund(context.Background(), "pi_123", 1500, "refund-42-part")
		if err != nil {
			t.Fatalf("Refund: %v", err)
		}
		if r.AmountCents != 1500 {
			t.Errorf("AmountCents = %d, want 1500", r.AmountCents)
		}
		if got := rec.last(t).form.Get("amount"); got != "1500" {
			t.Errorf("amount = %q, want 1500", got)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		n := rec.count()
		for _, c := range []struct {
			pi     string
			amount int64
			key    string
		}{{"", 0, "k"}, {"pi_123", -1, "k"}, {"pi_123", 0, ""}} {
			if _, err := g.Refund(context.Background(), c.pi, c.amount, c.key); !errors.Is(err, payments.ErrInvalid) {
				t.Errorf("Refund(%q, %d, %q) err = %v, want ErrInvalid", c.pi, c.amount, c.key, err)
			}
		}
		if rec.count() != n {
			t.Error("bad input reached Stripe")
		}
	})
}

func TestDisabledGateway(t *testing.T) {
	g := payments.NewStripe(payments.Config{WebhookSecret: testWebhookSecret, APIBase: "http://127.0.0.1:1"}, nil)
	if g.Enabled() {
		t.Fatal("gateway without a secret key is enabled")
	}
	if _, err := g.CreateCheckout(context.Background(), checkoutParams()); !errors.Is(err, payments.ErrDisabled) {
		t.Errorf("CreateCheckout err = %v, want ErrDisabled", err)
	}
	if _, err := g.Refund(context.Background(), "pi_123", 0, "k"); !errors.Is(err, payments.ErrDisabled) {
		t.Errorf("Refund err = %v, want ErrDisabled", err)
	}
	if err := g.ExpireCheckout(context.Background(), "cs_1"); !errors.Is(err, payments.ErrDisabled) {
		t.Errorf("ExpireCheckout err = %v, want ErrDisabled", err)
	}
	payload := paymentstest.CheckoutSessionEvent("evt_1", payments.EventCheckoutCompleted, "cs_1", 42, 12500, "paid")
	if _, err := g.ParseWebhook(payload, paymentstest.SignedWebhook(testWebhookSecret, payload, time.Now())); !errors.Is(err, payments.ErrDisabled) {
		t.Errorf("ParseWebhook err = %v, want ErrDisabled", err)
	}
}

func TestExpireCheckoutAgainstStripeMock(t *testing.T) {
	g, rec := newGateway(t, paymentstest.StartStripeMock(t))
	if err := g.ExpireCheckout(context.Background(), "cs_test_open"); err != nil {
		t.Fatalf("ExpireCheckout: %v", err)
	}
	req := rec.last(t)
	if req.method != http.MethodPost || req.path != "/v1/checkout/sessions/cs_test_open/expire" {
		t.Errorf("request = %s %s, want POST /v1/checkout/sessions/cs_test_open/expire", req.method, req.path)
	}

	n := rec.count()
	if err := g.ExpireCheckout(context.Background(), " "); !errors.Is(err, payments.ErrInvalid) {
		t.Errorf("no session id: err = %v, want ErrInvalid", err)
	}
	if rec.count() != n {
		t.Error("an empty session id reached Stripe")
	}
}

// TestExpireCheckoutOfAClosedSession uses a fake Stripe that refuses to
// expire a session that is not open, as Stripe does, and reports the
// session's status when asked.
func TestExpireCheckoutOfAClosedSession(t *testing.T) {
	const notOpen = `{"error":{"type":"invalid_request_error","message":"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of ` + "`%s`" + `."}}`
	tests := []struct {
		status string // the session's status at Stripe
		want   error  // nil: closed as asked
	}{
		{"expired", nil},
		{"complete", payments.ErrCheckoutComplete},
		{"open", payments.ErrInvalid}, // refused for another reason: the refusal stands
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusBadRequest)
					io.WriteString(w, strings.ReplaceAll(notOpen, "%s", tt.status))
					return
				}
				io.WriteString(w, `{"id":"cs_test_1","object":"checkout.session","status":"`+tt.status+`"}`)
			}))
			defer srv.Close()
			g, rec := newGateway(t, srv.URL)

			err := g.ExpireCheckout(context.Background(), "cs_test_1")
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if req := rec.last(t); req.method != http.MethodGet || req.path != "/v1/checkout/sessions/cs_test_1" {
				t.Errorf("last request = %s %s, want the session fetched", req.method, req.path)
			}
		})
	}

	t.Run("stripe down", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		g, rec := newGateway(t, srv.URL)
		if err := g.ExpireCheckout(context.Background(), "cs_test_1"); !errors.Is(err, payments.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if req := rec.last(t); req.method != http.MethodPost {
			t.Errorf("last request = %s %s, want no fetch after an outage", req.method, req.path)
		}
	})
}
