package payments_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"convene/payments"
	"convene/payments/paymentstest"
)

const testWebhookSecret = "whsec_test_convene"

func webhookGateway(t *testing.T) payments.Gateway {
	t.Helper()
	// Webhook parsing never calls Stripe, so no stripe-mock is needed.
	g, _ := newGateway(t, "http://127.0.0.1:1")
	return g
}

func TestParseWebhook(t *testing.T) {
	g := webhookGateway(t)
	completed := paymentstest.CheckoutSessionEvent("evt_1", payments.EventCheckoutCompleted, "cs_test_a1", 42, 12500, "paid")
	expandedPI := paymentstest.EventJSON("evt_5", payments.EventCheckoutCompleted, map[string]any{
		"id":             "cs_test_a5",
		"object":         "checkout.session",
		"amount_total":   9900,
		"currency":       "cad",
		"metadata":       map[string]string{"registration_id": "77"},
		"payment_intent": map[string]any{"id": "pi_expanded", "object": "payment_intent", "amount": 9900, "status": "succeeded"},
		"payment_status": "paid",
	})
	partialRefund := paymentstest.EventJSON("evt_7", payments.EventChargeRefunded, map[string]any{
		"id":              "ch_part",
		"object":          "charge",
		"amount":          12500,
		"amount_refunded": 5000,
		"currency":        "usd",
		"metadata":        map[string]string{},
		"payment_intent":  map[string]any{"id": "pi_part"},
	})

	tests := []struct {
		name    string
		payload []byte
		want    payments.Event
	}{
		{"checkout completed", completed, payments.Event{
			ID: "evt_1", Type: payments.EventCheckoutCompleted,
			SessionID: "cs_test_a1", PaymentIntentID: "pi_test_a1", PaymentStatus: "paid",
			RegistrationID: 42, AmountTotalCents: 12500, Currency: "usd",
		}},
		{"another api version", paymentstest.WithAPIVersion(completed, "2025-03-31.basil"), payments.Event{
			ID: "evt_1", Type: payments.EventCheckoutCompleted,
			SessionID: "cs_test_a1", PaymentIntentID: "pi_test_a1", PaymentStatus: "paid",
			RegistrationID: 42, AmountTotalCents: 12500, Currency: "usd",
		}},
		{"async payment succeeded", paymentstest.CheckoutSessionEvent("evt_2", payments.EventCheckoutAsyncPaymentOK, "cs_test_a2", 43, 4000, "paid"), payments.Event{
			ID: "evt_2", Type: payments.EventCheckoutAsyncPaymentOK,
			SessionID: "cs_test_a2", PaymentIntentID: "pi_test_a2", PaymentStatus: "paid",
			RegistrationID: 43, AmountTotalCents: 4000, Currency: "usd",
		}},
		{"async payment failed", paymentstest.CheckoutSessionEvent("evt_3", payments.EventCheckoutAsyncPaymentFailed, "cs_test_a3", 44, 4000, "unpaid"), payments.Event{
			ID: "evt_3", Type: payments.EventCheckoutAsyncPaymentFailed,
			SessionID: "cs_test_a3", PaymentIntentID: "pi_test_a3", PaymentStatus: "unpaid",
			RegistrationID: 44, AmountTotalCents: 4000, Currency: "usd",
		}},
		{"expired, payment intent null", paymentstest.CheckoutSessionEvent("evt_4", payments.EventCheckoutExpired, "cs_test_a4", 45, 4000, "unpaid"), payments.Event{
			ID: "evt_4", Type: payments.EventCheckoutExpired,
			SessionID: "cs_test_a4", PaymentStatus: "unpaid",
			RegistrationID: 45, AmountTotalCents: 4000, Currency: "usd",
		}},
		{"payment intent expanded", expandedPI, payments.Event{
			ID: "evt_5", Type: payments.EventCheckoutCompleted,
			SessionID: "cs_test_a5", PaymentIntentID: "pi_expanded", PaymentStatus: "paid",
			RegistrationID: 77, AmountTotalCents: 9900, Currency: "cad",
		}},
		{"no registration id", paymentstest.CheckoutSessionEvent("evt_6", payments.EventCheckoutCompleted, "cs_test_a6", 0, 100, "paid"), payments.Event{
			ID: "evt_6", Type: payments.EventCheckoutCompleted,
			SessionID: "cs_test_a6", PaymentIntentID: "pi_test_a6", PaymentStatus: "paid",
			AmountTotalCents: 100, Currency: "usd",
		}},
		{"charge refunded", paymentstest.ChargeRefundedEvent("evt_8", "pi_test_a1", 42, 12500), payments.Event{
			ID: "evt_8", Type: payments.EventChargeRefunded,
			ChargeID: "ch_test_a1", PaymentIntentID: "pi_test_a1", RegistrationID: 42,
			AmountTotalCents: 12500, AmountRefundedCents: 12500, Currency: "usd",
		}},
		{"charge partly refunded, no metadata", partialRefund, payments.Event{
			ID: "evt_7", Type: payments.EventChargeRefunded,
			ChargeID: "ch_part", PaymentIntentID: "pi_part",
			AmountTotalCents: 12500, AmountRefundedCents: 5000, Currency: "usd",
		}},
		{"other type: id and type only", paymentstest.EventJSON("evt_9", "customer.created", map[string]any{"id": "cus_1", "object": "customer", "email": "x@example.org"}), payments.Event{
			ID: "evt_9", Type: "customer.created",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.ParseWebhook(tt.payload, paymentstest.SignedWebhook(testWebhookSecret, tt.payload, time.Now()))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if got.Created.IsZero() || time.Since(got.Created) > time.Minute {
				t.Errorf("Created = %v, want about now", got.Created)
			}
			got.Created = time.Time{}
			if got != tt.want {
				t.Errorf("ParseWebhook =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseWebhookRejects(t *testing.T) {
	g := webhookGateway(t)
	payload := paymentstest.CheckoutSessionEvent("evt_1", payments.EventCheckoutCompleted, "cs_test_a1", 42, 12500, "paid")
	now := time.Now()
	tampered := []byte(strings.Replace(string(payload), `"amount_total":12500`, `"amount_total":1`, 1))
	if string(tampered) == string(payload) {
		t.Fatal("tampering did not change the payload")
	}

	tests := []struct {
		name    string
		payload []byte
		header  string
		want    error
	}{
		{"wrong secret", payload, paymentstest.SignedWebhook("whsec_other", payload, now), payments.ErrBadSignature},
		{"tampered body", tampered, paymentstest.SignedWebhook(testWebhookSecret, payload, now), payments.ErrBadSignature},
		{"signed ten minutes ago", payload, paymentstest.SignedWebhook(testWebhookSecret, payload, now.Add(-10*time.Minute)), payments.ErrBadSignature},
		{"no header", payload, "", payments.ErrBadSignature},
		{"garbage header", payload, "t=abc,v1", payments.ErrBadSignature},
		{"signed, not json", []byte("not json"), paymentstest.SignedWebhook(testWebhookSecret, []byte("not json"), now), payments.ErrInvalid},
		{"signed, bad object", []byte(`{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"amount_total":"lots"}}}`),
			paymentstest.SignedWebhook(testWebhookSecret, []byte(`{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"amount_total":"lots"}}}`), now),
			payments.ErrInvalid},
		{"signed, no data", []byte(`{"id":"evt_1","type":"charge.refunded"}`),
			paymentstest.SignedWebhook(testWebhookSecret, []byte(`{"id":"evt_1","type":"charge.refunded"}`), now),
			payments.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.ParseWebhook(tt.payload, tt.header)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}

	// Control: the same payload with a fresh, correct signature passes, so the
	// rejections above are about the signature and not the payload.
	if _, err := g.ParseWebhook(payload, paymentstest.SignedWebhook(testWebhookSecret, payload, now)); err != nil {
		t.Errorf("control: %v", err)
	}
}

func TestParseWebhookWithoutSecret(t *testing.T) {
	g := payments.NewStripe(payments.Config{SecretKey: "sk_test_123", APIBase: "http://127.0.0.1:1"}, nil)
	payload := paymentstest.CheckoutSessionEvent("evt_1", payments.EventCheckoutCompleted, "cs_1", 42, 12500, "paid")
	// An empty secret must not verify a payload "signed" with the empty key.
	_, err := g.ParseWebhook(payload, paymentstest.SignedWebhook("", payload, time.Now()))
	if !errors.Is(err, payments.ErrDisabled) {
		t.Errorf("err = %v, want ErrDisabled", err)
	}
}
