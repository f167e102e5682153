package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// registerView is what the registration form shows.
type registerView struct {
	Conf      ConferenceView
	Workshops []models.AgendaSession
	Locals    []models.Local
	Open      bool
	Message   string
	IsOfficer bool
}

// registrationForm is the registration form's input, kept to re-render it.
type registrationForm struct {
	models.RegistrationInput
	SessionSet map[int64]bool
}

func formInput(c *gin.Context) registrationForm {
	n, _ := strconv.Atoi(strings.TrimSpace(c.PostForm("childcare_count")))
	if c.PostForm("childcare_count") != "" && strings.TrimSpace(c.PostForm("childcare_count")) != strconv.Itoa(n) {
		n = -1
	}
	in := models.RegistrationInput{Category: c.PostForm("category"), FirstName: c.PostForm("first_name"),
		LastName: c.PostForm("last_name"), Email: c.PostForm("email"), Phone: c.PostForm("phone"), Local: c.PostForm("local"),
		MemberNumber: c.PostForm("member_number"), Accessibility: c.PostForm("accessibility"),
		Interpretation: c.PostForm("interpretation"), ChildcareCount: n, ChildcareAges: c.PostForm("childcare_ages"),
		Dietary: c.PostForm("dietary"), EmergencyName: c.PostForm("emergency_name"), EmergencyPhone: c.PostForm("emergency_phone"),
		Sessions: parseIDs(c.PostFormArray("sessions"))}
	f := registrationForm{RegistrationInput: in, SessionSet: map[int64]bool{}}
	for _, id := range in.Sessions {
		f.SessionSet[id] = true
	}
	return f
}

func (a *App) registerView(c *gin.Context, conf models.Conference, act models.Actor) (registerView, error) {
	v := registerView{IsOfficer: act.IsOfficer()}
	var err error
	if v.Conf, err = a.fullView(c, conf); err != nil {
		return v, err
	}
	for _, d := range v.Conf.Days {
		for _, s := range d.Sessions {
			if s.Kind == "workshop" {
				v.Workshops = append(v.Workshops, s)
			}
		}
	}
	if v.Locals, err = a.Store.Locals(c.Request.Context()); err != nil {
		return v, err
	}
	v.Open = v.Conf.WindowState == "open" || act.IsStaff()
	return v, nil
}

func (a *App) registerForm(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	v, err := a.registerView(c, conf, act)
	if err != nil {
		a.serverError(c, err)
		return
	}
	first, last, _ := strings.Cut(act.User.Name, " ")
	f := registrationForm{RegistrationInput: models.RegistrationInput{FirstName: first, LastName: last, Email: act.User.Email}, SessionSet: map[int64]bool{}}
	if len(v.Conf.Categories) == 1 {
		f.Category = v.Conf.Categories[0].Slug
	}
	p := a.newPage(c, a.T(c, "Register: %s", v.Conf.LocalTitle))
	p.Form, p.Data = f, v
	a.render(c, http.StatusOK, "register", p)
}

func (a *App) register(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	f := formInput(c)
	f.OverrideDeadline = act.IsStaff() && c.PostForm("override_deadline") != ""
	r, err := a.Store.Register(c.Request.Context(), conf, f.RegistrationInput, act, a.Now())
	if err == nil {
		setFlash(c, a.T(c, "Thank you. Your registration is received."))
		c.Redirect(http.StatusSeeOther, "/registrations/"+strconv.FormatInt(r.ID, 10))
		return
	}
	v, verr := a.registerView(c, conf, act)
	if verr != nil {
		a.serverError(c, verr)
		return
	}
	p := a.newPage(c, a.T(c, "Register: %s", v.Conf.LocalTitle))
	p.Form = f
	var ve *models.ValidationError
	var closed *models.ClosedError
	status := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, &ve):
		p.Errors = ve.Fields
	case errors.As(err, &closed):
		status = http.StatusConflict
		at := FormatInstant(closed.At, conf.Location(), p.Lang)
		if closed.Code == "registration_not_open" {
			v.Message = p.T("Registration opens %s.", at)
		} else {
			v.Message = p.T("Registration closed %s.", at)
		}
	case errors.Is(err, models.ErrDuplicate):
		status = http.StatusConflict
		v.Message = p.T("This person is already registered for this conference.")
	case errors.Is(err, models.ErrForbidden):
		status = http.StatusForbidden
		v.Message = p.T("You can only register members of your own local.")
	default:
		a.serverError(c, err)
		return
	}
	p.Data = v
	a.render(c, status, "register", p)
}

// dashboard is the member's own registrations with what happens next.
func (a *App) dashboard(c *gin.Context) {
	rs, err := a.Store.UserRegistrations(c.Request.Context(), currentUser(c).ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Your registrations"))
	p.Data = rs
	a.render(c, http.StatusOK, "dashboard", p)
}

// registrationView is one registration's page.
type registrationView struct {
	R         models.Registration
	Conf      models.Conference
	Sessions  []models.AgendaSession
	History   []models.AuditEntry
	Roster    *models.RosterEntry
	CanDecide bool
	IsOwner   bool
	ShowAdmin bool
	TicketURL string
}

func (a *App) registrationPage(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	r, ok := a.registrationFor(c, act)
	if !ok {
		return
	}
	v := registrationView{R: r, CanDecide: act.CanDecide(r), IsOwner: r.UserID != nil && *r.UserID == act.User.ID,
		ShowAdmin: act.IsStaff() || act.OfficerOfLocal(r.LocalID)}
	var err error
	if v.Conf, err = a.Store.ConferenceBySlug(c.Request.Context(), r.ConferenceSlug, true); err != nil {
		a.serverError(c, err)
		return
	}
	if v.Sessions, err = a.Store.RegistrationSessions(c.Request.Context(), r.ID); err != nil {
		a.serverError(c, err)
		return
	}
	if v.ShowAdmin {
		if v.History, err = a.Store.History(c.Request.Context(), "registration", r.ID); err != nil {
			a.serverError(c, err)
			return
		}
		if r.LocalID != nil && r.MemberNumber != "" {
			if e, err := a.Store.RosterEntry(c.Request.Context(), a.DB, *r.LocalID, r.MemberNumber); err == nil {
				v.Roster = &e
			}
		}
	}
	if r.Status == models.RegConfirmed {
		v.TicketURL = a.TicketURL(r)
	}
	p := a.newPage(c, r.ConferenceTitle)
	p.Data = v
	a.render(c, http.StatusOK, "registration", p)
}

// decidePage runs approve, deny or cancel from a form and returns to where
// the person came from.
func (a *App) decidePage(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		act, ok := a.actor(c)
		if !ok {
			return
		}
		r, ok := a.registrationFor(c, act)
		if !ok {
			return
		}
		_, err := a.decide(c, act, r.ID, action, c.PostForm("reason"))
		var ve *models.ValidationError
		if errors.As(err, &ve) && ve.Fields["refund"] != "" {
			setFlash(c, a.T(c, ve.Fields["refund"]))
		} else if errors.As(err, &ve) {
			setFlash(c, a.T(c, "To deny a registration, say why, so the member knows what to do."))
		} else if err != nil {
			a.registrationError(c, err)
			return
		} else {
			msgs := map[string]string{"approve": "Approved: %s.", "deny": "Denied: %s.", "cancel": "Cancelled: %s."}
			setFlash(c, a.T(c, msgs[action], r.FirstName+" "+r.LastName)+refundNote(c))
		}
		c.Redirect(http.StatusSeeOther, safeNext(c.DefaultPostForm("next", "/registrations/"+strconv.FormatInt(r.ID, 10))))
	}
}
