package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// ParseWebhook verifies the Stripe-Signature header with the webhook secret
// (five minutes' tolerance) and reads only the fields Convene uses, so events
// of any API version parse. stripe-mock is stateless, so fulfilment relies on
// this verified payload rather than on fetching the session back.
func (g *stripeGateway) ParseWebhook(payload []byte, signatureHeader string) (Event, error) {
	const op = "webhook"
	if g.webhookSecret == "" {
		return Event{}, fmt.Errorf("payments: %s: %w: no webhook secret", op, ErrDisabled)
	}
	se, err := webhook.ConstructEventWithOptions(payload, signatureHeader, g.webhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		if isSignatureError(err) {
			return Event{}, fmt.Errorf("payments: %s: %w: %w", op, ErrBadSignature, err)
		}
		return Event{}, fmt.Errorf("payments: %s: %w: %w", op, ErrInvalid, err)
	}
	if se.ID == "" || se.Type == "" {
		return Event{}, invalid(op, "event has no id or type")
	}

	ev := Event{ID: se.ID, Type: string(se.Type), Created: time.Unix(se.Created, 0).UTC()}
	var raw json.RawMessage
	if se.Data != nil {
		raw = se.Data.Raw
	}
	switch ev.Type {
	case EventCheckoutCompleted, EventCheckoutAsyncPaymentOK, EventCheckoutAsyncPaymentFailed, EventCheckoutExpired:
		var s struct {
			ID            string            `json:"id"`
			PaymentIntent expandableID      `json:"payment_intent"`
			PaymentStatus string            `json:"payment_status"`
			Metadata      map[string]string `json:"metadata"`
			AmountTotal   int64             `json:"amount_total"`
			Currency      string            `json:"currency"`
		}
		if err := decodeObject(raw, &s); err != nil {
			return Event{}, fmt.Errorf("payments: %s: %s: %w: %w", op, ev.Type, ErrInvalid, err)
		}
		ev.SessionID = s.ID
		ev.PaymentIntentID = string(s.PaymentIntent)
		ev.PaymentStatus = s.PaymentStatus
		ev.RegistrationID = registrationID(s.Metadata)
		ev.AmountTotalCents = s.AmountTotal
		ev.Currency = s.Currency
	case EventChargeRefunded:
		var c struct {
			ID             string            `json:"id"`
			PaymentIntent  expandableID      `json:"payment_intent"`
			Amount         int64             `json:"amount"`
			AmountRefunded int64             `json:"amount_refunded"`
			Currency       string            `json:"currency"`
			Metadata       map[string]string `json:"metadata"`
		}
		if err := decodeObject(raw, &c); err != nil {
			return Event{}, fmt.Errorf("payments: %s: %s: %w: %w", op, ev.Type, ErrInvalid, err)
		}
		ev.ChargeID = c.ID
		ev.PaymentIntentID = string(c.PaymentIntent)
		ev.RegistrationID = registrationID(c.Metadata)
		ev.AmountTotalCents = c.Amount
		ev.AmountRefundedCents = c.AmountRefunded
		ev.Currency = c.Currency
	}
	return ev, nil
}

func isSignatureError(err error) bool {
	return errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) ||
		errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrTooOld)
}

func decodeObject(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return errors.New("event has no data.object")
	}
	return json.Unmarshal(raw, v)
}

func registrationID(metadata map[string]string) int64 {
	id, err := strconv.ParseInt(metadata[metadataRegistrationID], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// expandableID reads a Stripe reference that is either an id string, an
// expanded object with an "id", or null.
type expandableID string

func (e *expandableID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = expandableID(s)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("payment_intent: %w", err)
	}
	*e = expandableID(obj.ID)
	return nil
}
