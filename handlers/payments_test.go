package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"convene/handlers"
	"convene/models"
	"convene/payments"
	"convene/payments/paymentstest"
)

const testWebhookSecret = "whsec_convene_test"

// stripeCalls is an http.RoundTripper that remembers what the gateway asked
// Stripe, so tests can see the amount and the idempotency key sent.
type stripeCalls struct {
	mu   sync.Mutex
	reqs []stripeCall
}

type stripeCall struct {
	method, path, key string
	form              url.Values
}

func (s *stripeCalls) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	s.reqs = append(s.reqs, stripeCall{req.Method, req.URL.Path, req.Header.Get("Idempotency-Key"), form})
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// to lists the calls made to a Stripe path, e.g. /v1/checkout/sessions.
func (s *stripeCalls) to(path string) []stripeCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stripeCall
	for _, r := range s.reqs {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// useStripe points the app's gateway at apiBase (stripe-mock, or a server
// that fails) and returns what it will be asked.
func (ta *testApp) useStripe(apiBase string) *stripeCalls {
	calls := &stripeCalls{}
	ta.Pay = payments.NewStripe(payments.Config{SecretKey: "sk_test_123", WebhookSecret: testWebhookSecret, APIBase: apiBase,
		HTTPClient: &http.Client{Transport: calls, Timeout: 10 * time.Second}}, nil)
	return calls
}

// payWorld is newRegWorld with Stripe (stripe-mock) and Ana, a roster member
// of local 4121, registered in the $150 category and awaiting payment.
type payWorld struct {
	*regWorld
	calls      *stripeCalls
	stripeBase string // the stripe-mock calls goes to
	ana        *client
	reg        models.Registration
	path       string // /registrations/ID
}

func newPayWorld(t *testing.T) *payWorld {
	t.Helper()
	w := &payWorld{regWorld: newRegWorld(t)}
	w.stripeBase = paymentstest.StartStripeMock(t)
	w.calls = w.ta.useStripe(w.stripeBase)
	w.ana = w.ta.signedIn("ana@example.org", false, false)
	w.reg = w.register(t, w.ana, "Ana", "Cortés", "1002")
	if w.reg.Status != models.RegAwaitingPayment || w.reg.AmountDueCents != 15000 {
		t.Fatalf("registration %s owing %d, want awaiting_payment owing 15000", w.reg.Status, w.reg.AmountDueCents)
	}
	w.path = "/registrations/" + strconv.FormatInt(w.reg.ID, 10)
	return w
}

func (w *payWorld) register(t *testing.T, c *client, first, last, number string) models.Registration {
	t.Helper()
	form := registrationForm(first, last, "4121", number)
	form.Set("category", "paid")
	form.Set("email", "member"+number+"@example.org")
	r := c.post("/conferences/pal/register", form)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("register %s: %d %s", last, r.Code, r.body)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(r.Header().Get("Location"), "/registrations/"), 10, 64)
	return w.reload(t, id)
}

func (w *payWorld) reload(t *testing.T, id int64) models.Registration {
	t.Helper()
	r, err := w.ta.Store.Registration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *payWorld) payments(t *testing.T, id int64) []models.Payment {
	t.Helper()
	ps, err := w.ta.Store.Payments(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// checkout has Ana start paying and returns the Stripe session id.
func (w *payWorld) checkout(t *testing.T) string {
	t.Helper()
	r := w.ana.post(w.path+"/checkout", nil)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("checkout: %d %s", r.Code, r.body)
	}
	ps := w.payments(t, w.reg.ID)
	if len(ps) == 0 || ps[len(ps)-1].StripeSessionID == nil {
		t.Fatalf("no Stripe payment recorded: %+v", ps)
	}
	return *ps[len(ps)-1].StripeSessionID
}

// deliver posts a webhook to the app as Stripe would, signed at `at`.
func (ta *testApp) deliver(payload []byte, at time.Time) response {
	return ta.deliverSigned(payload, paymentstest.SignedWebhook(testWebhookSecret, payload, at))
}

func (ta *testApp) deliverSigned(payload []byte, header string) response {
	req := httptest.NewRequest("POST", "/webhooks/stripe", strings.NewReader(string(payload)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", header)
	rec := httptest.NewRecorder()
	ta.h.ServeHTTP(rec, req)
	return response{rec, rec.Body.String()}
}

func (ta *testApp) countAudit(t *testing.T, regID int64, action string) int {
	t.Helper()
	hist, err := ta.Store.History(context.Background(), "registration", regID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hist {
		if h.Action == action {
			n++
		}
	}
	return n
}

func TestCheckoutChargesWhatTheServerComputed(t *testing.T) {
	w := newPayWorld(t)
	page := w.ana.get(w.path + "/payment")
	mustContain(t, page.body, "Pay $150 by card", `action="`+w.path+`/checkout"`)

	// The browser sends a changed amount; it is ignored.
	r := w.ana.post(w.path+"/checkout", url.Values{"amount": {"1.00"}, "amount_cents": {"100"}, "price": {"1"}})
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "https://") {
		t.Fatalf("checkout: %d %q", r.Code, r.Header().Get("Location"))
	}
	sessions := w.calls.to("/v1/checkout/sessions")
	if len(sessions) != 1 {
		t.Fatalf("%d sessions created, want 1", len(sessions))
	}
	s := sessions[0]
	id := strconv.FormatInt(w.reg.ID, 10)
	for k, want := range map[string]string{
		"line_items[0][price_data][unit_amount]": "15000", "line_items[0][price_data][currency]": "usd",
		"metadata[registration_id]": id, "client_reference_id": id,
		"success_url": "http://convene.test" + w.path + "/payment/success",
	} {
		if got := s.form.Get(k); got != want {
			t.Errorf("Stripe got %s=%q, want %q", k, got, want)
		}
	}
	if want := "convene-checkout-" + id + "-15000-1"; s.key != want {
		t.Errorf("idempotency key %q, want %q", s.key, want)
	}

	// The API ignores a body with an amount too, and sends the member back to
	// the open session rather than creating another.
	r = w.ana.api("POST", "/api/v1/registrations/"+id+"/checkout", map[string]any{"amount_cents": 100})
	if r.Code != http.StatusOK || !strings.HasPrefix(fmt.Sprint(r.json(t)["url"]), "https://") {
		t.Fatalf("api checkout: %d %s", r.Code, r.body)
	}
	if n := len(w.calls.to("/v1/checkout/sessions")); n != 1 {
		t.Errorf("%d sessions after the API call, want the open one reused", n)
	}
	if ps := w.payments(t, w.reg.ID); len(ps) != 1 || ps[0].AmountCents != 15000 || ps[0].Status != models.PayPending {
		t.Errorf("payments: %+v", ps)
	}
	// Visiting the success page confirms nothing.
	page = w.ana.get(w.path + "/payment/success")
	mustContain(t, page.body, "We are confirming your payment", `http-equiv="refresh"`)
	if got := w.reload(t, w.reg.ID); got.Status != models.RegAwaitingPayment {
		t.Errorf("success page changed the registration to %s", got.Status)
	}
	page = w.ana.get(w.path + "/payment/cancelled")
	mustContain(t, page.body, "You left the payment page without paying", "Pay $150 by card")
}

func TestPayingBeforeApprovalIsImpossible(t *testing.T) {
	w := newPayWorld(t)
	pat := w.ta.signedIn("pat@example.org", false, false)
	reg := w.register(t, pat, "Pat", "Nobody", "5555") // not on the roster: pending
	if reg.Status != models.RegPending {
		t.Fatalf("status %s, want pending", reg.Status)
	}
	id := strconv.FormatInt(reg.ID, 10)
	r := pat.api("POST", "/api/v1/registrations/"+id+"/checkout", nil)
	if r.Code != http.StatusConflict || r.errorCode(t) != "not_approved" {
		t.Errorf("api checkout before approval: %d %s", r.Code, r.body)
	}
	if r := pat.post("/registrations/"+id+"/checkout", nil); r.Code != http.StatusConflict {
		t.Errorf("page checkout before approval: %d", r.Code)
	}
	page := pat.get("/registrations/" + id + "/payment")
	mustContain(t, page.body, "You can pay once your registration is approved.")
	mustNotContain(t, page.body, "/checkout", "by card")
	mustNotContain(t, pat.get("/registrations/"+id).body, "/checkout", "Pay now")
	mustNotContain(t, pat.get("/me").body, "Pay now")
	if n := len(w.calls.to("/v1/checkout/sessions")); n != 0 {
		t.Errorf("%d sessions created for an unapproved registration", n)
	}
	// Someone else's registration: 403, and nothing reaches Stripe.
	if r := pat.api("POST", "/api/v1/registrations/"+strconv.FormatInt(w.reg.ID, 10)+"/checkout", nil); r.Code != http.StatusForbidden {
		t.Errorf("paying someone else's: %d", r.Code)
	}
	// Once approved, the dashboard and the registration page offer to pay.
	if r := w.officer("4121").post("/registrations/"+id+"/approve", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d", r.Code)
	}
	mustContain(t, pat.get("/me").body, "Pay now")
	mustContain(t, pat.get("/registrations/"+id).body, "/registrations/"+id+"/payment")
	if r := pat.api("POST", "/api/v1/registrations/"+id+"/checkout", nil); r.Code != http.StatusOK {
		t.Errorf("api checkout once approved: %d %s", r.Code, r.body)
	}
}

func TestCheckoutWhenStripeFails(t *testing.T) {
	w := newPayWorld(t)
	id := strconv.FormatInt(w.reg.ID, 10)
	wantKey := "convene-checkout-" + id + "-15000-1"

	// stripe-mock stopped: nothing listens any more.
	var stoppedBase string
	t.Run("stripe-mock", func(t *testing.T) { stoppedBase = paymentstest.StartStripeMock(t) })
	down := w.ta.useStripe(stoppedBase)
	r := w.ana.post(w.path+"/checkout", nil)
	if r.Code != http.StatusServiceUnavailable {
		t.Fatalf("checkout with Stripe down: %d", r.Code)
	}
	mustContain(t, r.body, "We could not reach the card payment service. Nothing was charged", "Pay $150 by card")
	calls := down.to("/v1/checkout/sessions")
	if len(calls) == 0 || calls[0].key != wantKey {
		t.Fatalf("calls while down: %+v", calls)
	}

	// Stripe answering with an error.
	errs := stripeFailing(t)
	failing := w.ta.useStripe(errs.URL)
	r = w.ana.api("POST", "/api/v1/registrations/"+id+"/checkout", nil)
	if r.Code != http.StatusServiceUnavailable || r.errorCode(t) != "payment_unavailable" {
		t.Errorf("api checkout with a Stripe error: %d %s", r.Code, r.body)
	}
	if calls := failing.to("/v1/checkout/sessions"); len(calls) == 0 || calls[0].key != wantKey {
		t.Errorf("retry used key %+v, want %q", calls, wantKey)
	}
	reg := w.reload(t, w.reg.ID)
	if reg.Status != models.RegAwaitingPayment || reg.AmountDueCents != 15000 || len(w.payments(t, w.reg.ID)) != 0 {
		t.Fatalf("after failures: %s owing %d with %d payments", reg.Status, reg.AmountDueCents, len(w.payments(t, w.reg.ID)))
	}

	// Stripe is back: the retry reuses the key and works.
	ok := w.ta.useStripe(paymentstest.StartStripeMock(t))
	if r := w.ana.post(w.path+"/checkout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("checkout after recovery: %d", r.Code)
	}
	if calls := ok.to("/v1/checkout/sessions"); len(calls) != 1 || calls[0].key != wantKey {
		t.Errorf("recovered checkout used %+v, want key %q", calls, wantKey)
	}
}

func TestWebhookConfirmsPaymentOnce(t *testing.T) {
	w := newPayWorld(t)
	session := w.checkout(t)
	event := paymentstest.CheckoutSessionEvent("evt_paid", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "paid")

	// Ten deliveries of the same event at once: processed once.
	var wg sync.WaitGroup
	outcomes := make(chan string, 10)
	for range 10 {
		wg.Go(func() {
			r := w.ta.deliver(event, time.Now())
			if r.Code != http.StatusOK {
				t.Errorf("delivery: %d %s", r.Code, r.body)
				return
			}
			outcomes <- fmt.Sprint(r.json(t)["outcome"])
		})
	}
	wg.Wait()
	close(outcomes)
	counts := map[string]int{}
	for o := range outcomes {
		counts[o]++
	}
	if counts["confirmed"] != 1 || counts["duplicate"] != 9 {
		t.Errorf("outcomes %v, want one confirmed and nine duplicates", counts)
	}
	// And once more, later.
	if r := w.ta.deliver(event, time.Now()); r.Code != http.StatusOK || r.json(t)["outcome"] != "duplicate" {
		t.Errorf("late duplicate: %d %s", r.Code, r.body)
	}
	reg := w.reload(t, w.reg.ID)
	if reg.Status != models.RegConfirmed || reg.AmountDueCents != 0 {
		t.Errorf("after payment: %s owing %d", reg.Status, reg.AmountDueCents)
	}
	if n := w.ta.countAudit(t, w.reg.ID, "status_confirmed"); n != 1 {
		t.Errorf("confirmed %d times", n)
	}
	ps := w.payments(t, w.reg.ID)
	if len(ps) != 1 || ps[0].Status != models.PaySucceeded || ps[0].StripePaymentIntentID == nil {
		t.Fatalf("payments: %+v", ps)
	}
	mustContain(t, w.ana.get(w.path+"/payment/success").body, "Your payment was received and your registration is confirmed.")
	mustNotContain(t, w.ana.get(w.path+"/payment/success").body, `http-equiv="refresh"`)
	j := w.ana.get("/api/v1/registrations/" + strconv.FormatInt(w.reg.ID, 10)).json(t)
	if j["status"] != "confirmed" || j["amount_due_cents"] != float64(0) {
		t.Errorf("api after payment: %v", j)
	}
}

func TestWebhookEventsInAnyOrder(t *testing.T) {
	w := newPayWorld(t)
	session := w.checkout(t)
	// A bank payment: Stripe says succeeded before the checkout completed.
	asyncOK := paymentstest.CheckoutSessionEvent("evt_async", payments.EventCheckoutAsyncPaymentOK, session, w.reg.ID, 15000, "paid")
	completed := paymentstest.CheckoutSessionEvent("evt_done", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "unpaid")
	for _, ev := range [][]byte{asyncOK, completed, asyncOK} {
		if r := w.ta.deliver(ev, time.Now()); r.Code != http.StatusOK {
			t.Fatalf("delivery: %d %s", r.Code, r.body)
		}
		if reg := w.reload(t, w.reg.ID); reg.Status != models.RegConfirmed {
			t.Fatalf("after the async success: %s, want confirmed", reg.Status)
		}
	}
	if ps := w.payments(t, w.reg.ID); ps[0].Status != models.PaySucceeded {
		t.Errorf("payment %s after a late completed(unpaid), want succeeded", ps[0].Status)
	}
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	w := newPayWorld(t)
	session := w.checkout(t)
	event := paymentstest.CheckoutSessionEvent("evt_forged", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "paid")
	tests := []struct {
		name   string
		header string
	}{
		{"no signature", ""},
		{"wrong secret", paymentstest.SignedWebhook("whsec_someone_else", event, time.Now())},
		{"stale timestamp", paymentstest.SignedWebhook(testWebhookSecret, event, time.Now().Add(-10*time.Minute))},
		{"signature of another payload", paymentstest.SignedWebhook(testWebhookSecret, []byte(`{"id":"evt_other"}`), time.Now())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.ta.deliverSigned(event, tc.header)
			if r.Code != http.StatusBadRequest || r.errorCode(t) != "bad_signature" {
				t.Errorf("%d %s, want 400 bad_signature", r.Code, r.body)
			}
		})
	}
	var stored int
	w.ta.DB.Get(&stored, `SELECT count(*) FROM stripe_events`)
	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegAwaitingPayment || stored != 0 {
		t.Errorf("refused webhooks changed something: %s, %d events stored", reg.Status, stored)
	}
	// Control: the same event, properly signed, is accepted.
	if r := w.ta.deliver(event, time.Now()); r.Code != http.StatusOK {
		t.Errorf("control: %d %s", r.Code, r.body)
	}
}

func TestWebhookForUnknownOrCancelledRegistration(t *testing.T) {
	w := newPayWorld(t)
	session := w.checkout(t)

	unknown := paymentstest.CheckoutSessionEvent("evt_unknown", payments.EventCheckoutCompleted, "cs_test_unknown", 999999, 15000, "paid")
	r := w.ta.deliver(unknown, time.Now())
	if r.Code != http.StatusOK || r.json(t)["outcome"] != models.OutcomeUnknownRegistration {
		t.Errorf("unknown registration: %d %s", r.Code, r.body)
	}
	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegAwaitingPayment {
		t.Errorf("an unknown registration's event changed Ana's to %s", reg.Status)
	}

	// Ana cancels, then the payment she had started completes.
	if r := w.ana.post(w.path+"/cancel", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Code)
	}
	paid := paymentstest.CheckoutSessionEvent("evt_late", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "paid")
	r = w.ta.deliver(paid, time.Now())
	if r.Code != http.StatusOK || r.json(t)["outcome"] != models.OutcomeFlaggedForRefund {
		t.Fatalf("payment after cancelling: %d %s", r.Code, r.body)
	}
	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegCancelled {
		t.Errorf("registration %s, want still cancelled", reg.Status)
	}
	if ps := w.payments(t, w.reg.ID); ps[0].Status != models.PaySucceeded || ps[0].OwedBack() != 15000 {
		t.Errorf("payment %s owing back %d", ps[0].Status, ps[0].OwedBack())
	}
	staff := w.ta.signedIn("money@example.org", true, false)
	page := staff.get("/staff/conferences/pal/payments")
	mustContain(t, page.body, "Needs attention", "Ana Cortés", "$150 to refund")
	mustContain(t, w.ana.get(w.path+"/payment/success").body, "This registration was cancelled, so your payment will be refunded.")
}

func TestOurLocalPaysAndStatement(t *testing.T) {
	w := newPayWorld(t)
	// A name a spreadsheet would run as a formula.
	jordan := w.ta.signedIn("jordan@example.org", false, false)
	jr := w.register(t, jordan, `=HYPERLINK("http://evil.example","x")`, "Reyes", "1003")
	jpath := "/registrations/" + strconv.FormatInt(jr.ID, 10)

	other := w.officer("7600")
	if r := other.post(jpath+"/payments", url.Values{"method": {"local_invoice"}}); r.Code != http.StatusForbidden {
		t.Errorf("another local's officer billed 4121: %d", r.Code)
	}
	if r := jordan.post(jpath+"/payments", url.Values{"method": {"local_invoice"}}); r.Code != http.StatusForbidden {
		t.Errorf("the member billed the local: %d", r.Code)
	}
	own := w.officer("4121")
	page := own.get(jpath + "/payment")
	mustContain(t, page.body, "Our local pays $150")
	mustNotContain(t, page.body, "Record a payment")
	if r := own.post(jpath+"/payments", url.Values{"method": {"cash"}, "reference": {"x"}}); r.Code != http.StatusForbidden {
		t.Errorf("officer recorded cash: %d", r.Code)
	}
	// An amount in the form is taken only up to what is owed.
	if r := own.post(jpath+"/payments", url.Values{"method": {"local_invoice"}, "amount": {"999"}}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("billing more than owed: %d", r.Code)
	}
	if r := own.post(jpath+"/payments", url.Values{"method": {"local_invoice"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("our local pays: %d", r.Code)
	}
	if reg := w.reload(t, jr.ID); reg.Status != models.RegConfirmed || reg.AmountDueCents != 0 {
		t.Errorf("after the local pays: %s owing %d", reg.Status, reg.AmountDueCents)
	}
	if n := w.ta.countAudit(t, jr.ID, "payment_recorded"); n != 1 {
		t.Errorf("%d payment_recorded audit entries", n)
	}

	st := own.get("/officer/locals/4121/statement?conference=pal")
	mustContain(t, st.body, "Statement: Local 4121", "Reyes", "$150", "Invoiced")
	if r := other.get("/officer/locals/4121/statement"); r.Code != http.StatusForbidden {
		t.Errorf("another local's officer read the statement: %d", r.Code)
	}
	if r := jordan.get("/officer/locals/4121/statement.csv"); r.Code != http.StatusForbidden {
		t.Errorf("a member read the statement: %d", r.Code)
	}
	// Billed at 01:30 UTC on 15 March: still the 14th where the conference is.
	var zone string
	if err := w.ta.DB.Get(&zone, `UPDATE payments p SET paid_at = '2027-03-15T01:30:00Z' FROM registrations r, conferences c
		WHERE p.registration_id = $1 AND r.id = p.registration_id AND c.id = r.conference_id RETURNING c.time_zone`, jr.ID); err != nil {
		t.Fatal(err)
	}
	wantDay := time.Date(2027, 3, 15, 1, 30, 0, 0, time.UTC).In(models.Conference{TimeZone: zone}.Location()).Format("2006-01-02")
	if wantDay == "2027-03-15" {
		t.Fatalf("the conference's zone %q does not put 01:30 UTC on another day; the test needs one that does", zone)
	}
	r := own.get("/officer/locals/4121/statement.csv?conference=pal")
	if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Code, r.Header().Get("Content-Type"))
	}
	// A BOM, so a spreadsheet reads the accents of names right.
	body, bom := strings.CutPrefix(r.body, "\ufeff")
	if !bom {
		t.Errorf("the statement CSV has no byte order mark: %q", r.body[:min(len(r.body), 20)])
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv rows %v %v", rows, err)
	}
	if rows[1][3] != `'=HYPERLINK("http://evil.example","x")` || rows[1][5] != "150.00" || rows[1][7] != "invoiced" {
		t.Errorf("csv line %q", rows[1])
	}
	if rows[0][8] != "billed_at" || rows[1][8] != wantDay {
		t.Errorf("billed_at %q (column %q), want %s, the day in the conference's zone %s", rows[1][8], rows[0][8], wantDay, zone)
	}
}

func TestStaffRecordCashCheckAndWaiver(t *testing.T) {
	w := newPayWorld(t)
	id := strconv.FormatInt(w.reg.ID, 10)
	staff := w.ta.signedIn("desk@example.org", true, false)
	for _, c := range []*client{w.ana, w.officer("4121")} {
		if r := c.api("POST", "/api/v1/registrations/"+id+"/payments", map[string]any{"method": "cash", "amount_cents": 15000}); r.Code != http.StatusForbidden {
			t.Errorf("non-staff recorded cash: %d", r.Code)
		}
	}
	r := staff.api("POST", "/api/v1/registrations/"+id+"/payments", map[string]any{"method": "check", "amount_cents": 5000})
	if r.Code != http.StatusUnprocessableEntity || r.errorCode(t) != "invalid" || !strings.Contains(r.body, "check number") {
		t.Errorf("check without a number: %d %s", r.Code, r.body)
	}
	r = staff.api("POST", "/api/v1/registrations/"+id+"/payments", map[string]any{"method": "cash", "amount_cents": 5000, "reference": "desk 2, receipt 118"})
	if r.Code != http.StatusCreated || r.json(t)["status"] != "succeeded" {
		t.Fatalf("cash: %d %s", r.Code, r.body)
	}
	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegAwaitingPayment || reg.AmountDueCents != 10000 {
		t.Errorf("after $50 cash: %s owing %d", reg.Status, reg.AmountDueCents)
	}
	// The member's card payment is now for what is left.
	w.checkout(t)
	if s := w.calls.to("/v1/checkout/sessions"); s[len(s)-1].form.Get("line_items[0][price_data][unit_amount]") != "10000" {
		t.Errorf("card amount after cash: %s", s[len(s)-1].form.Get("line_items[0][price_data][unit_amount]"))
	}
	if r := staff.post(w.path+"/payments", url.Values{"method": {"check"}, "reference": {"#2041"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("check: %d %s", r.Code, r.body)
	}
	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegConfirmed || reg.AmountDueCents != 0 {
		t.Errorf("after the check: %s owing %d", reg.Status, reg.AmountDueCents)
	}
	if r := staff.api("POST", "/api/v1/registrations/"+id+"/payments", map[string]any{"method": "waived"}); r.Code != http.StatusConflict || r.errorCode(t) != "nothing_due" {
		t.Errorf("waiving a paid registration: %d %s", r.Code, r.body)
	}
	if n := w.ta.countAudit(t, w.reg.ID, "payment_recorded"); n != 2 {
		t.Errorf("%d payments audited, want 2", n)
	}

	// A waiver for someone else.
	mei := w.ta.signedIn("mei@example.org", false, false)
	mr := w.register(t, mei, "Mei", "Harper", "1004")
	if r := staff.post("/registrations/"+strconv.FormatInt(mr.ID, 10)+"/payments", url.Values{"method": {"waived"}, "reference": {"hardship"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("waiver: %d", r.Code)
	}
	if reg := w.reload(t, mr.ID); reg.Status != models.RegConfirmed {
		t.Errorf("after the waiver: %s", reg.Status)
	}

	page := staff.get("/staff/conferences/pal/payments")
	mustContain(t, page.body, "By method", "By local", "Cash", "Check", "Waiver", "$50", "$100", "Harbor City Academic Workers", "desk 2, receipt 118")
}

func TestCancellationRefunds(t *testing.T) {
	pay := func(t *testing.T, deadline time.Time) (*payWorld, models.Payment) {
		w := newPayWorld(t)
		if _, err := w.ta.DB.Exec(`UPDATE conferences SET cancellation_deadline = $2 WHERE id = $1`, w.conf.ID, deadline); err != nil {
			t.Fatal(err)
		}
		session := w.checkout(t)
		ev := paymentstest.CheckoutSessionEvent("evt_paid", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "paid")
		if r := w.ta.deliver(ev, time.Now()); r.Code != http.StatusOK {
			t.Fatal(r.body)
		}
		return w, w.payments(t, w.reg.ID)[0]
	}

	t.Run("before the deadline: in full", func(t *testing.T) {
		w, p := pay(t, time.Now().Add(72*time.Hour))
		page := w.ana.get(w.path + "/cancel")
		mustContain(t, page.body, "You get a refund of $150 to the card you paid with.", "Yes, cancel this registration")
		r := w.ana.post(w.path+"/cancel", nil)
		if r.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", r.Code)
		}
		refunds := w.calls.to("/v1/refunds")
		if len(refunds) != 1 || refunds[0].form.Get("payment_intent") != *p.StripePaymentIntentID || !strings.HasPrefix(refunds[0].key, "convene-refund-") {
			t.Fatalf("refunds sent: %+v", refunds)
		}
		mustContain(t, w.ana.get("/me").body, "A refund of $150 is on its way to your card.")
		if got := w.payments(t, w.reg.ID)[0]; got.RefundedCents != 15000 || got.OwedBack() != 0 {
			t.Errorf("refunded %d, owed back %d", got.RefundedCents, got.OwedBack())
		}
		// Stripe's charge.refunded for it changes nothing more.
		ev := paymentstest.ChargeRefundedEvent("evt_refund", *p.StripePaymentIntentID, w.reg.ID, 15000)
		if r := w.ta.deliver(ev, time.Now()); r.Code != http.StatusOK {
			t.Fatal(r.body)
		}
		if got := w.payments(t, w.reg.ID)[0]; got.RefundedCents != 15000 {
			t.Errorf("refunded %d after charge.refunded", got.RefundedCents)
		}
		mustContain(t, w.ana.get("/payments/"+strconv.FormatInt(p.ID, 10)+"/receipt").body, "Refunded $150")
	})

	t.Run("after the deadline: none, and the member is told first", func(t *testing.T) {
		w, p := pay(t, time.Now().Add(-time.Hour))
		page := w.ana.get(w.path + "/cancel")
		mustContain(t, page.body, "The refund deadline passed", "the $150 you paid is not refunded")
		mustNotContain(t, page.body, "You get a refund")
		if r := w.ana.post(w.path+"/cancel", url.Values{"refund": {"150"}}); r.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", r.Code)
		}
		if n := len(w.calls.to("/v1/refunds")); n != 0 {
			t.Errorf("%d refunds after the deadline (a member's refund field must be ignored)", n)
		}
		// Staff may still refund part.
		staff := w.ta.signedIn("money@example.org", true, false)
		if r := w.ana.post("/staff/payments/"+strconv.FormatInt(p.ID, 10)+"/refund", url.Values{"amount": {"50"}}); r.Code != http.StatusForbidden {
			t.Errorf("member refunded: %d", r.Code)
		}
		if r := staff.post("/staff/payments/"+strconv.FormatInt(p.ID, 10)+"/refund", url.Values{"amount": {"50.00"}}); r.Code != http.StatusSeeOther {
			t.Fatalf("staff partial refund: %d", r.Code)
		}
		refunds := w.calls.to("/v1/refunds")
		if len(refunds) != 1 || refunds[0].form.Get("amount") != "5000" {
			t.Fatalf("partial refund sent: %+v", refunds)
		}
		if got := w.payments(t, w.reg.ID)[0]; got.RefundedCents != 5000 {
			t.Errorf("refunded %d, want 5000", got.RefundedCents)
		}
		r := staff.api("POST", "/api/v1/payments/"+strconv.FormatInt(p.ID, 10)+"/refunds", map[string]any{"amount_cents": 20000})
		if r.Code != http.StatusUnprocessableEntity {
			t.Errorf("refunding more than is left: %d %s", r.Code, r.body)
		}
	})

	t.Run("staff cancel with a partial refund", func(t *testing.T) {
		w, _ := pay(t, time.Now().Add(-time.Hour))
		staff := w.ta.signedIn("money@example.org", true, false)
		mustContain(t, staff.get(w.path+"/cancel").body, "Refund (staff)")
		if r := staff.post(w.path+"/cancel", url.Values{"refund": {"abc"}}); r.Code != http.StatusSeeOther {
			t.Fatalf("bad refund amount: %d", r.Code)
		}
		if reg := w.reload(t, w.reg.ID); reg.Status != models.RegConfirmed {
			t.Fatalf("a bad refund amount still cancelled: %s", reg.Status)
		}
		if r := staff.post(w.path+"/cancel", url.Values{"refund": {"75"}}); r.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", r.Code)
		}
		if refunds := w.calls.to("/v1/refunds"); len(refunds) != 1 || refunds[0].form.Get("amount") != "7500" {
			t.Errorf("refunds: %+v", refunds)
		}
	})
}

func TestReceipts(t *testing.T) {
	w := newPayWorld(t)
	staff := w.ta.signedIn("desk@example.org", true, false)
	if r := staff.post(w.path+"/payments", url.Values{"method": {"check"}, "reference": {"#2041"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("check: %d", r.Code)
	}
	p := w.payments(t, w.reg.ID)[0]
	rp := "/payments/" + strconv.FormatInt(p.ID, 10) + "/receipt"
	page := w.ana.get(rp)
	mustContain(t, page.body, "Receipt", p.ReceiptNumber(), "Ana Cortés", "Check", "#2041", "$150")
	w.ana.header.Set("Accept-Language", "es")
	mustContain(t, w.ana.get(rp).body, "Recibo", "Cheque")
	w.ana.header.Del("Accept-Language")
	r := w.ana.get(rp + ".pdf")
	if r.Code != http.StatusOK || r.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.body, "%PDF-") {
		t.Errorf("receipt pdf: %d %s", r.Code, r.Header().Get("Content-Type"))
	}
	stranger := w.ta.signedIn("stranger@example.org", false, false)
	for _, path := range []string{rp, rp + ".pdf", "/payments/999999/receipt"} {
		if r := stranger.get(path); r.Code != http.StatusForbidden {
			t.Errorf("stranger %s: %d", path, r.Code)
		}
	}
	if r := w.officer("4121").get(rp); r.Code != http.StatusOK {
		t.Errorf("the local's officer: %d", r.Code)
	}
	if r := w.officer("7600").get(rp); r.Code != http.StatusForbidden {
		t.Errorf("another local's officer: %d", r.Code)
	}
	mustContain(t, w.ana.get(w.path+"/payment").body, `href="`+rp+`"`)
}

func TestOnlinePaymentUnavailableWithoutStripeKey(t *testing.T) {
	w := &payWorld{regWorld: newRegWorld(t)} // the app's default gateway: no STRIPE_SECRET_KEY
	w.ana = w.ta.signedIn("ana@example.org", false, false)
	w.reg = w.register(t, w.ana, "Ana", "Cortés", "1002")
	id := strconv.FormatInt(w.reg.ID, 10)
	page := w.ana.get("/registrations/" + id + "/payment")
	mustContain(t, page.body, "Online payment is unavailable", "Pay by cash or check at the registration desk")
	mustNotContain(t, page.body, "by card")
	r := w.ana.api("POST", "/api/v1/registrations/"+id+"/checkout", nil)
	if r.Code != http.StatusConflict || r.errorCode(t) != "online_payment_unavailable" {
		t.Errorf("api checkout: %d %s", r.Code, r.body)
	}
	staff := w.ta.signedIn("desk@example.org", true, false)
	mustContain(t, staff.get("/staff/conferences/pal/payments").body, "Online payment is unavailable")
	// Offline methods still work.
	if r := staff.post("/registrations/"+id+"/payments", url.Values{"method": {"cash"}}); r.Code != http.StatusSeeOther {
		t.Errorf("cash without Stripe: %d", r.Code)
	}
	// Webhooks are refused rather than trusted.
	ev := paymentstest.CheckoutSessionEvent("evt_1", payments.EventCheckoutCompleted, "cs_1", w.reg.ID, 15000, "paid")
	if r := w.ta.deliver(ev, time.Now()); r.Code != http.StatusServiceUnavailable {
		t.Errorf("webhook without Stripe: %d", r.Code)
	}
}

func TestPaymentPageInSpanish(t *testing.T) {
	w := newPayWorld(t)
	w.ana.header.Set("Accept-Language", "es")
	mustContain(t, w.ana.get(w.path+"/payment").body, "Pagar $150 con tarjeta", "Otras formas de pagar")
	mustContain(t, w.ana.get(w.path+"/cancel").body, "Sí, cancelar esta inscripción")
	mustContain(t, w.ana.get(w.path+"/payment/cancelled").body, "Salió de la página de pago sin pagar")
	r := w.ana.post(w.path+"/checkout", nil)
	if r.Code != http.StatusSeeOther {
		t.Fatal(r.Code)
	}
	w.ta.useStripe("http://127.0.0.1:1")
	w.ta.DB.Exec(`UPDATE payments SET status = 'expired'`)
	r = w.ana.post(w.path+"/checkout", nil)
	mustContain(t, r.body, "No pudimos comunicarnos con el servicio de pago con tarjeta.")
}

func TestCancellingExpiresTheOpenCheckout(t *testing.T) {
	w := newPayWorld(t)
	anaSession := w.checkout(t)
	// Bea pays too, and cancels through the API.
	bea := w.ta.signedIn("bea@example.org", false, false)
	beaReg := w.register(t, bea, "Bea", "Reyes", "1003")
	beaPath := "/registrations/" + strconv.FormatInt(beaReg.ID, 10)
	if r := bea.post(beaPath+"/checkout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("bea's checkout: %d %s", r.Code, r.body)
	}
	beaSession := *w.payments(t, beaReg.ID)[0].StripeSessionID

	if r := w.ana.post(w.path+"/cancel", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", r.Code, r.body)
	}
	if r := bea.api("POST", "/api/v1"+beaPath+"/cancel", nil); r.Code != http.StatusOK || r.json(t)["status"] != "cancelled" {
		t.Fatalf("api cancel: %d %s", r.Code, r.body)
	}
	for _, c := range []struct {
		name, session string
		reg           models.Registration
		member        *client
	}{{"page", anaSession, w.reg, w.ana}, {"api", beaSession, beaReg, bea}} {
		t.Run(c.name, func(t *testing.T) {
			if calls := w.calls.to("/v1/checkout/sessions/" + c.session + "/expire"); len(calls) != 1 || calls[0].method != http.MethodPost {
				t.Errorf("expire calls for %s: %+v, want one POST", c.session, calls)
			}
			if reg := w.reload(t, c.reg.ID); reg.Status != models.RegCancelled {
				t.Errorf("registration %s, want cancelled", reg.Status)
			}
			ps := w.payments(t, c.reg.ID)
			if len(ps) != 1 || ps[0].Status != models.PayExpired || ps[0].OwedBack() != 0 {
				t.Fatalf("payments: %+v, want the one session expired and nothing owed back", ps)
			}
			if n := w.ta.countAudit(t, c.reg.ID, "payment_checkout_expired"); n != 1 {
				t.Errorf("%d payment_checkout_expired audit entries, want 1", n)
			}
			// The member sees it closed, on the page and in the API.
			path := "/registrations/" + strconv.FormatInt(c.reg.ID, 10)
			mustContain(t, c.member.get(path+"/payment").body, "<td>Expired</td>")
			j := c.member.get("/api/v1" + path + "/payments").json(t)
			if list, _ := j["payments"].([]any); len(list) != 1 || list[0].(map[string]any)["status"] != "expired" {
				t.Errorf("api payments: %v", j)
			}
		})
	}
	// Only the two open sessions were expired.
	n := 0
	for _, s := range []string{anaSession, beaSession} {
		n += len(w.calls.to("/v1/checkout/sessions/" + s + "/expire"))
	}
	if n != 2 {
		t.Errorf("%d expire calls, want 2", n)
	}
}

// stripeFailing is a Stripe that answers every request with a server error.
func stripeFailing(t *testing.T) *httptest.Server {
	errs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusInternalServerError)
		io.WriteString(rw, `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`)
	}))
	t.Cleanup(errs.Close)
	return errs
}

func TestCancellingStandsWhenStripeCannotExpire(t *testing.T) {
	w := newPayWorld(t)
	session := w.checkout(t)
	before := w.payments(t, w.reg.ID)

	errs := stripeFailing(t)
	failing := w.ta.useStripe(errs.URL)

	if r := w.ana.post(w.path+"/cancel", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel with Stripe failing: %d %s", r.Code, r.body)
	}
	if calls := failing.to("/v1/checkout/sessions/" + session + "/expire"); len(calls) == 0 {
		t.Fatal("the session was not asked to expire")
	}
	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegCancelled {
		t.Errorf("registration %s, want cancelled", reg.Status)
	}
	after := w.payments(t, w.reg.ID)
	if len(after) != 1 || after[0].Status != models.PayPending || !after[0].UpdatedAt.Equal(before[0].UpdatedAt) ||
		after[0].RefundDueCents != 0 || after[0].RefundedCents != 0 {
		t.Errorf("payment after a failed expire: %+v, want it as it was: %+v", after, before)
	}
	if n := w.ta.countAudit(t, w.reg.ID, "payment_checkout_expired"); n != 0 {
		t.Errorf("%d payment_checkout_expired audit entries for a session still open", n)
	}
	if n := w.ta.countAudit(t, w.reg.ID, "status_cancelled"); n != 1 {
		t.Errorf("%d status_cancelled audit entries, want 1", n)
	}
	var refunds int
	w.ta.DB.Get(&refunds, `SELECT count(*) FROM refunds`)
	if refunds != 0 {
		t.Errorf("%d refunds, want none", refunds)
	}
	// The member pays on the session anyway: the money is flagged for refund.
	paid := paymentstest.CheckoutSessionEvent("evt_late", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "paid")
	if r := w.ta.deliver(paid, time.Now()); r.Code != http.StatusOK || r.json(t)["outcome"] != models.OutcomeFlaggedForRefund {
		t.Errorf("payment after cancelling: %d %s", r.Code, r.body)
	}
}

// cancelOnExpire is a browser that gives up while Stripe answers a
// checkout session's expiry: it cancels the member's request then.
type cancelOnExpire struct {
	next   http.RoundTripper
	cancel func()
}

func (c *cancelOnExpire) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/expire") {
		c.cancel()
	}
	return c.next.RoundTrip(req)
}

// A member with an abandoned card checkout who paid cash cancels and closes
// the tab while Stripe closes that checkout: the cash is still listed for
// staff to hand back.
func TestCancellingPlansRefundsEvenIfTheBrowserLeaves(t *testing.T) {
	w := newPayWorld(t)
	staff := w.ta.signedIn("desk@example.org", true, false)
	if r := w.ana.post(w.path+"/checkout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("checkout: %d %s", r.Code, r.body)
	}
	if r := staff.post(w.path+"/payments", url.Values{"method": {"cash"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("cash: %d %s", r.Code, r.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.ta.Pay = payments.NewStripe(payments.Config{SecretKey: "sk_test_123", WebhookSecret: testWebhookSecret, APIBase: w.stripeBase,
		HTTPClient: &http.Client{Transport: &cancelOnExpire{next: w.calls, cancel: cancel}, Timeout: 10 * time.Second}}, nil)

	req := httptest.NewRequest("POST", w.path+"/cancel", strings.NewReader("")).WithContext(ctx)
	req.RemoteAddr = "192.0.2.10:1234"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range w.ana.header {
		req.Header[k] = vs
	}
	for _, ck := range w.ana.cookies {
		req.AddCookie(ck)
	}
	w.ta.h.ServeHTTP(httptest.NewRecorder(), req)

	if reg := w.reload(t, w.reg.ID); reg.Status != models.RegCancelled {
		t.Fatalf("registration %s, want cancelled", reg.Status)
	}
	var due int64
	for _, p := range w.payments(t, w.reg.ID) {
		due += p.RefundDueCents
	}
	if due != 15000 {
		t.Errorf("cash to hand back: %d cents, want 15000", due)
	}
}

// TestStaffRecordALocalsPaymentOfItsInvoices: Local 4121 billed for Ana,
// Mei and Kwame pays for Ana and Mei with one check. Its officer cannot record that; staff tick
// both on the statement and record the check. The statement shows them
// paid, with the day and the check, and owes nothing; the receipt says the
// local paid it. The API records the same, and refuses what is not the
// local's. Ana then cancels in time: her page says the local's money goes
// back to it.
func TestStaffRecordALocalsPaymentOfItsInvoices(t *testing.T) {
	w := newPayWorld(t)
	own := w.officer("4121")
	mei := w.ta.signedIn("mei@example.org", false, false)
	br := w.register(t, mei, "Mei", "Harper", "1004")
	kwame := w.ta.signedIn("kwame@example.org", false, false)
	cr := w.register(t, kwame, "Kwame", "Mensah", "1005")
	var invoices []string
	var invoiceIDs []int64
	for _, r := range []models.Registration{w.reg, br, cr} {
		if res := own.post("/registrations/"+strconv.FormatInt(r.ID, 10)+"/payments", url.Values{"method": {"local_invoice"}}); res.Code != http.StatusSeeOther {
			t.Fatalf("our local pays: %d", res.Code)
		}
		invoiceIDs = append(invoiceIDs, w.payments(t, r.ID)[0].ID)
		invoices = append(invoices, strconv.FormatInt(invoiceIDs[len(invoiceIDs)-1], 10))
	}
	staff := w.ta.signedIn("treasurer@example.org", true, false)
	st := staff.get("/officer/locals/4121/statement?conference=pal")
	mustContain(t, st.body, `name="payment" value="`+invoices[0]+`"`, "Record as paid", "<strong>$450</strong>")
	mustNotContain(t, own.get("/officer/locals/4121/statement").body, `name="payment"`)

	pal, err := w.ta.Store.ConferenceBySlug(context.Background(), "pal", true)
	if err != nil {
		t.Fatal(err)
	}
	// Today where the conference is: not before the invoices were made, nor
	// after today.
	paidOn := w.ta.Now().In(pal.Location())
	paidDay := handlers.FormatDay(paidOn, "en")
	form := url.Values{"payment": {invoices[0], invoices[1]}, "reference": {"check 20417"}, "received_on": {paidOn.Format("2006-01-02")}, "conference": {"pal"}}
	if r := own.post("/staff/locals/4121/invoices/received", form); r.Code != http.StatusForbidden {
		t.Errorf("the local's officer recorded its own payment: %d", r.Code)
	}
	if r := staff.post("/staff/locals/4121/invoices/received", url.Values{"payment": {"x"}, "reference": {"check 1"}}); r.Code != http.StatusBadRequest {
		t.Errorf("a payment id that is not a number: %d", r.Code)
	}
	r := staff.post("/staff/locals/4121/invoices/received", url.Values{"payment": {invoices[0]}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/officer/locals/4121/statement" {
		t.Fatalf("no reference: %d to %q", r.Code, r.Header().Get("Location"))
	}
	mustContain(t, staff.get("/officer/locals/4121/statement").body, "Enter the local&#39;s reference for the payment, such as its check number.")
	if p := w.payments(t, w.reg.ID)[0]; p.Status != models.PayInvoiced {
		t.Fatalf("a refused form changed the invoice: %s", p.Status)
	}

	r = staff.post("/staff/locals/4121/invoices/received", form)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/officer/locals/4121/statement?conference=pal" {
		t.Fatalf("record as paid: %d to %q", r.Code, r.Header().Get("Location"))
	}
	st = staff.get("/officer/locals/4121/statement?conference=pal")
	mustContain(t, st.body, "Recorded 2 invoices as paid by Local 4121.", paidDay+" · check 20417", "$150")
	mustNotContain(t, st.body, `name="payment" value="`+invoices[0]+`"`)
	receipt := w.ana.get("/payments/" + invoices[0] + "/receipt")
	mustContain(t, receipt.body, "Billed to Local 4121, which paid it on "+paidDay+" (reference check 20417).")
	if n := w.ta.countAudit(t, w.reg.ID, "invoice_received"); n != 1 {
		t.Errorf("%d invoice_received audit entries", n)
	}
	if sum := staff.get("/staff/conferences/pal/payments"); !strings.Contains(sum.body, "paid by the locals: $300") {
		t.Errorf("the payments page does not say the locals paid $300")
	}

	// The API: the third invoice, and a refusal for another local's.
	if r := own.api("POST", "/api/v1/locals/4121/invoices/received", map[string]any{"payment_ids": []int64{invoiceIDs[2]}, "reference": "x"}); r.Code != http.StatusForbidden {
		t.Errorf("API as the officer: %d", r.Code)
	}
	if r := staff.api("POST", "/api/v1/locals/7600/invoices/received", map[string]any{"payment_ids": []int64{invoiceIDs[2]}, "reference": "x"}); r.Code != http.StatusConflict {
		t.Errorf("API, 4121's invoice for 7600: %d %s", r.Code, r.body)
	}
	r = staff.api("POST", "/api/v1/locals/4121/invoices/received", map[string]any{"payment_ids": []int64{invoiceIDs[2]}, "reference": "wire 88"})
	if r.Code != http.StatusOK {
		t.Fatalf("API: %d %s", r.Code, r.body)
	}
	if got := r.json(t)["received"].([]any); len(got) != 1 || got[0].(map[string]any)["status"] != "succeeded" || got[0].(map[string]any)["received_reference"] != "wire 88" {
		t.Errorf("API answer %s", r.body)
	}
	mustContain(t, own.get("/officer/locals/4121/statement").body, "Total owed</th><td colspan=\"3\"><strong>$0</strong>")

	// Ana cancels in time: the local's money goes back to the local.
	mustContain(t, w.ana.get(w.path+"/cancel").body, "Local 4121 paid $150 for this registration; conference staff pay it back to the local.")
	if r := w.ana.post(w.path+"/cancel", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", r.Code, r.body)
	}
	mustContain(t, own.get("/officer/locals/4121/statement").body, "$150 to pay back to the local")
	csvBody := staff.get("/staff/conferences/pal/payments.csv").body
	mustContain(t, csvBody, paidOn.Format("2006-01-02")+",check 20417,Test treasurer@example.org")
}
