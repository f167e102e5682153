package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// Admin pages: locals, their officers, and who is staff.

// adminUserRows is how many accounts the admin page lists before asking for a search.
const adminUserRows = 100

// adminView is the admin home: every local with a form to add one, and the
// accounts with their staff flag.
type adminView struct {
	Locals    []models.LocalSummary
	Users     []models.User
	UserCount int
	Q         string
}

func (a *App) adminHome(c *gin.Context) {
	a.renderAdmin(c, http.StatusOK, models.LocalInput{}, nil)
}

func (a *App) renderAdmin(c *gin.Context, status int, form models.LocalInput, errs map[string]string) {
	v := adminView{Q: strings.TrimSpace(c.Query("q"))}
	var err error
	if v.Locals, err = a.Store.LocalSummaries(c); err != nil {
		a.serverError(c, err)
		return
	}
	if v.Users, err = a.Store.SearchUsers(c.Request.Context(), v.Q, adminUserRows); err != nil {
		a.serverError(c, err)
		return
	}
	if v.UserCount, err = a.Store.CountUsers(c); err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Admin: locals and accounts"))
	p.Data, p.Form, p.Errors = v, form, errs
	a.render(c, status, "admin", p)
}

func (a *App) adminCreateLocal(c *gin.Context) {
	in := models.LocalInput{Number: c.PostForm("number"), Name: c.PostForm("name"), Union: c.PostForm("union"),
		Region: c.PostForm("region"), City: c.PostForm("city")}
	l, err := a.Store.CreateLocalBy(c.Request.Context(), currentUser(c).ID, in)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		a.renderAdmin(c, http.StatusUnprocessableEntity, in, ve.Fields)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	setFlash(c, a.T(c, "Local %s added. Now add its officers.", l.Number))
	c.Redirect(http.StatusSeeOther, "/admin/locals/"+url.PathEscape(l.Number))
}

// adminSetStaff turns a user's staff flag on or off; admins stay staff.
func (a *App) adminSetStaff(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return
	}
	u, err := a.Store.UserByID(c.Request.Context(), id)
	if err != nil {
		a.modelError(c, err)
		return
	}
	back := "/admin"
	if q := c.PostForm("q"); q != "" {
		back += "?q=" + url.QueryEscape(q)
	}
	if u.IsAdmin {
		setFlash(c, a.T(c, "Admins are always staff."))
		c.Redirect(http.StatusSeeOther, back+"#accounts")
		return
	}
	staff := c.PostForm("staff") == "1"
	if err := a.Store.SetRoles(c.Request.Context(), u.ID, staff, false); err != nil {
		a.serverError(c, err)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "roles_changed", "user", u.ID, map[string]any{"staff": staff, "admin": false})
	if staff {
		setFlash(c, a.T(c, "%s is now conference staff.", u.Name))
	} else {
		setFlash(c, a.T(c, "%s is no longer conference staff.", u.Name))
	}
	c.Redirect(http.StatusSeeOther, back+"#accounts")
}

// adminLocalView is one local with its officers.
type adminLocalView struct {
	Local    models.Local
	Where    string // union, region and city, those that are known
	Officers []models.User
	Stats    models.RosterStats
}

func (a *App) adminLocalFor(c *gin.Context) (models.Local, bool) {
	l, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if errors.Is(err, models.ErrNotFound) {
		a.fail(c, http.StatusNotFound, "not_found", "We do not know this local. Check its number.")
		return l, false
	}
	if err != nil {
		a.serverError(c, err)
		return l, false
	}
	return l, true
}

func (a *App) renderAdminLocal(c *gin.Context, status int, l models.Local, email string, errs map[string]string) {
	v := adminLocalView{Local: l}
	var where []string
	for _, s := range []string{l.Union, l.Region, l.City} {
		if s != "" {
			where = append(where, s)
		}
	}
	v.Where = strings.Join(where, " · ")
	var err error
	if v.Officers, err = a.Store.LocalOfficers(c.Request.Context(), l.ID); err != nil {
		a.serverError(c, err)
		return
	}
	if v.Stats, err = a.Store.RosterStatsFor(c.Request.Context(), l.ID); err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Local %s", l.Number))
	p.Data, p.Form, p.Errors = v, gin.H{"Email": email}, errs
	a.render(c, status, "admin_local", p)
}

func (a *App) adminLocal(c *gin.Context) {
	if l, ok := a.adminLocalFor(c); ok {
		a.renderAdminLocal(c, http.StatusOK, l, "", nil)
	}
}

func (a *App) adminAddOfficer(c *gin.Context) {
	l, ok := a.adminLocalFor(c)
	if !ok {
		return
	}
	email := strings.TrimSpace(c.PostForm("email"))
	if !models.ValidEmail(models.NormalizeEmail(email)) {
		ve := &models.ValidationError{Fields: map[string]string{"email": "Enter an email address like name@example.org."}}
		a.renderAdminLocal(c, http.StatusUnprocessableEntity, l, email, ve.Fields)
		return
	}
	u, added, err := a.Store.AppointOfficer(c.Request.Context(), currentUser(c).ID, l.ID, email)
	if errors.Is(err, models.ErrNoAccount) {
		ve := &models.ValidationError{Fields: map[string]string{"email": "No account uses this email address. Ask the officer to create an account first, then add them here."}}
		a.renderAdminLocal(c, http.StatusUnprocessableEntity, l, email, ve.Fields)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	if added {
		setFlash(c, a.T(c, "%s is now an officer of Local %s.", u.Name, l.Number))
	} else {
		setFlash(c, a.T(c, "%s is already an officer of Local %s.", u.Name, l.Number))
	}
	c.Redirect(http.StatusSeeOther, "/admin/locals/"+url.PathEscape(l.Number))
}

func (a *App) adminRemoveOfficer(c *gin.Context) {
	l, ok := a.adminLocalFor(c)
	if !ok {
		return
	}
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return
	}
	u, err := a.Store.UserByID(c.Request.Context(), id)
	if err == nil {
		err = a.Store.RemoveOfficer(c.Request.Context(), currentUser(c).ID, l.ID, u.ID)
	}
	if errors.Is(err, models.ErrNotFound) {
		a.fail(c, http.StatusNotFound, "not_found", "This person is not an officer of this local.")
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	setFlash(c, a.T(c, "%s is no longer an officer of Local %s.", u.Name, l.Number))
	c.Redirect(http.StatusSeeOther, "/admin/locals/"+url.PathEscape(l.Number))
}
