package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"convene/models"
	"convene/payments"
)

// midCheckout is a Stripe transport that runs between once, when the app
// first asks Stripe to create a checkout session (after PrepareCheckout,
// before RecordCheckout), and remembers the ids of the sessions created.
type midCheckout struct {
	next    http.RoundTripper
	between func()
	once    sync.Once
	mu      sync.Mutex
	created []string
}

func (m *midCheckout) RoundTrip(req *http.Request) (*http.Response, error) {
	create := req.Method == http.MethodPost && req.URL.Path == "/v1/checkout/sessions"
	if create {
		m.once.Do(m.between)
	}
	res, err := m.next.RoundTrip(req)
	if err != nil || !create {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	var s struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &s) == nil && s.ID != "" {
		m.mu.Lock()
		m.created = append(m.created, s.ID)
		m.mu.Unlock()
	}
	return res, nil
}

func (m *midCheckout) sessions() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.created...)
}

// A member who cancels while Stripe is creating their checkout session is not
// sent to pay on it: they get the answer a cancelled registration gets, and
// the session, which nothing stored, is expired at Stripe.
func TestCheckoutForARegistrationCancelledMeanwhile(t *testing.T) {
	w := newPayWorld(t)
	bea := w.ta.signedIn("bea@example.org", false, false)
	beaReg := w.register(t, bea, "Bea", "Reyes", "1003")
	if beaReg.Status != models.RegAwaitingPayment {
		t.Fatalf("bea's registration is %s, want awaiting_payment", beaReg.Status)
	}
	for _, c := range []struct {
		name     string
		member   *client
		reg      models.Registration
		checkout func(path string) response
		cancel   func(path string) response
	}{
		{"page", w.ana, w.reg,
			func(path string) response { return w.ana.post(path+"/checkout", nil) },
			func(path string) response { return w.ana.post(path+"/cancel", nil) }},
		{"api", bea, beaReg,
			func(path string) response { return bea.api("POST", "/api/v1"+path+"/checkout", nil) },
			func(path string) response { return bea.api("POST", "/api/v1"+path+"/cancel", nil) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/registrations/" + strconv.FormatInt(c.reg.ID, 10)
			calls := &stripeCalls{}
			mid := &midCheckout{next: calls, between: func() {
				// The member cancels in another tab while Stripe works.
				if r := c.cancel(path); r.Code != http.StatusSeeOther && r.Code != http.StatusOK {
					t.Errorf("cancel: %d %s", r.Code, r.body)
				}
			}}
			w.ta.Pay = payments.NewStripe(payments.Config{SecretKey: "sk_test_123", WebhookSecret: testWebhookSecret,
				APIBase: w.stripeBase, HTTPClient: &http.Client{Transport: mid, Timeout: 10 * time.Second}}, nil)

			r := c.checkout(path)
			if reg := w.reload(t, c.reg.ID); reg.Status != models.RegCancelled {
				t.Fatalf("registration %s, want cancelled mid-checkout", reg.Status)
			}
			created := mid.sessions()
			if len(created) != 1 {
				t.Fatalf("sessions created: %v, want 1", created)
			}
			if loc := r.Header().Get("Location"); r.Code != http.StatusConflict || loc != "" {
				t.Fatalf("checkout of a registration cancelled meanwhile: %d, Location %q, %s", r.Code, loc, r.body)
			}
			if calls := calls.to("/v1/checkout/sessions/" + created[0] + "/expire"); len(calls) != 1 || calls[0].method != http.MethodPost {
				t.Errorf("expire calls for %s: %+v, want one POST", created[0], calls)
			}
			if ps := w.payments(t, c.reg.ID); len(ps) != 0 {
				t.Errorf("payments stored: %+v, want none", ps)
			}
			if n := w.ta.countAudit(t, c.reg.ID, "payment_checkout_started"); n != 0 {
				t.Errorf("%d payment_checkout_started audit entries, want 0", n)
			}

			// The answer is the one a cancelled registration gets from the start.
			again := c.checkout(path)
			if again.Code != r.Code {
				t.Errorf("status %d, want %d as for checking out a cancelled registration", r.Code, again.Code)
			}
			if c.name == "api" {
				if code := r.errorCode(t); code != "not_payable" || r.body != again.body {
					t.Errorf("api answer %s, want %s", r.body, again.body)
				}
			} else {
				mustContain(t, r.body, "This registration is cancelled or denied, so it cannot be paid.")
			}
			if n := len(calls.to("/v1/checkout/sessions")); n != 1 {
				t.Errorf("%d sessions created in all, want 1", n)
			}
		})
	}
}
