package handlers

import (
	"net/http"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// waitlistPage shows a conference's waiting list in order, for staff to
// reorder or move someone on by hand.
func (a *App) waitlistPage(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	rs, err := a.Store.Waitlist(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Waiting list: %s", conf.Title))
	p.Data = gin.H{"Conf": a.view(c, conf, lang(c)), "Waiting": rs}
	a.render(c, http.StatusOK, "waitlist", p)
}

// waitlistAction moves a waitlisted registration up or down, or on now.
func (a *App) waitlistAction(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	conf, id, ok := a.conferenceAndID(c)
	if !ok {
		return
	}
	r, err := a.Store.Registration(c.Request.Context(), id)
	if err != nil || r.ConferenceID != conf.ID {
		a.notFound(c)
		return
	}
	switch c.PostForm("action") {
	case "up", "down":
		err = a.Store.MoveOnWaitlist(c.Request.Context(), id, c.PostForm("action") == "up", act)
	case "promote":
		_, err = a.Store.PromoteNow(c.Request.Context(), id, act)
		if err == nil {
			setFlash(c, a.T(c, "%s has a seat now.", r.FullName()))
		}
	default:
		a.fail(c, http.StatusBadRequest, "bad_request", "Choose up, down or promote.")
		return
	}
	if err != nil {
		a.registrationError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/staff/conferences/"+conf.Slug+"/waitlist")
}

// staffFlags are what a conference's staff page warns about.
func (a *App) staffFlags(c *gin.Context, conf models.Conference) (gin.H, error) {
	late, err := a.Store.PendingPastApprovalDeadline(c.Request.Context(), conf, a.Now())
	if err != nil {
		return nil, err
	}
	return gin.H{"LatePending": late}, nil
}
