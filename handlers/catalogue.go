package handlers

import (
	"net/http"
	"time"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// ConferenceView is a conference prepared for a page in one language.
type ConferenceView struct {
	models.Conference
	Loc         *time.Location
	LocalTitle  string
	LocalDesc   string
	Window      string // the registration window in words
	WindowState string
	Categories  []models.Category
	Days        []models.Day
	// WaitlistLength is filled on the conference's own page, with
	// Newcomers, the seats a new registration could take and who waits.
	WaitlistLength int
	Newcomers      models.NewcomerSeats
	// TitleLang and DescLang are "en" when the page's language has no
	// translation and the English text stands in; pages mark it with lang.
	TitleLang, DescLang string
}

// view prepares c for a page in lang.
func (a *App) view(c *gin.Context, conf models.Conference, lang string) ConferenceView {
	v := ConferenceView{Conference: conf, Loc: conf.Location(), LocalTitle: conf.Title, LocalDesc: conf.Description}
	if lang == "es" && conf.TitleES != "" {
		v.LocalTitle = conf.TitleES
	} else if lang != "en" {
		v.TitleLang = "en"
	}
	if lang == "es" && conf.DescriptionES != "" {
		v.LocalDesc = conf.DescriptionES
	} else if lang != "en" {
		v.DescLang = "en"
	}
	now := a.Now()
	v.WindowState = conf.RegistrationState(now)
	switch v.WindowState {
	case "not_open":
		v.Window = a.T(c, "Registration opens %s", FormatInstant(conf.RegistrationOpensAt, v.Loc, lang))
	case "open":
		v.Window = a.T(c, "Open until %s", FormatInstant(conf.RegistrationClosesAt, v.Loc, lang))
	default:
		v.Window = a.T(c, "Registration closed")
	}
	return v
}

// catalogue lists published conferences: upcoming first, past ones apart.
func (a *App) catalogue(c *gin.Context) {
	confs, err := a.Store.PublicConferences(c.Request.Context())
	if err != nil {
		a.serverError(c, err)
		return
	}
	var upcoming, past []ConferenceView
	now := a.Now()
	l := lang(c)
	for _, conf := range confs {
		v := a.view(c, conf, l)
		if conf.IsPast(now) {
			past = append([]ConferenceView{v}, past...) // most recent first
		} else {
			upcoming = append(upcoming, v)
		}
	}
	p := a.newPage(c, a.T(c, "Conferences"))
	p.Data = gin.H{"Upcoming": upcoming, "Past": past}
	a.render(c, http.StatusOK, "catalogue", p)
}

// conferenceFor loads the conference named in the URL; drafts are found only by staff.
func (a *App) conferenceFor(c *gin.Context) (models.Conference, bool) {
	u := currentUser(c)
	conf, err := a.Store.ConferenceBySlug(c.Request.Context(), c.Param("slug"), u != nil && u.IsStaff)
	if err != nil {
		a.modelError(c, err)
		return conf, false
	}
	return conf, true
}

func (a *App) conferencePage(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	v, err := a.fullView(c, conf)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, v.LocalTitle)
	p.Data = v
	a.render(c, http.StatusOK, "conference", p)
}

// fullView adds categories and the agenda by day to a conference's view.
func (a *App) fullView(c *gin.Context, conf models.Conference) (ConferenceView, error) {
	v := a.view(c, conf, lang(c))
	var err error
	if v.Categories, err = a.Store.Categories(c.Request.Context(), conf.ID); err != nil {
		return v, err
	}
	sessions, err := a.Store.AgendaSessions(c.Request.Context(), conf.ID)
	if err != nil {
		return v, err
	}
	v.Days = models.ByDay(sessions, v.Loc)
	v.Newcomers, err = a.Store.SeatsForNewcomers(c.Request.Context(), conf.ID)
	v.WaitlistLength = v.Newcomers.WaitlistLength
	return v, err
}

// API.

func (a *App) apiConferences(c *gin.Context) {
	confs, err := a.Store.PublicConferences(c.Request.Context())
	if err != nil {
		a.serverError(c, err)
		return
	}
	out := make([]gin.H, 0, len(confs))
	for _, conf := range confs {
		out = append(out, conferenceJSON(conf, a.Now()))
	}
	c.JSON(http.StatusOK, gin.H{"conferences": out})
}

func (a *App) apiConference(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	a.writeConference(c, http.StatusOK, conf)
}

func (a *App) writeConference(c *gin.Context, status int, conf models.Conference) {
	cats, err := a.Store.Categories(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	sessions, err := a.Store.AgendaSessions(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	out := conferenceJSON(conf, a.Now())
	if out["waitlist_length"], err = a.Store.WaitlistLength(c.Request.Context(), conf.ID); err != nil {
		a.serverError(c, err)
		return
	}
	cj := make([]gin.H, 0, len(cats))
	for _, cat := range cats {
		cj = append(cj, categoryJSON(cat))
	}
	sj := make([]gin.H, 0, len(sessions))
	for _, s := range sessions {
		sj = append(sj, sessionJSON(s))
	}
	out["categories"], out["sessions"] = cj, sj
	c.JSON(status, out)
}

func seats(n int) any {
	if n < 0 {
		return nil
	}
	return n
}

func conferenceJSON(c models.Conference, now time.Time) gin.H {
	return gin.H{
		"slug": c.Slug, "title": c.Title, "title_es": c.TitleES, "description": c.Description,
		"description_es": c.DescriptionES, "venue": c.Venue, "city": c.City, "time_zone": c.TimeZone,
		"starts_on": c.StartsOn.Format(models.DateLayout), "ends_on": c.EndsOn.Format(models.DateLayout),
		"mode": c.Mode, "languages": c.Languages, "capacity": c.Capacity, "seats_left": seats(c.SeatsLeft()),
		"currency": c.Currency, "status": c.Status,
		"registration_opens_at": c.RegistrationOpensAt, "registration_closes_at": c.RegistrationClosesAt,
		"registration_state": c.RegistrationState(now),
		"approval_deadline":  c.ApprovalDeadline, "cancellation_deadline": c.CancellationDeadline,
		"workshop_signup_closes_at": c.WorkshopSignupClosesAt, "payment_due_days": c.PaymentDueDays,
	}
}

func categoryJSON(c models.Category) gin.H {
	return gin.H{"slug": c.Slug, "name": c.Name, "name_es": c.NameES, "price_cents": c.PriceCents,
		"early_price_cents": c.EarlyPriceCents, "early_until": c.EarlyUntil, "capacity": c.Capacity,
		"seats_left": seats(c.SeatsLeft()), "requires_membership": c.RequiresMembership,
		"requires_approval": c.RequiresApproval, "approver": c.Approver}
}

func sessionJSON(s models.AgendaSession) gin.H {
	return gin.H{"id": s.ID, "title": s.Title, "title_es": s.TitleES, "kind": s.Kind, "starts_at": s.StartsAt,
		"ends_at": s.EndsAt, "room": s.Room, "speakers": s.Speakers, "description": s.Description,
		"capacity": s.Capacity, "seats_left": seats(s.SeatsLeft())}
}
