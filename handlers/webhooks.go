package handlers

import (
	"errors"
	"io"
	"net/http"

	"convene/models"
	"convene/payments"

	"github.com/gin-gonic/gin"
)

// stripeWebhook receives Stripe's events. The signature is verified first: a
// bad or stale one gets 400 and changes nothing. A verified event is stored
// by id and applied once; answering 200 to a duplicate stops Stripe
// resending it, and a 500 (the database failed) makes Stripe try again.
func (a *App) stripeWebhook(c *gin.Context) {
	payload, err := io.ReadAll(c.Request.Body)
	if err != nil {
		apiError(c, http.StatusBadRequest, "bad_request", "The request body could not be read.")
		return
	}
	ev, err := a.Pay.ParseWebhook(payload, c.GetHeader("Stripe-Signature"))
	switch {
	case errors.Is(err, payments.ErrBadSignature):
		a.Log.Warn("stripe webhook with a bad signature", "request_id", requestID(c), "err", err)
		apiError(c, http.StatusBadRequest, "bad_signature", "The Stripe-Signature header is missing, wrong or too old.")
		return
	case errors.Is(err, payments.ErrDisabled):
		a.Log.Error("stripe webhook received but Stripe is not configured", "request_id", requestID(c))
		apiError(c, http.StatusServiceUnavailable, "payments_disabled", "Online payment is not configured.")
		return
	case err != nil:
		a.Log.Warn("stripe webhook not understood", "request_id", requestID(c), "err", err)
		apiError(c, http.StatusBadRequest, "bad_request", "The event could not be read.")
		return
	}
	outcome, err := a.Store.ProcessStripeEvent(c.Request.Context(), models.StripeEvent{
		ID: ev.ID, Type: ev.Type, Created: ev.Created, SessionID: ev.SessionID, PaymentIntentID: ev.PaymentIntentID,
		PaymentStatus: ev.PaymentStatus, RegistrationID: ev.RegistrationID, AmountCents: ev.AmountTotalCents,
		AmountRefundedCents: ev.AmountRefundedCents, Currency: ev.Currency,
	})
	if err != nil {
		a.Log.Error("stripe webhook failed", "request_id", requestID(c), "event_id", ev.ID, "type", ev.Type, "err", err)
		apiError(c, http.StatusInternalServerError, "internal", "The event could not be processed; send it again.")
		return
	}
	level := a.Log.Info
	switch outcome {
	case models.OutcomeUnknownRegistration, models.OutcomeMismatch, models.OutcomeFlaggedForRefund:
		level = a.Log.Warn // money may need a person's attention
	}
	level("stripe event", "request_id", requestID(c), "event_id", ev.ID, "type", ev.Type,
		"session_id", ev.SessionID, "registration_id", ev.RegistrationID, "outcome", outcome)
	c.JSON(http.StatusOK, gin.H{"received": true, "outcome": outcome})
}
