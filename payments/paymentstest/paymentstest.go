// Package paymentstest helps tests that exercise payments: it signs webhook
// payloads, builds Stripe event JSON and runs a stripe-mock process.
package paymentstest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// APIVersion is the Stripe API version stripe-go v76 pins; the builders stamp it on events.
const APIVersion = "2023-10-16"

// Currency is the currency the event builders use.
const Currency = "usd"

// SignedWebhook returns the Stripe-Signature header for payload signed with
// secret at the given time (the zero time means now).
func SignedWebhook(secret string, payload []byte, at time.Time) (header string) {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   payload,
		Secret:    secret,
		Timestamp: at,
	}).Header
}

// PaymentIntentFor is the payment intent id CheckoutSessionEvent gives a
// session: "pi_" plus the session id without its "cs_" prefix.
func PaymentIntentFor(sessionID string) string {
	return "pi_" + strings.TrimPrefix(sessionID, "cs_")
}

// ChargeFor is the charge id ChargeRefundedEvent gives a payment intent:
// "ch_" plus the payment intent id without its "pi_" prefix.
func ChargeFor(paymentIntentID string) string {
	return "ch_" + strings.TrimPrefix(paymentIntentID, "pi_")
}

// CheckoutSessionEvent builds a checkout.session.* event (eventType) for a
// session paying amountCents USD for registrationID (0 leaves the metadata
// out). The session's payment intent is PaymentIntentFor(sessionID), except
// for checkout.session.expired, where it is null as Stripe sends it.
func CheckoutSessionEvent(eventID, eventType, sessionID string, registrationID int64, amountCents int64, paymentStatus string) []byte {
	var pi any = PaymentIntentFor(sessionID)
	status := "complete"
	if eventType == "checkout.session.expired" {
		pi, status = nil, "expired"
	}
	metadata := map[string]string{}
	clientRef := any(nil)
	if registrationID != 0 {
		metadata["registration_id"] = strconv.FormatInt(registrationID, 10)
		clientRef = strconv.FormatInt(registrationID, 10)
	}
	return EventJSON(eventID, eventType, map[string]any{
		"id":                  sessionID,
		"object":              "checkout.session",
		"amount_subtotal":     amountCents,
		"amount_total":        amountCents,
		"client_reference_id": clientRef,
		"currency":            Currency,
		"livemode":            false,
		"metadata":            metadata,
		"mode":                "payment",
		"payment_intent":      pi,
		"payment_status":      paymentStatus,
		"status":              status,
		"url":                 nil,
	})
}

// ChargeRefundedEvent builds a charge.refunded event for the charge of
// paymentIntentID (ChargeFor(paymentIntentID)) with amountRefunded USD
// refunded. The charge's amount equals amountRefunded, a full refund; build a
// partial one with EventJSON. registrationID 0 leaves the metadata out.
func ChargeRefundedEvent(eventID, paymentIntentID string, registrationID int64, amountRefunded int64) []byte {
	metadata := map[string]string{}
	if registrationID != 0 {
		metadata["registration_id"] = strconv.FormatInt(registrationID, 10)
	}
	return EventJSON(eventID, "charge.refunded", map[string]any{
		"id":              ChargeFor(paymentIntentID),
		"object":          "charge",
		"amount":          amountRefunded,
		"amount_captured": amountRefunded,
		"amount_refunded": amountRefunded,
		"captured":        true,
		"currency":        Currency,
		"livemode":        false,
		"metadata":        metadata,
		"paid":            true,
		"payment_intent":  paymentIntentID,
		"refunded":        true,
		"status":          "succeeded",
	})
}

// EventJSON wraps object (anything encoding/json can marshal) in a Stripe
// event envelope of API version APIVersion, created now.
func EventJSON(eventID, eventType string, object any) []byte {
	b, err := json.Marshal(map[string]any{
		"id":               eventID,
		"object":           "event",
		"api_version":      APIVersion,
		"created":          time.Now().Unix(),
		"data":             map[string]any{"object": object},
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"type":             eventType,
	})
	if err != nil {
		panic("paymentstest: marshal event: " + err.Error())
	}
	return b
}

// WithAPIVersion returns event with its api_version replaced, to show that
// events from an endpoint on another Stripe API version still parse.
func WithAPIVersion(event []byte, version string) []byte {
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		panic("paymentstest: WithAPIVersion: " + err.Error())
	}
	m["api_version"] = version
	b, err := json.Marshal(m)
	if err != nil {
		panic("paymentstest: WithAPIVersion: " + err.Error())
	}
	return b
}
