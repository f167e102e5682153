package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"convene/models"
	"convene/pdf"

	"github.com/gin-gonic/gin"
)

// staffPaymentsView is a conference's money for staff.
type staffPaymentsView struct {
	Conf    models.Conference
	Summary models.PaymentSummary
	Online  bool
}

// staffPayments shows a conference's payments: due, paid, refunded, by
// method and by local, with the refunds still to make.
func (a *App) staffPayments(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	sum, err := a.Store.ConferencePayments(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Payments: %s", conf.Title))
	p.Data = staffPaymentsView{Conf: conf, Summary: sum, Online: a.Pay.Enabled()}
	a.render(c, http.StatusOK, "staff_payments", p)
}

// staffPaymentsCSV is the payments page's list as a spreadsheet for the
// treasurer to reconcile: one row per payment, times in the conference's zone.
func (a *App) staffPaymentsCSV(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	ps, err := a.Store.ConferencePaymentList(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	loc := conf.Location()
	header := []string{"payment_id", "receipt", zoned("created_at", loc), zoned("paid_at", loc), "registration_id", "first_name", "last_name",
		"local", "local_name", "category", "method", "status", "amount", "currency", "refunded", "to_refund",
		"reference", "stripe_payment_intent", "recorded_by", "local_paid_on", "local_paid_reference", "local_paid_recorded_by"}
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		receipt := ""
		if p.HasReceipt() {
			receipt = p.ReceiptNumber()
		}
		rows = append(rows, []string{strconv.FormatInt(p.ID, 10), receipt, csvTime(&p.CreatedAt, loc), csvTime(p.PaidAt, loc),
			strconv.FormatInt(p.RegistrationID, 10), p.FirstName, p.LastName, deref(p.LocalNumber), deref(p.LocalName),
			p.CategoryName, p.Method, p.Status, models.FormatMoney(p.AmountCents), strings.ToUpper(p.Currency),
			models.FormatMoney(p.RefundedCents), models.FormatMoney(p.OwedBack()), p.Reference,
			deref(p.StripePaymentIntentID), deref(p.RecordedByName), day(p.ReceivedOn), p.ReceivedReference, deref(p.ReceivedByName)})
	}
	a.sendConferenceCSV(c, conf, "payments", header, rows)
}

// statementView is what a local was billed.
type statementView struct {
	Local       models.Local
	Conference  *models.Conference
	Lines       []models.Payment
	TotalCents  int64
	Currency    string
	Conferences []models.Conference
}

// statement loads a local's invoices for its officers and staff, narrowed to
// ?conference=slug when given.
func (a *App) statement(c *gin.Context) (statementView, bool) {
	var v statementView
	act, ok := a.actor(c)
	if !ok {
		return v, false
	}
	// Refuse before looking anything up, so members learn nothing.
	if !act.IsStaff() && !act.IsOfficer() {
		a.forbidden(c)
		return v, false
	}
	local, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if err != nil {
		a.modelError(c, err)
		return v, false
	}
	v.Local = local
	var confID *int64
	if slug := c.Query("conference"); slug != "" {
		conf, err := a.Store.ConferenceBySlug(c.Request.Context(), slug, true)
		if err != nil {
			a.modelError(c, err)
			return v, false
		}
		v.Conference, confID = &conf, &conf.ID
	}
	v.Lines, err = a.Store.LocalStatement(c.Request.Context(), local.ID, confID, act)
	if errors.Is(err, models.ErrForbidden) {
		a.fail(c, http.StatusForbidden, "forbidden", "Only the officers of this local and conference staff can see its statement.")
		return v, false
	}
	if err != nil {
		a.serverError(c, err)
		return v, false
	}
	seen := map[int64]bool{}
	for _, l := range v.Lines {
		if l.Status == models.PayInvoiced {
			v.TotalCents += l.AmountCents
			v.Currency = l.Currency
		}
		if !seen[l.ConferenceID] {
			seen[l.ConferenceID] = true
			if conf, err := a.Store.ConferenceBySlug(c.Request.Context(), l.ConferenceSlug, true); err == nil {
				v.Conferences = append(v.Conferences, conf)
			}
		}
	}
	return v, true
}

func (a *App) statementPage(c *gin.Context) {
	v, ok := a.statement(c)
	if !ok {
		return
	}
	p := a.newPage(c, a.T(c, "Statement: Local %s", v.Local.Number))
	p.Data = v
	a.render(c, http.StatusOK, "statement", p)
}

// statementCSV is the statement as a spreadsheet; cells that a spreadsheet
// would run as a formula are neutralised.
func (a *App) statementCSV(c *gin.Context) {
	v, ok := a.statement(c)
	if !ok {
		return
	}
	rows := make([][]string, 0, len(v.Lines))
	for _, l := range v.Lines {
		billed := ""
		if l.PaidAt != nil {
			// The day as the conference's staff and the local count it.
			billed = l.PaidAt.In(l.ConferenceLocation()).Format("2006-01-02")
		}
		rows = append(rows, []string{l.ConferenceSlug, strconv.FormatInt(l.RegistrationID, 10), l.LastName, l.FirstName, l.CategoryName,
			models.FormatMoney(l.AmountCents), strings.ToUpper(l.Currency), l.Status, billed, l.ReceiptNumber(), day(l.ReceivedOn), l.ReceivedReference,
			models.FormatMoney(l.RefundedCents), models.FormatMoney(l.OwedBack())})
	}
	name := "local-" + v.Local.Number + "-statement.csv"
	if v.Conference != nil {
		name = "local-" + v.Local.Number + "-" + v.Conference.Slug + "-statement.csv"
	}
	sendCSV(c, name, []string{"conference", "registration_id", "last_name", "first_name", "category", "amount", "currency", "status", "billed_at", "receipt", "paid_on", "paid_reference", "paid_back", "to_pay_back"}, rows)
}

// receiptView is one payment's receipt.
type receiptView struct {
	P       models.Payment
	Conf    models.Conference
	Refunds []models.Refund
}

// receiptFor loads the payment in the URL for its member, the officers of its
// local and staff; only staff learn that an id does not exist.
func (a *App) receiptFor(c *gin.Context) (receiptView, bool) {
	var v receiptView
	act, ok := a.actor(c)
	if !ok {
		return v, false
	}
	id, _ := pathID(c)
	pay, err := a.Store.Payment(c.Request.Context(), id)
	switch {
	case errors.Is(err, models.ErrNotFound) && act.IsStaff():
		a.notFound(c)
		return v, false
	case errors.Is(err, models.ErrNotFound):
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this payment.")
		return v, false
	case err != nil:
		a.serverError(c, err)
		return v, false
	}
	owner := pay.RegistrationUserID != nil && *pay.RegistrationUserID == act.User.ID
	if !act.IsStaff() && !owner && !act.OfficerOfLocal(pay.RegistrationLocal) && !act.OfficerOfLocal(pay.LocalID) {
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this payment.")
		return v, false
	}
	if !pay.HasReceipt() {
		a.fail(c, http.StatusNotFound, "not_found", "This payment was not completed, so it has no receipt.")
		return v, false
	}
	v.P = pay
	if v.Conf, err = a.Store.ConferenceBySlug(c.Request.Context(), pay.ConferenceSlug, true); err != nil {
		a.serverError(c, err)
		return v, false
	}
	all, err := a.Store.Refunds(c.Request.Context(), pay.RegistrationID)
	if err != nil {
		a.serverError(c, err)
		return v, false
	}
	for _, f := range all {
		if f.PaymentID == pay.ID && f.Status == models.RefundSucceeded {
			v.Refunds = append(v.Refunds, f)
		}
	}
	return v, true
}

func (a *App) receiptPage(c *gin.Context) {
	v, ok := a.receiptFor(c)
	if !ok {
		return
	}
	p := a.newPage(c, a.T(c, receiptTitle(v.P))+" "+v.P.ReceiptNumber())
	p.Data = v
	a.render(c, http.StatusOK, "receipt", p)
}

func receiptTitle(p models.Payment) string {
	if p.Method == models.MethodLocalInvoice {
		return "Invoice"
	}
	return "Receipt"
}

func (a *App) receiptPDF(c *gin.Context) {
	v, ok := a.receiptFor(c)
	if !ok {
		return
	}
	l := lang(c)
	t := func(msg string, args ...any) string { return a.T(c, msg, args...) }
	pay, loc := v.P, v.Conf.Location()
	r := pdf.Receipt{
		Title: t(receiptTitle(pay)), Number: pay.ReceiptNumber(), Issuer: v.Conf.Title,
		Subtitle: FormatDateRange(v.Conf.StartsOn, v.Conf.EndsOn, l) + " · " + v.Conf.City,
		Lines: []pdf.ReceiptLine{
			{Label: t("Attendee"), Value: pay.FullName()},
			{Label: t("Registration type"), Value: pay.CategoryName},
		},
		TotalLabel: t("Amount"), Total: Money(pay.AmountCents, pay.Currency),
		Footer: t("Convene — conference registration for unions."),
	}
	if pay.LocalNumber != nil {
		r.Lines = append(r.Lines, pdf.ReceiptLine{Label: t("Local"), Value: *pay.LocalNumber + " — " + orEmpty(pay.LocalName)})
	}
	r.Lines = append(r.Lines, pdf.ReceiptLine{Label: t("Payment method"), Value: t(methodKey(pay.Method))})
	if pay.Reference != "" {
		r.Lines = append(r.Lines, pdf.ReceiptLine{Label: t("Reference"), Value: pay.Reference})
	}
	if pay.StripePaymentIntentID != nil {
		r.Lines = append(r.Lines, pdf.ReceiptLine{Label: t("Card payment"), Value: *pay.StripePaymentIntentID})
	}
	if pay.PaidAt != nil {
		r.Lines = append(r.Lines, pdf.ReceiptLine{Label: t("Date"), Value: FormatInstant(*pay.PaidAt, loc, l)})
	}
	switch {
	case pay.Status == models.PayVoid:
		r.Notes = append(r.Notes, t("This invoice was cancelled: the local owes nothing for it."))
	case pay.ReceivedOn != nil:
		r.Notes = append(r.Notes, t("Billed to Local %s, which paid it on %s (reference %s).", orEmpty(pay.LocalNumber),
			FormatDay(*pay.ReceivedOn, l), pay.ReceivedReference))
	case pay.Method == models.MethodLocalInvoice:
		r.Notes = append(r.Notes, t("Billed to Local %s. The local pays this amount to the conference.", orEmpty(pay.LocalNumber)))
	case pay.Method == models.MethodWaived:
		r.Notes = append(r.Notes, t("The fee was waived: nothing was paid."))
	}
	for _, f := range v.Refunds {
		r.Notes = append(r.Notes, t("Refunded %s on %s.", Money(f.AmountCents, pay.Currency), FormatInstant(f.UpdatedAt, loc, l)))
	}
	var buf bytes.Buffer
	if err := pdf.WriteReceipt(&buf, r); err != nil {
		a.serverError(c, err)
		return
	}
	c.Header("Content-Disposition", `inline; filename="`+strings.ToLower(pay.ReceiptNumber())+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", buf.Bytes())
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// receiveInvoices records, from a local's statement page, that the local
// paid the invoices ticked, and goes back to the statement.
func (a *App) receiveInvoices(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	local, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if err != nil {
		a.modelError(c, err)
		return
	}
	back := "/officer/locals/" + url.PathEscape(local.Number) + "/statement"
	if slug := c.PostForm("conference"); slug != "" {
		back += "?conference=" + url.QueryEscape(slug)
	}
	chosen := c.PostFormArray("payment")
	ids := parseIDs(chosen)
	if len(ids) != len(chosen) {
		a.fail(c, http.StatusBadRequest, "bad_request", "Choose invoices from the statement.")
		return
	}
	got, err := a.Store.ReceiveInvoices(c.Request.Context(), local.ID, ids,
		models.InvoiceReceipt{Reference: c.PostForm("reference"), ReceivedOn: c.PostForm("received_on")}, act, a.Now())
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		msgs := make([]string, 0, len(ve.Fields))
		for _, field := range []string{"payments", "reference", "received_on"} {
			if msg, ok := ve.Fields[field]; ok {
				msgs = append(msgs, a.T(c, msg))
			}
		}
		setFlash(c, strings.Join(msgs, " "))
	case errors.Is(err, models.ErrConflict):
		setFlash(c, a.T(c, reason(err, "")))
	case err != nil:
		a.modelError(c, err)
		return
	default:
		setFlash(c, a.T(c, "Recorded %d invoices as paid by Local %s.", len(got), local.Number))
	}
	c.Redirect(http.StatusSeeOther, back)
}

// apiReceiveInvoices is receiveInvoices for the API: POST
// /api/v1/locals/{number}/invoices/received with payment_ids, reference and
// received_on.
func (a *App) apiReceiveInvoices(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	var body struct {
		PaymentIDs []int64 `json:"payment_ids"`
		Reference  string  `json:"reference"`
		ReceivedOn string  `json:"received_on"`
	}
	if !bindJSON(c, &body) {
		return
	}
	local, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if err != nil {
		a.modelError(c, err)
		return
	}
	got, err := a.Store.ReceiveInvoices(c.Request.Context(), local.ID, body.PaymentIDs,
		models.InvoiceReceipt{Reference: body.Reference, ReceivedOn: body.ReceivedOn}, act, a.Now())
	if err != nil {
		a.registrationError(c, err)
		return
	}
	out := make([]gin.H, 0, len(got))
	for _, p := range got {
		out = append(out, gin.H{"id": p.ID, "registration_id": p.RegistrationID, "amount_cents": p.AmountCents,
			"currency": p.Currency, "status": p.Status, "received_on": p.ReceivedOn.Format("2006-01-02"),
			"received_reference": p.ReceivedReference})
	}
	c.JSON(http.StatusOK, gin.H{"received": out})
}

// day is a date column's day, YYYY-MM-DD, or empty.
func day(d *time.Time) string {
	if d == nil {
		return ""
	}
	return d.Format("2006-01-02")
}
