package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"convene/models"

	"github.com/gin-gonic/gin"
)

func (a *App) staffHome(c *gin.Context) {
	confs, err := a.Store.AllConferences(c.Request.Context())
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Staff: conferences"))
	views := make([]ConferenceView, 0, len(confs))
	for _, conf := range confs {
		views = append(views, a.view(c, conf, lang(c)))
	}
	p.Data = views
	a.render(c, http.StatusOK, "staff_home", p)
}

func (a *App) staffConference(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	v, err := a.fullView(c, conf)
	if err != nil {
		a.serverError(c, err)
		return
	}
	flags, err := a.staffFlags(c, conf)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, conf.Title)
	p.Data, p.Form = v, flags
	a.render(c, http.StatusOK, "staff_conference", p)
}

func conferenceForm(c *gin.Context) models.ConferenceInput {
	in := models.ConferenceInput{}
	for k, dst := range conferenceFields(&in) {
		*dst = c.PostForm(k)
	}
	return in
}

// renderInvalid re-renders a form with the person's input and a message
// beside each bad field, or answers an unexpected error.
func (a *App) renderInvalid(c *gin.Context, err error, page, title string, form, data any) {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		a.modelError(c, err)
		return
	}
	p := a.newPage(c, title)
	p.Form, p.Data, p.Errors = form, data, ve.Fields
	a.render(c, http.StatusUnprocessableEntity, page, p)
}

func (a *App) newConferenceForm(c *gin.Context) {
	p := a.newPage(c, a.T(c, "New conference"))
	p.Form = models.ConferenceInput{TimeZone: "America/Los_Angeles", Mode: "in_person", Languages: "en", Currency: "usd"}
	a.render(c, http.StatusOK, "conference_form", p)
}

func (a *App) createConference(c *gin.Context) {
	in := conferenceForm(c)
	conf, err := a.Store.CreateConference(c.Request.Context(), in)
	if err != nil {
		a.renderInvalid(c, err, "conference_form", a.T(c, "New conference"), in, nil)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "conference_created", "conference", conf.ID, map[string]any{"slug": conf.Slug})
	setFlash(c, a.T(c, "Conference saved as a draft. Add its categories and agenda, then publish it."))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug)
}

func (a *App) editConferenceForm(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	p := a.newPage(c, a.T(c, "Edit conference"))
	p.Form, p.Data = conf.Input(), conf
	a.render(c, http.StatusOK, "conference_form", p)
}

func (a *App) updateConference(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	in := conferenceForm(c)
	updated, err := a.Store.UpdateConference(c.Request.Context(), conf.ID, in)
	if err != nil {
		a.renderInvalid(c, err, "conference_form", a.T(c, "Edit conference"), in, conf)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "conference_updated", "conference", conf.ID, nil)
	setFlash(c, a.T(c, "Changes saved."))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+updated.Slug)
}

func (a *App) setConferenceStatus(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	conf, err := a.Store.SetConferenceStatus(c.Request.Context(), conf.ID, c.PostForm("status"))
	if err != nil {
		a.modelError(c, err)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "conference_status", "conference", conf.ID, map[string]any{"status": conf.Status})
	setFlash(c, a.T(c, "The conference is now %s.", a.T(c, conf.Status)))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug)
}

func categoryForm(c *gin.Context) models.CategoryInput {
	return models.CategoryInput{Slug: c.PostForm("slug"), Name: c.PostForm("name"), NameES: c.PostForm("name_es"),
		Price: c.PostForm("price"), EarlyPrice: c.PostForm("early_price"), EarlyUntil: c.PostForm("early_until"),
		Capacity: c.PostForm("capacity"), Approver: c.PostForm("approver"),
		RequiresMembership: c.PostForm("requires_membership") != "", RequiresApproval: c.PostForm("requires_approval") != ""}
}

func (a *App) newCategoryForm(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	p := a.newPage(c, a.T(c, "New category"))
	p.Form, p.Data = models.CategoryInput{Price: "0.00", RequiresMembership: true, Approver: "officer"}, conf
	a.render(c, http.StatusOK, "category_form", p)
}

func (a *App) createCategory(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	in := categoryForm(c)
	if _, err := a.Store.CreateCategory(c.Request.Context(), conf, in); err != nil {
		a.renderInvalid(c, err, "category_form", a.T(c, "New category"), in, conf)
		return
	}
	setFlash(c, a.T(c, "Category added."))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug)
}

func pathID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

func (a *App) editCategoryForm(c *gin.Context) {
	conf, id, ok := a.conferenceAndID(c)
	if !ok {
		return
	}
	cat, err := a.Store.Category(c.Request.Context(), conf.ID, id)
	if err != nil {
		a.modelError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Edit category"))
	p.Form, p.Data = cat.Input(conf), conf
	a.render(c, http.StatusOK, "category_form", p)
}

func (a *App) updateCategory(c *gin.Context) {
	conf, id, ok := a.conferenceAndID(c)
	if !ok {
		return
	}
	in := categoryForm(c)
	if _, err := a.Store.UpdateCategory(c.Request.Context(), conf, id, in); err != nil {
		a.renderInvalid(c, err, "category_form", a.T(c, "Edit category"), in, conf)
		return
	}
	setFlash(c, a.T(c, "Changes saved."))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug)
}

func sessionForm(c *gin.Context) models.SessionInput {
	return models.SessionInput{Title: c.PostForm("title"), TitleES: c.PostForm("title_es"), Kind: c.PostForm("kind"),
		StartsAt: c.PostForm("starts_at"), EndsAt: c.PostForm("ends_at"), Room: c.PostForm("room"),
		Speakers: c.PostForm("speakers"), Description: c.PostForm("description"), Capacity: c.PostForm("capacity")}
}

func (a *App) newSessionForm(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	p := a.newPage(c, a.T(c, "New agenda session"))
	p.Form, p.Data = models.SessionInput{Kind: "plenary"}, conf
	a.render(c, http.StatusOK, "session_form", p)
}

func (a *App) createSession(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	in := sessionForm(c)
	if _, err := a.Store.CreateAgendaSession(c.Request.Context(), conf, in); err != nil {
		a.renderInvalid(c, err, "session_form", a.T(c, "New agenda session"), in, conf)
		return
	}
	setFlash(c, a.T(c, "Session added to the agenda."))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug)
}

func (a *App) editSessionForm(c *gin.Context) {
	conf, id, ok := a.conferenceAndID(c)
	if !ok {
		return
	}
	s, err := a.Store.AgendaSession(c.Request.Context(), conf.ID, id)
	if err != nil {
		a.modelError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Edit agenda session"))
	p.Form, p.Data = s.Input(conf), conf
	a.render(c, http.StatusOK, "session_form", p)
}

func (a *App) updateSession(c *gin.Context) {
	conf, id, ok := a.conferenceAndID(c)
	if !ok {
		return
	}
	in := sessionForm(c)
	if _, err := a.Store.UpdateAgendaSession(c.Request.Context(), conf, id, in); err != nil {
		a.renderInvalid(c, err, "session_form", a.T(c, "Edit agenda session"), in, conf)
		return
	}
	setFlash(c, a.T(c, "Changes saved."))
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug)
}

// conferenceAndID loads the conference in the URL and reads the :id after it.
func (a *App) conferenceAndID(c *gin.Context) (models.Conference, int64, bool) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return conf, 0, false
	}
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
	}
	return conf, id, ok
}
