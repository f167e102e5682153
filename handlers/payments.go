package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"convene/models"
	"convene/payments"

	"github.com/gin-gonic/gin"
)

// paymentView is the payment page of one registration.
type paymentView struct {
	R        models.Registration
	Conf     models.Conference
	Payments []models.Payment
	Refunds  []models.Refund
	PaidCents,
	RefundedCents int64
	IsOwner bool
	// CanInvoice: an officer of the registration's local may bill it.
	CanInvoice bool
	IsStaff    bool
	// Online reports whether card payment is configured.
	Online bool
	// Payable is nil when the registration can take a payment now.
	Payable error
	// Notice and Message are shown above the page: a note (back from
	// Stripe without paying) or a problem (Stripe could not be reached).
	Notice, Message string
}

// paymentRegistration loads the registration in the URL for a payment route.
// Only staff learn that an id does not exist; anyone else who may not see it
// gets 403 either way, so ids cannot be probed.
func (a *App) paymentRegistration(c *gin.Context) (models.Registration, models.Actor, bool) {
	act, ok := a.actor(c)
	if !ok {
		return models.Registration{}, act, false
	}
	id, ok := pathID(c)
	var r models.Registration
	var err error
	if ok {
		r, err = a.Store.Registration(c.Request.Context(), id)
	}
	switch {
	case (!ok || errors.Is(err, models.ErrNotFound)) && act.IsStaff():
		a.notFound(c)
		return r, act, false
	case !ok || errors.Is(err, models.ErrNotFound):
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this registration.")
		return r, act, false
	case err != nil:
		a.serverError(c, err)
		return r, act, false
	case !act.CanSee(r):
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this registration.")
		return r, act, false
	}
	return r, act, true
}

func (a *App) paymentView(c *gin.Context, r models.Registration, act models.Actor) (paymentView, error) {
	v := paymentView{R: r, IsOwner: act.Owns(r), IsStaff: act.IsStaff(), Online: a.Pay.Enabled(), Payable: r.Payable()}
	v.CanInvoice = act.OfficerOfLocal(r.LocalID) || act.IsStaff()
	var err error
	if v.Conf, err = a.Store.ConferenceBySlug(c.Request.Context(), r.ConferenceSlug, true); err != nil {
		return v, err
	}
	if v.Payments, err = a.Store.Payments(c.Request.Context(), r.ID); err != nil {
		return v, err
	}
	if v.Refunds, err = a.Store.Refunds(c.Request.Context(), r.ID); err != nil {
		return v, err
	}
	for _, p := range v.Payments {
		if p.Settles() && p.Method != models.MethodWaived {
			v.PaidCents += p.AmountCents
		}
		v.RefundedCents += p.RefundedCents
	}
	return v, nil
}

func (a *App) renderPayment(c *gin.Context, status int, r models.Registration, act models.Actor, edit func(*paymentView, *Page)) {
	v, err := a.paymentView(c, r, act)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Payment"))
	p.Form = models.PaymentInput{}
	if edit != nil {
		edit(&v, p)
	}
	p.Data = v
	a.render(c, status, "payment", p)
}

// paymentPage shows what is owed and paid, the ways to pay, receipts, and
// for officers and staff the offline methods.
func (a *App) paymentPage(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	a.renderPayment(c, http.StatusOK, r, act, nil)
}

// paymentCancelled is where Stripe sends a member who left the checkout page
// without paying.
func (a *App) paymentCancelled(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	a.renderPayment(c, http.StatusOK, r, act, func(v *paymentView, p *Page) {
		v.Notice = p.T("You left the payment page without paying. Nothing was charged; you can pay whenever you are ready.")
	})
}

// paymentSuccess is where Stripe sends a member after paying. It never
// confirms anything: only a verified webhook does, and until it has landed
// the page says so and refreshes itself.
func (a *App) paymentSuccess(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	v, err := a.paymentView(c, r, act)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Thank you"))
	p.Data = v
	a.render(c, http.StatusOK, "payment_success", p)
}

// errCheckoutUnavailable means Stripe could not start a checkout: nothing was
// charged or stored, and the same idempotency key is used on the retry.
var errCheckoutUnavailable = errors.New("stripe checkout unavailable")

// errOnlineDisabled means Stripe is not configured.
var errOnlineDisabled = errors.New("online payment is not configured")

// checkout starts a Stripe Checkout Session (or finds the open one) and
// returns its address. The amount is what the registration owes; nothing
// the browser sent is read.
func (a *App) checkout(c *gin.Context, act models.Actor, id int64) (string, error) {
	cs, err := a.Store.PrepareCheckout(c.Request.Context(), id, act)
	if err != nil {
		return "", err
	}
	if !a.Pay.Enabled() {
		return "", errOnlineDisabled
	}
	if cs.Open != nil {
		return cs.Open.CheckoutURL, nil
	}
	r := cs.Registration
	base := a.Cfg.BaseURL + "/registrations/" + strconv.FormatInt(r.ID, 10) + "/payment"
	co, err := a.Pay.CreateCheckout(c.Request.Context(), payments.CheckoutParams{
		RegistrationID: r.ID, AmountCents: cs.AmountCents, Currency: cs.Conference.Currency,
		Description:   cs.Conference.Title + " — " + r.CategoryName,
		CustomerEmail: r.Email, SuccessURL: base + "/success", CancelURL: base + "/cancelled",
		IdempotencyKey: cs.IdempotencyKey,
	})
	if err != nil {
		// The gateway's errors carry no personal data.
		a.Log.Error("stripe checkout failed", "request_id", requestID(c), "registration_id", r.ID, "err", err)
		return "", errCheckoutUnavailable
	}
	pay, err := a.Store.RecordCheckout(c.Request.Context(), cs, co.SessionID, co.URL, act)
	if models.Unpayable(err) {
		// The registration was cancelled (or paid) while Stripe made the
		// session: nothing was stored, so close the session nobody will be
		// sent to, and answer as PrepareCheckout would have.
		a.expireCheckout(c, r.ID, co.SessionID)
		return "", err
	}
	if err != nil {
		return "", err
	}
	return pay.CheckoutURL, nil
}

// expireCheckout closes a session at Stripe that was created but not stored.
// It is best effort: a session left open is logged, and money paid on it is
// flagged for refund when its webhook arrives. It runs to the end even if
// the browser goes away.
func (a *App) expireCheckout(c *gin.Context, registrationID int64, sessionID string) {
	ctx := context.WithoutCancel(c.Request.Context())
	if err := a.Pay.ExpireCheckout(ctx, sessionID); err != nil {
		a.Log.Warn("expiring an unstored checkout session failed", "request_id", requestID(c),
			"registration_id", registrationID, "stripe_session_id", sessionID, "err", err)
	}
}

// Messages for a checkout that could not start.
const (
	msgCheckoutUnavailable = "We could not reach the card payment service. Nothing was charged and your registration is unchanged. Please try again in a few minutes."
	msgOnlineDisabled      = "Online payment is unavailable. Ask your local to pay for you, or pay by cash or check at the registration desk."
)

// checkoutPage sends the member to Stripe's checkout page, or back to the
// payment page with what went wrong.
func (a *App) checkoutPage(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	url, err := a.checkout(c, act, r.ID)
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, url)
	case errors.Is(err, errCheckoutUnavailable):
		a.renderPayment(c, http.StatusServiceUnavailable, r, act, func(v *paymentView, p *Page) {
			v.Message = p.T(msgCheckoutUnavailable)
		})
	case errors.Is(err, errOnlineDisabled):
		a.renderPayment(c, http.StatusConflict, r, act, func(v *paymentView, p *Page) { v.Message = p.T(msgOnlineDisabled) })
	default:
		a.paymentError(c, act, err)
	}
}

func (a *App) apiCheckout(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	url, err := a.checkout(c, act, r.ID)
	switch {
	case err == nil:
		c.JSON(http.StatusOK, gin.H{"url": url})
	case errors.Is(err, errCheckoutUnavailable):
		apiError(c, http.StatusServiceUnavailable, "payment_unavailable", msgCheckoutUnavailable)
	case errors.Is(err, errOnlineDisabled):
		apiError(c, http.StatusConflict, "online_payment_unavailable", msgOnlineDisabled)
	default:
		a.paymentError(c, act, err)
	}
}

// paymentError answers why a payment cannot be made.
func (a *App) paymentError(c *gin.Context, act models.Actor, err error) {
	switch {
	case errors.Is(err, models.ErrNotFound) && !act.IsStaff(), errors.Is(err, models.ErrForbidden):
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this registration.")
		return
	case !errors.Is(err, models.ErrConflict):
		a.modelError(c, err)
		return
	}
	for _, u := range unpayableCodes {
		if errors.Is(err, u.err) {
			// The reason's own text, written to be shown (never a wrapped one).
			a.fail(c, http.StatusConflict, u.code, u.err.Error())
			return
		}
	}
	a.fail(c, http.StatusConflict, "conflict", "This payment changed meanwhile; reload and try again.")
}

// unpayableCodes are the API codes of the reasons a registration cannot be
// paid now; their messages are the reasons' own.
var unpayableCodes = []struct {
	err  error
	code string
}{
	{models.ErrNotApproved, "not_approved"},
	{models.ErrNothingDue, "nothing_due"},
	{models.ErrNotPayable, "not_payable"},
	{models.ErrPaymentPending, "payment_pending"},
	{models.ErrAmountChanged, "amount_changed"},
}

// recordPaymentPage records an offline payment from the payment page's forms.
func (a *App) recordPaymentPage(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	in := models.PaymentInput{Method: c.PostForm("method"), Amount: c.PostForm("amount"), Reference: c.PostForm("reference")}
	pay, err := a.Store.RecordPayment(c.Request.Context(), r.ID, in, act)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		a.renderPayment(c, http.StatusUnprocessableEntity, r, act, func(v *paymentView, p *Page) {
			p.Form, p.Errors = in, ve.Fields
		})
		return
	}
	if err != nil {
		a.paymentError(c, act, err)
		return
	}
	setFlash(c, a.T(c, "Payment recorded: %s, %s.", a.T(c, methodKey(pay.Method)), Money(pay.AmountCents, pay.Currency)))
	c.Redirect(http.StatusSeeOther, "/registrations/"+strconv.FormatInt(r.ID, 10)+"/payment")
}

func (a *App) apiRecordPayment(c *gin.Context) {
	r, act, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	var body struct {
		Method      string `json:"method"`
		AmountCents *int64 `json:"amount_cents"`
		Reference   string `json:"reference"`
	}
	if !bindJSON(c, &body) {
		return
	}
	in := models.PaymentInput{Method: body.Method, Reference: body.Reference}
	if body.AmountCents != nil {
		in.Amount = models.FormatMoney(*body.AmountCents)
	}
	pay, err := a.Store.RecordPayment(c.Request.Context(), r.ID, in, act)
	if err != nil {
		a.paymentError(c, act, err)
		return
	}
	c.JSON(http.StatusCreated, a.paymentJSON(pay))
}

func (a *App) apiPayments(c *gin.Context) {
	r, _, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	ps, err := a.Store.Payments(c.Request.Context(), r.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	out := make([]gin.H, 0, len(ps))
	for _, p := range ps {
		out = append(out, a.paymentJSON(p))
	}
	c.JSON(http.StatusOK, gin.H{"payments": out, "amount_due_cents": r.AmountDueCents, "online_payment": a.Pay.Enabled()})
}

func (a *App) paymentJSON(p models.Payment) gin.H {
	var receipt any
	if p.HasReceipt() {
		receipt = a.Cfg.BaseURL + "/payments/" + strconv.FormatInt(p.ID, 10) + "/receipt"
	}
	return gin.H{"id": p.ID, "registration_id": p.RegistrationID, "method": p.Method, "status": p.Status,
		"amount_cents": p.AmountCents, "currency": p.Currency, "refunded_cents": p.RefundedCents,
		"refund_owed_cents": p.OwedBack(), "reference": p.Reference, "local": p.LocalNumber,
		"stripe_session_id": p.StripeSessionID, "stripe_payment_intent_id": p.StripePaymentIntentID,
		"paid_at": p.PaidAt, "created_at": p.CreatedAt, "receipt_url": receipt,
		"local_paid_on": p.ReceivedOn, "local_paid_reference": p.ReceivedReference}
}

// sendRefunds asks Stripe for each refund and records its answer. A refund
// Stripe does not make stays listed for staff to retry with the same key.
// It runs to the end even if the browser goes away.
func (a *App) sendRefunds(c *gin.Context, act models.Actor, refunds []models.Refund) (sent, failed int64) {
	ctx := context.WithoutCancel(c.Request.Context())
	for _, f := range refunds {
		var res payments.Refund
		err := errors.New("payment has no Stripe payment intent")
		if f.PaymentIntentID != nil {
			res, err = a.Pay.Refund(ctx, *f.PaymentIntentID, f.AmountCents, f.IdempotencyKey())
		}
		bad := err != nil || res.Status == "failed" || res.Status == "canceled"
		if bad {
			a.Log.Error("stripe refund failed", "request_id", requestID(c), "refund_id", f.ID, "status", res.Status, "err", err)
			failed += f.AmountCents
		} else {
			sent += f.AmountCents
		}
		if _, err := a.Store.FinishRefund(ctx, f.ID, res.ID, bad, act); err != nil {
			a.Log.Error("recording a refund failed", "request_id", requestID(c), "refund_id", f.ID, "err", err)
		}
	}
	return sent, failed
}

// closeCheckouts expires at Stripe the checkout sessions still open for a
// registration that was just cancelled or denied, so the member cannot pay
// on them. The change already committed; a session Stripe does not close is
// logged, and money paid on it is flagged for refund when it arrives. It
// runs to the end even if the browser goes away.
func (a *App) closeCheckouts(c *gin.Context, act models.Actor, id int64) {
	ctx := context.WithoutCancel(c.Request.Context())
	if _, err := a.Store.CloseCheckouts(ctx, a.Pay, act, id); err != nil {
		a.Log.Warn("closing checkout sessions failed", "request_id", requestID(c), "registration_id", id, "err", err)
	}
}

// refundPage is staff refunding (part of) one payment.
func (a *App) refundPage(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	id, _ := pathID(c)
	f, err := a.Store.RequestRefund(c.Request.Context(), id, c.PostForm("amount"), c.PostForm("reason"), act)
	a.afterRefund(c, act, f, err)
}

// retryRefundPage sends a refund Stripe did not make again.
func (a *App) retryRefundPage(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	id, _ := pathID(c)
	f, err := a.Store.RetryRefund(c.Request.Context(), id, act)
	a.afterRefund(c, act, f, err)
}

func (a *App) afterRefund(c *gin.Context, act models.Actor, f models.Refund, err error) {
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		for _, msg := range ve.Fields {
			setFlash(c, a.T(c, msg))
		}
	case errors.Is(err, models.ErrConflict):
		setFlash(c, a.T(c, "Nothing of this payment can be refunded."))
	case err != nil:
		a.modelError(c, err)
		return
	case f.Method == models.MethodStripe:
		if _, failed := a.sendRefunds(c, act, []models.Refund{f}); failed > 0 {
			setFlash(c, a.T(c, "Stripe did not make the refund. It is listed for you to try again."))
		} else {
			setFlash(c, a.T(c, "Refunded %s to the card.", Money(f.AmountCents, f.Currency)))
		}
	default:
		setFlash(c, a.T(c, "Refund of %s recorded.", Money(f.AmountCents, f.Currency)))
	}
	back := "/staff"
	if f.RegistrationID != 0 {
		back = "/registrations/" + strconv.FormatInt(f.RegistrationID, 10) + "/payment"
	}
	c.Redirect(http.StatusSeeOther, safeNext(c.DefaultPostForm("next", back)))
}

func (a *App) apiRefund(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	var body struct {
		AmountCents *int64 `json:"amount_cents"`
		Reason      string `json:"reason"`
	}
	if c.Request.ContentLength != 0 && !bindJSON(c, &body) {
		return
	}
	amount := ""
	if body.AmountCents != nil {
		amount = models.FormatMoney(*body.AmountCents)
	}
	id, _ := pathID(c)
	f, err := a.Store.RequestRefund(c.Request.Context(), id, amount, body.Reason, act)
	if err != nil {
		a.registrationError(c, err)
		return
	}
	if f.Method == models.MethodStripe {
		a.sendRefunds(c, act, []models.Refund{f})
		if f, err = a.Store.Refund(c.Request.Context(), f.ID); err != nil {
			a.serverError(c, err)
			return
		}
	}
	c.JSON(http.StatusCreated, gin.H{"id": f.ID, "payment_id": f.PaymentID, "amount_cents": f.AmountCents,
		"status": f.Status, "stripe_refund_id": f.StripeRefundID, "reason": f.Reason})
}

// cancelView is the page a member confirms a cancellation on, told first
// whether they get a refund.
type cancelView struct {
	R     models.Registration
	Conf  models.Conference
	Quote models.RefundQuote
}

// cancelPage asks to confirm a cancellation and says what will be refunded.
func (a *App) cancelPage(c *gin.Context) {
	r, _, ok := a.paymentRegistration(c)
	if !ok {
		return
	}
	if !models.Active(r.Status) {
		a.fail(c, http.StatusConflict, "conflict", "This registration is already cancelled or denied.")
		return
	}
	q, err := a.Store.QuoteRefund(c.Request.Context(), r, a.Now())
	if err != nil {
		a.serverError(c, err)
		return
	}
	conf, err := a.Store.ConferenceBySlug(c.Request.Context(), r.ConferenceSlug, true)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Cancel registration"))
	p.Data = cancelView{R: r, Conf: conf, Quote: q}
	a.render(c, http.StatusOK, "cancel", p)
}

const ctxRefundNote = "refund_note"

// cancelAndRefund cancels a registration, then refunds what the rules give
// back: in full before the cancellation deadline, nothing after it. Staff may
// name the amount instead (the cancel form's "refund" field).
func (a *App) cancelAndRefund(c *gin.Context, act models.Actor, id int64) (models.Registration, error) {
	var amount *int64
	if v := strings.TrimSpace(c.PostForm("refund")); v != "" && act.IsStaff() {
		cents, err := models.ParseMoney(v)
		if err != nil || cents < 0 {
			return models.Registration{}, &models.ValidationError{Fields: map[string]string{"refund": "Enter the refund as an amount like 125.00, or 0 for none."}}
		}
		amount = &cents
	}
	r, err := a.Store.Cancel(c.Request.Context(), id, act)
	if err != nil {
		return r, err
	}
	// The cancellation committed: what follows must finish even if the
	// browser goes away, and the refunds are planned (in the database
	// only) before Stripe is asked to close open checkouts, which can take
	// seconds.
	refunds, err := a.Store.PlanCancellationRefunds(context.WithoutCancel(c.Request.Context()), id, act, a.Now(), amount)
	a.closeCheckouts(c, act, id)
	if err != nil {
		// The registration is cancelled; staff see the payment in the
		// conference's payments view and can refund it there.
		a.Log.Error("planning refunds failed", "request_id", requestID(c), "registration_id", id, "err", err)
		return r, nil
	}
	sent, failed := a.sendRefunds(c, act, refunds)
	switch {
	case failed > 0:
		c.Set(ctxRefundNote, a.T(c, "Your refund of %s could not be sent yet; conference staff will send it.", Money(failed, r.ConferenceCurrency)))
	case sent > 0:
		c.Set(ctxRefundNote, a.T(c, "A refund of %s is on its way to your card.", Money(sent, r.ConferenceCurrency)))
	}
	return r, nil
}

// refundNote is what cancelAndRefund said about the refund, with a leading space.
func refundNote(c *gin.Context) string {
	if s := c.GetString(ctxRefundNote); s != "" {
		return " " + s
	}
	return ""
}

// methodKey is the catalog key naming a payment method ("method:cash").
func methodKey(method string) string { return "method:" + method }
