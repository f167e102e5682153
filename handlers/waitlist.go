package handlers

import (
	"errors"
	"net/http"
	"strconv"

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
	// Each row's buttons say who the staff member saw ahead and behind, so
	// a move on a line that changed since is refused, not made with someone
	// else.
	rows := make([]waitRow, len(rs))
	for i, r := range rs {
		rows[i].Registration = r
		if i > 0 {
			rows[i].Ahead = rs[i-1].ID
		}
		if i+1 < len(rs) {
			rows[i].Behind = rs[i+1].ID
		}
	}
	p := a.newPage(c, a.T(c, "Waiting list: %s", conf.Title))
	p.Data = gin.H{"Conf": a.view(c, conf, lang(c)), "Waiting": rows}
	a.render(c, http.StatusOK, "waitlist", p)
}

// waitRow is one person on the waiting list page, with their neighbours.
type waitRow struct {
	models.Registration
	Ahead, Behind int64 // 0: nobody (first, last)
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
	list := "/staff/conferences/" + conf.Slug + "/waitlist"
	switch c.PostForm("action") {
	case "up", "down":
		// The page says who was next in line, or "none" at either end.
		var neighbour int64
		if v := c.PostForm("neighbour"); v != "none" {
			if neighbour, err = strconv.ParseInt(v, 10, 64); err != nil || neighbour <= 0 {
				a.fail(c, http.StatusBadRequest, "bad_request", "Say who was next in line: a registration number, or none.")
				return
			}
		}
		err = a.Store.MoveOnWaitlist(c.Request.Context(), id, c.PostForm("action") == "up", neighbour, act)
		if errors.Is(err, models.ErrConflict) {
			// The line changed since the page was drawn: show it as it is.
			setFlash(c, a.T(c, reason(err, "")))
			c.Redirect(http.StatusSeeOther, list)
			return
		}
	case "promote":
		_, err = a.Store.PromoteNow(c.Request.Context(), id, act)
		if err == nil {
			setFlash(c, a.T(c, "%s has a seat now.", r.FullName()))
		}
		if errors.Is(err, models.ErrConflict) {
			// No longer on the line, or their row busy a moment: say so
			// on the list as it is now.
			setFlash(c, a.T(c, reason(err, "")))
			c.Redirect(http.StatusSeeOther, list)
			return
		}
	default:
		a.fail(c, http.StatusBadRequest, "bad_request", "Choose up, down or promote.")
		return
	}
	if err != nil {
		a.registrationError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, list)
}

// staffFlags are what a conference's staff page warns about.
func (a *App) staffFlags(c *gin.Context, conf models.Conference) (gin.H, error) {
	late, err := a.Store.PendingPastApprovalDeadline(c.Request.Context(), conf, a.Now())
	if err != nil {
		return nil, err
	}
	return gin.H{"LatePending": late}, nil
}
