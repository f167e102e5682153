package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// actor loads who is acting, with the locals they are an officer of.
func (a *App) actor(c *gin.Context) (models.Actor, bool) {
	u := currentUser(c)
	if u == nil {
		return models.Actor{}, false
	}
	act, err := a.Store.ActorFor(c.Request.Context(), *u)
	if err != nil {
		a.serverError(c, err)
		return act, false
	}
	return act, true
}

// registrationFor loads the registration in the URL if the actor may see it:
// 404 when there is none, 403 when it is not theirs to see.
func (a *App) registrationFor(c *gin.Context, act models.Actor) (models.Registration, bool) {
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return models.Registration{}, false
	}
	r, err := a.Store.Registration(c.Request.Context(), id)
	if err != nil {
		a.modelError(c, err)
		return r, false
	}
	if !act.CanSee(r) {
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this registration.")
		return r, false
	}
	return r, true
}

// TicketURL is the QR code's text for a registration: BASE_URL/t/TOKEN.
func (a *App) TicketURL(r models.Registration) string {
	if r.TicketToken == nil {
		return ""
	}
	return a.Cfg.BaseURL + "/t/" + *r.TicketToken
}

// A registration's attendee, needs and emergency contact, as the API reads
// and writes them.
type attendeeJSON struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type needsJSON struct {
	Accessibility  string `json:"accessibility"`
	Interpretation string `json:"interpretation"`
	ChildcareCount int    `json:"childcare_count"`
	ChildcareAges  string `json:"childcare_ages"`
	Dietary        string `json:"dietary"`
}

type contactJSON struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// registrationOut is a registration as the API shows it. It is a struct
// rather than a map so that encoding it allocates little: the check-in
// desk's answer carries one on every scan.
type registrationOut struct {
	ID               int64        `json:"id"`
	Conference       string       `json:"conference"`
	Category         string       `json:"category"`
	Status           string       `json:"status"`
	WaitlistPosition *int         `json:"waitlist_position"` // null unless waitlisted
	AmountDueCents   int64        `json:"amount_due_cents"`
	PriceCents       int64        `json:"price_cents"`
	Attendee         attendeeJSON `json:"attendee"`
	Local            *string      `json:"local"`
	MemberNumber     string       `json:"member_number"`
	Needs            needsJSON    `json:"needs"`
	EmergencyContact contactJSON  `json:"emergency_contact"`
	Verification     string       `json:"verification"`
	Approver         string       `json:"approver"`
	DenialReason     string       `json:"denial_reason"`
	CreatedAs        string       `json:"created_as"`
	TicketURL        *string      `json:"ticket_url"` // null unless confirmed
	CheckedInAt      *time.Time   `json:"checked_in_at"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
}

func (a *App) registrationJSON(r models.Registration) registrationOut {
	o := registrationOut{ID: r.ID, Conference: r.ConferenceSlug, Category: r.CategorySlug, Status: r.Status,
		AmountDueCents: r.AmountDueCents, PriceCents: r.PriceCents, Local: r.LocalNumber, MemberNumber: r.MemberNumber,
		Verification: r.VerificationMessage(), Approver: r.Approver, DenialReason: r.DenialReason, CreatedAs: r.CreatedAs,
		CheckedInAt: r.CheckedInAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.Status == models.RegConfirmed {
		url := a.TicketURL(r)
		o.TicketURL = &url
	}
	if r.Status == models.RegWaitlisted {
		o.WaitlistPosition = &r.WaitlistPosition
	}
	o.Attendee = attendeeJSON{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Phone: r.Phone}
	o.Needs = needsJSON{Accessibility: r.Accessibility, Interpretation: r.Interpretation, ChildcareCount: r.ChildcareCount,
		ChildcareAges: r.ChildcareAges, Dietary: r.Dietary}
	o.EmergencyContact = contactJSON{Name: r.EmergencyName, Phone: r.EmergencyPhone}
	return o
}

type registrationBody struct {
	Category         string       `json:"category"`
	Attendee         attendeeJSON `json:"attendee"`
	Local            string       `json:"local"`
	MemberNumber     string       `json:"member_number"`
	Sessions         []int64      `json:"sessions"`
	Needs            needsJSON    `json:"needs"`
	EmergencyContact contactJSON  `json:"emergency_contact"`
	OverrideDeadline bool         `json:"override_deadline"`
}

func (b registrationBody) input() models.RegistrationInput {
	return models.RegistrationInput{Category: b.Category, FirstName: b.Attendee.FirstName, LastName: b.Attendee.LastName,
		Email: b.Attendee.Email, Phone: b.Attendee.Phone, Local: b.Local, MemberNumber: b.MemberNumber,
		Accessibility: b.Needs.Accessibility, Interpretation: b.Needs.Interpretation, ChildcareCount: b.Needs.ChildcareCount,
		ChildcareAges: b.Needs.ChildcareAges, Dietary: b.Needs.Dietary, EmergencyName: b.EmergencyContact.Name,
		EmergencyPhone: b.EmergencyContact.Phone, Sessions: b.Sessions, OverrideDeadline: b.OverrideDeadline}
}

func (a *App) apiRegister(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	var body registrationBody
	if !bindJSON(c, &body) {
		return
	}
	r, err := a.Store.Register(c.Request.Context(), conf, body.input(), act, a.Now())
	if err != nil {
		a.registrationError(c, err)
		return
	}
	c.JSON(http.StatusCreated, a.registrationJSON(r))
}

// registrationError maps the lifecycle's errors to statuses and plain messages.
func (a *App) registrationError(c *gin.Context, err error) {
	var closed *models.ClosedError
	switch {
	case errors.As(err, &closed):
		a.fail(c, http.StatusConflict, closed.Code, closed.Error()+" "+a.T(c, "Contact the conference staff if you think this is a mistake."))
	case errors.Is(err, models.ErrDuplicate):
		a.fail(c, http.StatusConflict, "duplicate", "This person is already registered for this conference.")
	case errors.Is(err, models.ErrForbidden):
		a.fail(c, http.StatusForbidden, "forbidden", reason(err, "You can only act on registrations of your own local."))
	case errors.Is(err, models.ErrFull):
		a.fail(c, http.StatusConflict, "full", reason(err, "There is no seat left."))
	case errors.Is(err, models.ErrConflict):
		a.fail(c, http.StatusConflict, "conflict", reason(err, "This registration changed meanwhile; reload and try again."))
	default:
		a.modelError(c, err)
	}
}

// reason is the sentence after "sentinel: " in a wrapped model error, or def.
func reason(err error, def string) string {
	if _, after, ok := strings.Cut(err.Error(), ": "); ok {
		return strings.ToUpper(after[:1]) + after[1:] + "."
	}
	return def
}

func (a *App) apiMyRegistrations(c *gin.Context) {
	rs, err := a.Store.UserRegistrations(c.Request.Context(), currentUser(c).ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	out := make([]registrationOut, 0, len(rs))
	for _, r := range rs {
		out = append(out, a.registrationJSON(r))
	}
	c.JSON(http.StatusOK, gin.H{"registrations": out})
}

func (a *App) apiRegistration(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	r, ok := a.registrationFor(c, act)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, a.registrationJSON(r))
}

// listFilter reads ?local= and ?status= for a conference's registrations.
func (a *App) listFilter(c *gin.Context) (models.RegistrationFilter, bool) {
	var f models.RegistrationFilter
	if n := c.Query("local"); n != "" {
		l, err := a.Store.LocalByNumber(c.Request.Context(), n)
		if err != nil {
			a.modelError(c, err)
			return f, false
		}
		f.LocalID = &l.ID
	}
	f.Status = c.Query("status")
	switch f.Status {
	case "", models.RegSubmitted, models.RegPending, models.RegApproved, models.RegAwaitingPayment, models.RegConfirmed,
		models.RegWaitlisted, models.RegDenied, models.RegCancelled:
	default:
		a.fail(c, http.StatusBadRequest, "bad_request", "Unknown status: use pending, approved, awaiting_payment, confirmed, waitlisted, denied or cancelled.")
		return f, false
	}
	return f, true
}

// listedRegistrations answers the conference's registrations the caller may
// list, filtered by ?local= and ?status=: staff all, officers their locals.
func (a *App) listedRegistrations(c *gin.Context) (models.Conference, []models.Registration, bool) {
	act, ok := a.actor(c)
	if !ok {
		return models.Conference{}, nil, false
	}
	if !act.IsStaff() && !act.IsOfficer() {
		a.forbidden(c)
		return models.Conference{}, nil, false
	}
	conf, ok := a.conferenceFor(c)
	if !ok {
		return conf, nil, false
	}
	f, ok := a.listFilter(c)
	if !ok {
		return conf, nil, false
	}
	rs, err := a.Store.ConferenceRegistrations(c.Request.Context(), conf.ID, f, act)
	if err != nil {
		a.registrationError(c, err)
		return conf, nil, false
	}
	return conf, rs, true
}

func (a *App) apiConferenceRegistrations(c *gin.Context) {
	_, rs, ok := a.listedRegistrations(c)
	if !ok {
		return
	}
	out := make([]registrationOut, 0, len(rs))
	for _, r := range rs {
		out = append(out, a.registrationJSON(r))
	}
	c.JSON(http.StatusOK, gin.H{"registrations": out})
}

// decide runs approve, deny or cancel for the API and the pages.
func (a *App) decide(c *gin.Context, act models.Actor, id int64, action, denyReason string) (models.Registration, error) {
	switch action {
	case "approve":
		return a.Store.Approve(c.Request.Context(), id, act)
	case "deny":
		r, err := a.Store.Deny(c.Request.Context(), id, act, denyReason)
		if err == nil {
			a.closeCheckouts(c, act, id)
		}
		return r, err
	default:
		return a.cancelAndRefund(c, act, id)
	}
}

func (a *App) apiDecide(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		act, ok := a.actor(c)
		if !ok {
			return
		}
		id, ok := pathID(c)
		if !ok {
			a.notFound(c)
			return
		}
		// Someone who cannot see the registration learns nothing about it,
		// not even whether their body was well formed.
		if r, err := a.Store.Registration(c.Request.Context(), id); err != nil {
			a.modelError(c, err)
			return
		} else if !act.CanSee(r) && !act.CanDecide(r) {
			a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this registration.")
			return
		}
		var body struct {
			Reason string `json:"reason"`
		}
		if c.Request.ContentLength != 0 && !bindJSON(c, &body) {
			return
		}
		r, err := a.decide(c, act, id, action, body.Reason)
		if err != nil {
			a.registrationError(c, err)
			return
		}
		c.JSON(http.StatusOK, a.registrationJSON(r))
	}
}

func parseIDs(vals []string) []int64 {
	var ids []int64
	for _, v := range vals {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}
