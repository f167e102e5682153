package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"convene/models"
	"convene/models/rostercsv"

	"github.com/gin-gonic/gin"
)

func localJSON(l models.Local) gin.H {
	return gin.H{"number": l.Number, "name": l.Name, "union": l.Union, "region": l.Region, "city": l.City}
}

// apiLocals lists locals for the local picker: ?q= searches number and
// name, ?limit= (1 to 100, default 20).
func (a *App) apiLocals(c *gin.Context) {
	limit := 20
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			apiError(c, http.StatusBadRequest, "bad_request", "limit must be a whole number from 1 to 100.")
			return
		}
		limit = n
	}
	ls, err := a.Store.SearchLocals(c.Request.Context(), c.Query("q"), limit)
	if err != nil {
		a.serverError(c, err)
		return
	}
	out := make([]gin.H, len(ls))
	for i, l := range ls {
		out[i] = localJSON(l)
	}
	c.JSON(http.StatusOK, gin.H{"locals": out})
}

func (a *App) apiCreateLocal(c *gin.Context) {
	var in models.LocalInput
	known := map[string]*string{"number": &in.Number, "name": &in.Name, "union": &in.Union, "region": &in.Region, "city": &in.City}
	raw, ok := patchFields(c, known)
	if !ok {
		return
	}
	if f := unknownField(raw, known); f != "" {
		apiError(c, http.StatusBadRequest, "bad_request", "Unknown field \""+f+"\".")
		return
	}
	l, err := a.Store.CreateLocalBy(c.Request.Context(), currentUser(c).ID, in)
	var ve *models.ValidationError
	if errors.Is(err, models.ErrDuplicate) && errors.As(err, &ve) {
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": gin.H{"code": "duplicate", "message": ve.Error(), "fields": ve.Fields}})
		return
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	c.JSON(http.StatusCreated, localJSON(l))
}

// apiLocal loads the local in the URL, answering 404 with its number.
func (a *App) apiLocal(c *gin.Context) (models.Local, bool) {
	l, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if errors.Is(err, models.ErrNotFound) {
		apiError(c, http.StatusNotFound, "not_found", fmt.Sprintf("No local has the number %q.", c.Param("number")))
		return l, false
	}
	if err != nil {
		a.serverError(c, err)
		return l, false
	}
	return l, true
}

const noAccountMessage = "No account uses this email address. Ask the officer to create an account first, then add them."

func (a *App) apiAddOfficer(c *gin.Context) {
	var in struct {
		Email string `json:"email"`
	}
	if !bindJSON(c, &in) {
		return
	}
	l, ok := a.apiLocal(c)
	if !ok {
		return
	}
	u, added, err := a.Store.AppointOfficer(c.Request.Context(), currentUser(c).ID, l.ID, in.Email)
	if errors.Is(err, models.ErrNoAccount) {
		apiError(c, http.StatusNotFound, "not_found", noAccountMessage)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	c.JSON(status, gin.H{"local": l.Number, "email": u.Email, "name": u.Name, "added": added})
}

func (a *App) apiRemoveOfficer(c *gin.Context) {
	l, ok := a.apiLocal(c)
	if !ok {
		return
	}
	u, err := a.Store.UserByEmail(c.Request.Context(), c.Param("email"))
	if err == nil {
		err = a.Store.RemoveOfficer(c.Request.Context(), currentUser(c).ID, l.ID, u.ID)
	}
	if errors.Is(err, models.ErrNotFound) {
		apiError(c, http.StatusNotFound, "not_found", "This person is not an officer of this local.")
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// apiPutRoster imports a local's roster from a text/csv body; ?dry_run=true
// says what it would do without saving.
func (a *App) apiPutRoster(c *gin.Context) {
	l, ok := a.rosterLocal(c)
	if !ok {
		return
	}
	if mt, _, _ := mime.ParseMediaType(c.ContentType()); mt != "text/csv" {
		apiError(c, http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Send the roster file itself as the request body, with Content-Type: text/csv.")
		return
	}
	dryRun := false
	if s := c.Query("dry_run"); s != "" {
		var err error
		if dryRun, err = strconv.ParseBool(s); err != nil {
			apiError(c, http.StatusBadRequest, "bad_request", "dry_run must be true or false.")
			return
		}
	}
	content, err := io.ReadAll(c.Request.Body)
	var p models.RosterPreview
	var n models.RosterCounts
	if err == nil && dryRun {
		p, err = a.Store.PreviewRoster(c.Request.Context(), l.ID, content)
		n = models.RosterCounts{Added: len(p.Add), Updated: len(p.Update), Unchanged: p.Unchanged, Lapsed: len(p.Lapse)}
	} else if err == nil {
		n, p, err = a.Store.ApplyRoster(c.Request.Context(), l.ID, officerActor(c).User.ID, content)
	}
	if err != nil {
		status, code, msg, ok := rosterProblem(err)
		if !ok {
			a.serverError(c, err)
			return
		}
		if he := (*rostercsv.HeaderError)(nil); errors.As(err, &he) {
			c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": msg, "missing": he.Missing}})
			return
		}
		apiError(c, status, code, msg)
		return
	}
	rowErrors := make([]gin.H, len(p.Errors))
	for i, e := range p.Errors {
		rowErrors[i] = gin.H{"line": e.Line, "reason": e.Reason}
	}
	c.JSON(http.StatusOK, gin.H{"local": l.Number, "dry_run": dryRun, "added": n.Added, "updated": n.Updated,
		"unchanged": n.Unchanged, "lapsed": n.Lapsed, "errors": rowErrors})
}
