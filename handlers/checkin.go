package handlers

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// The check-in desk: a page made for a line out the door. Scans post a plain
// form (the server renders the result); static/js/checkin.js sends the same
// form with fetch and swaps in only the result, keeping the scan field's focus.

// deskResult is a check-in result as the desk shows it.
type deskResult struct {
	models.CheckIn
	Tone     string // ok (green), warn (amber), bad (red), info
	Headline string
	Detail   string
	Local    string
	Due      string // the balance still to pay, as money, when there is one
	Code     string // the ticket token, for the check-in button
	Nonce    string // for the check-in button's request
	// What the desk may do next with this registration.
	CanCheckIn, CanUndo, CanPrint, TakePayment bool
}

// deskResult explains a check-in in the reader's language.
func (a *App) deskResult(c *gin.Context, ci models.CheckIn, loc *time.Location) deskResult {
	d := deskResult{CheckIn: ci, Nonce: newNonce()}
	r := ci.Registration
	if r != nil {
		if r.TicketToken != nil {
			d.Code = *r.TicketToken
		}
		if r.LocalNumber != nil {
			d.Local = a.T(c, "Local %s", *r.LocalNumber) + " — " + *r.LocalName
		}
		if r.AmountDueCents > 0 && r.Status != models.RegCancelled {
			d.Due = Money(r.AmountDueCents, r.ConferenceCurrency)
			d.TakePayment = r.Status == models.RegAwaitingPayment || r.Status == models.RegConfirmed
		}
		d.CanPrint = r.Status == models.RegConfirmed
	}
	switch ci.Result {
	case models.CheckedIn:
		d.Tone, d.Headline, d.CanUndo = "ok", a.T(c, "Checked in"), true
		if d.Due != "" {
			d.Tone, d.Detail = "warn", a.T(c, "Balance due: %s.", d.Due)
		}
	case models.AlreadyCheckedIn:
		d.Tone, d.Headline, d.CanUndo = "warn", a.T(c, "Already checked in"), true
		d.Detail = a.T(c, "Checked in at %s by %s.", checkinTime(*r.CheckedInAt, loc, lang(c), a.Now()), ci.CheckedInByName)
	case models.ReadyToCheckIn:
		d.Tone, d.Headline, d.CanCheckIn = "info", a.T(c, "Not checked in yet"), true
		if d.Due != "" {
			d.Detail = a.T(c, "Balance due: %s.", d.Due)
		}
	case models.NotConfirmed:
		if r.Status == models.RegAwaitingPayment {
			d.Tone, d.Headline = "warn", a.T(c, "Balance due")
			d.Detail = a.T(c, "%s to pay before check-in.", d.Due)
		} else {
			d.Tone, d.Headline = "bad", a.T(c, "Not approved")
			status := "status:" + r.Status
			d.Detail = a.T(c, "Registration status: %s. Do not check in; send them to the help desk.", a.T(c, status))
		}
	case models.CancelledTicket:
		d.Tone, d.Headline = "bad", a.T(c, "Cancelled")
		d.Detail = a.T(c, "This registration was cancelled. Do not check in; send them to the help desk.")
	case models.WrongConference:
		d.Tone, d.Headline = "bad", a.T(c, "Another conference")
		d.Detail = a.T(c, "This ticket is for %s.", r.ConferenceTitle)
		d.CanPrint, d.TakePayment = false, false
	default:
		d.Tone, d.Headline = "bad", a.T(c, "Unknown code")
		d.Detail = a.T(c, "No ticket has this code. Scan again, or search by name.")
	}
	return d
}

// checkinTime is when someone was checked in, in the conference's zone with
// the zone named: only the clock time when it was today.
func checkinTime(t time.Time, loc *time.Location, lang string, now time.Time) string {
	if y, m, d := t.In(loc).Date(); y == now.In(loc).Year() && m == now.In(loc).Month() && d == now.In(loc).Day() {
		return FormatTime(t, loc, lang) + " " + t.In(loc).Format("MST")
	}
	return FormatInstant(t, loc, lang)
}

// deskView is the desk page.
type deskView struct {
	Conf    models.Conference
	Result  *deskResult
	Error   string
	Query   string
	Matches []deskResult
	Counts  models.CheckinCounts
	Nonce   string
}

func newNonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *App) checkinDesk(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	a.renderDesk(c, conf, deskView{Query: c.Query("q")})
}

func (a *App) renderDesk(c *gin.Context, conf models.Conference, v deskView) {
	ctx := c.Request.Context()
	v.Conf, v.Nonce = conf, newNonce()
	if v.Query != "" {
		found, err := a.Store.SearchAttendees(ctx, conf.ID, v.Query, searchLimit)
		if err != nil {
			a.serverError(c, err)
			return
		}
		for _, ci := range found {
			v.Matches = append(v.Matches, a.deskResult(c, ci, conf.Location()))
		}
	}
	var err error
	if v.Counts, err = a.Store.CheckinCounts(ctx, conf.ID); err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Check-in: %s", conf.Title))
	// Scans and undos answer with this page; its language links lead back
	// to the desk, not to the form's address.
	p.Path = "/staff/conferences/" + conf.Slug + "/checkin"
	p.Data = v
	a.render(c, http.StatusOK, "checkin", p)
}

// checkinScan checks in the code a scanner typed (or a search result's "Check
// in" sent), for the page or, with ?partial=result, for checkin.js.
func (a *App) checkinScan(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	act := models.Actor{User: *currentUser(c)}
	ci, _, err := a.Store.CheckIn(c.Request.Context(), conf.Slug, c.PostForm("code"), c.PostForm("nonce"), act)
	a.deskAnswer(c, conf, ci, err, false)
}

// checkinUndo clears a check-in from the desk.
func (a *App) checkinUndo(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.PostForm("id"), 10, 64)
	if err != nil {
		a.fail(c, http.StatusBadRequest, "bad_request", "Choose whose check-in to undo.")
		return
	}
	ci, err := a.Store.UndoCheckIn(c.Request.Context(), id, models.Actor{User: *currentUser(c)})
	a.deskAnswer(c, conf, ci, err, true)
}

// deskAnswer shows a scan's or an undo's result: the whole desk page, or
// only the result for checkin.js.
func (a *App) deskAnswer(c *gin.Context, conf models.Conference, ci models.CheckIn, err error, undone bool) {
	var v deskView
	var ve *models.ValidationError
	switch {
	case err == nil:
		res := a.deskResult(c, ci, conf.Location())
		if undone {
			res.Headline = a.T(c, "Check-in undone")
		}
		v.Result = &res
	case errors.Is(err, models.ErrNonceReused):
		v.Error = a.T(c, "This scan was already sent for another code. Scan again.")
	case errors.Is(err, models.ErrConflict) && undone:
		v.Error = a.T(c, "This person is not checked in: someone may have undone it already.")
	case errors.As(err, &ve):
		v.Error = a.T(c, "This scan could not be read. Scan again.")
	default:
		a.modelError(c, err)
		return
	}
	if c.Query("partial") != "result" {
		a.renderDesk(c, conf, v)
		return
	}
	p := a.newPage(c, "")
	var buf bytes.Buffer
	if err := a.Pages.pages["checkin"].ExecuteTemplate(&buf, "checkin_outcome", gin.H{"P": p, "V": v, "Conf": conf}); err != nil {
		a.serverError(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// ticketCodePage is what a ticket's QR code opens. Staff get the registration's
// check-in status with a button to check in (this GET changes nothing);
// anyone else learns only that the ticket is valid, and the first name.
func (a *App) ticketCodePage(c *gin.Context) {
	ci, err := a.Store.Ticket(c.Request.Context(), c.Param("token"))
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		a.serverError(c, err)
		return
	}
	u := currentUser(c)
	staff := u != nil && u.IsStaff
	if errors.Is(err, models.ErrNotFound) || (!staff && ci.Registration.Status != models.RegConfirmed) {
		a.fail(c, http.StatusNotFound, "not_found", "This is not a valid ticket. Check the link, or ask at the registration desk.")
		return
	}
	r := ci.Registration
	if !staff {
		p := a.newPage(c, a.T(c, "Valid ticket"))
		p.Data = gin.H{"FirstName": r.FirstName}
		a.render(c, http.StatusOK, "ticket_code", p)
		return
	}
	conf, err := a.Store.ConferenceBySlug(c.Request.Context(), r.ConferenceSlug, true)
	if err != nil {
		a.serverError(c, err)
		return
	}
	res := a.deskResult(c, ci, conf.Location())
	p := a.newPage(c, a.T(c, "Ticket: %s", r.FullName()))
	p.Data = gin.H{"Staff": true, "Result": res, "Conf": conf, "Nonce": newNonce()}
	a.render(c, http.StatusOK, "ticket_code", p)
}
