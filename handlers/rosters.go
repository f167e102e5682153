package handlers

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"convene/models"
	"convene/models/rostercsv"

	"github.com/gin-gonic/gin"
)

// Officer pages: the locals an officer serves and their rosters. Staff may
// manage every local's roster.

const ctxOfficerActor = "officer_actor"

// rosterUploadCap caps a roster upload's request body: the parser's limit
// plus room for a multipart envelope, so that a file just over 5 MB is
// refused with the parser's own message.
const rosterUploadCap = rostercsv.MaxBytes + 64<<10

// How many roster lines a page lists before asking for a search.
const (
	rosterPageRows    = 200
	rosterPreviewRows = 1000
)

// requireOfficer lets through officers of any local and staff, with their
// Actor loaded for officerActor; everyone else gets 403.
func (a *App) requireOfficer(c *gin.Context) {
	u := currentUser(c)
	if u == nil {
		a.requireUser(c)
		return
	}
	act, err := a.Store.ActorFor(c.Request.Context(), *u)
	if err != nil {
		a.serverError(c, err)
		c.Abort()
		return
	}
	if !act.IsStaff() && !act.IsOfficer() {
		a.forbidden(c)
		return
	}
	c.Set(ctxOfficerActor, act)
	c.Next()
}

func officerActor(c *gin.Context) models.Actor {
	act, _ := c.MustGet(ctxOfficerActor).(models.Actor)
	return act
}

// rosterLocal loads the local in the URL if the actor may manage its
// roster: its officers and staff.
func (a *App) rosterLocal(c *gin.Context) (models.Local, bool) {
	l, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if errors.Is(err, models.ErrNotFound) {
		a.fail(c, http.StatusNotFound, "not_found", "We do not know this local. Check its number.")
		return l, false
	}
	if err != nil {
		a.serverError(c, err)
		return l, false
	}
	if act := officerActor(c); !act.IsStaff() && !act.OfficerOfLocal(&l.ID) {
		a.fail(c, http.StatusForbidden, "forbidden", "You can only manage the roster of your own local.")
		return l, false
	}
	return l, true
}

func rosterURL(l models.Local) string {
	return "/officer/locals/" + url.PathEscape(l.Number) + "/roster"
}

func (a *App) officerHome(c *gin.Context) {
	act := officerActor(c)
	data := gin.H{"Mine": act.OfficerOf, "Staff": act.IsStaff(), "Q": c.Query("q")}
	if act.IsStaff() {
		all, err := a.Store.SearchLocals(c.Request.Context(), c.Query("q"), 200)
		if err != nil {
			a.serverError(c, err)
			return
		}
		data["All"] = all
	}
	p := a.newPage(c, a.T(c, "Your locals"))
	p.Data = data
	a.render(c, http.StatusOK, "officer_home", p)
}

// rosterView is the roster page: the members, a search, and the upload form
// with what was wrong with the last file, if anything.
type rosterView struct {
	Local    models.Local
	Stats    models.RosterStats
	Entries  []models.RosterEntry
	Q        string
	Standing string
	More     bool // more members match than are listed
	Problem  string
	// Zone shows instants: a local has no time zone of its own.
	Zone *time.Location
}

func (a *App) rosterView(c *gin.Context, l models.Local) (rosterView, error) {
	v := rosterView{Local: l, Q: strings.TrimSpace(c.Query("q")), Standing: c.Query("standing"), Zone: time.UTC}
	if v.Standing != rostercsv.StandingGood && v.Standing != rostercsv.StandingLapsed {
		v.Standing = ""
	}
	var err error
	if v.Stats, err = a.Store.RosterStatsFor(c.Request.Context(), l.ID); err != nil {
		return v, err
	}
	if v.Entries, err = a.Store.SearchRoster(c.Request.Context(), l.ID, v.Q, v.Standing, rosterPageRows+1); err != nil {
		return v, err
	}
	if len(v.Entries) > rosterPageRows {
		v.Entries, v.More = v.Entries[:rosterPageRows], true
	}
	return v, nil
}

func (a *App) rosterPage(c *gin.Context) {
	l, ok := a.rosterLocal(c)
	if !ok {
		return
	}
	v, err := a.rosterView(c, l)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Roster of Local %s", l.Number))
	p.Data = v
	a.render(c, http.StatusOK, "roster", p)
}

// uploadRoster reads an uploaded roster, keeps it and shows what it would
// change; nothing changes on the roster until the preview is applied.
func (a *App) uploadRoster(c *gin.Context) {
	l, ok := a.rosterLocal(c)
	if !ok {
		return
	}
	content, filename, err := readRosterUpload(c.Request)
	if err == nil {
		_, err = a.Store.PreviewRoster(c.Request.Context(), l.ID, content)
	}
	if err != nil {
		a.rosterFileRefused(c, l, err)
		return
	}
	id, err := a.Store.SaveRosterUpload(c.Request.Context(), l.ID, officerActor(c).User.ID, filename, content)
	if err != nil {
		a.serverError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, rosterURL(l)+"/uploads/"+strconv.FormatInt(id, 10))
}

// errNoRosterFile means the form came without a file.
var errNoRosterFile = errors.New("choose the roster file to upload")

// readRosterUpload reads the multipart field "roster" without holding more
// than the parser accepts, and returns its content and file name.
func readRosterUpload(r *http.Request) ([]byte, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", errNoRosterFile
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", errNoRosterFile
		}
		if err != nil {
			return nil, "", err
		}
		if part.FormName() != "roster" {
			continue
		}
		return readRosterPart(part)
	}
}

func readRosterPart(part *multipart.Part) ([]byte, string, error) {
	b, err := io.ReadAll(io.LimitReader(part, rostercsv.MaxBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(b) > rostercsv.MaxBytes {
		return nil, "", rostercsv.ErrTooLarge
	}
	name := part.FileName()
	if name == "" {
		return nil, "", errNoRosterFile
	}
	// Browsers on Windows may send the whole path.
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return b, name, nil
}

// rosterProblem says how to answer a roster file that cannot be read: the
// status, the API's error code and a message in English (the parser's own,
// as a sentence). ok is false for an error that is not about the file.
func rosterProblem(err error) (status int, code, msg string, ok bool) {
	var mbe *http.MaxBytesError
	var he *rostercsv.HeaderError
	switch {
	case errors.As(err, &mbe), errors.Is(err, rostercsv.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", sentence(rostercsv.ErrTooLarge.Error()), true
	case errors.Is(err, rostercsv.ErrTooManyRows):
		return http.StatusUnprocessableEntity, "too_many_rows", sentence(err.Error()), true
	case errors.Is(err, rostercsv.ErrNotCSV):
		return http.StatusUnprocessableEntity, "not_csv", sentence(err.Error()), true
	case errors.As(err, &he):
		return http.StatusUnprocessableEntity, "missing_columns", sentence(he.Error()), true
	case errors.Is(err, errNoRosterFile):
		return http.StatusUnprocessableEntity, "no_file", sentence(err.Error()), true
	case errors.Is(err, multipart.ErrMessageTooLarge), errors.Is(err, io.ErrUnexpectedEOF):
		return http.StatusBadRequest, "bad_request", "The upload did not arrive whole. Try again.", true
	}
	return 0, "", "", false
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// rosterFileMessage is what an officer reads about a file that cannot be
// read, in the page's language. The parser's specific messages are in the
// catalog where they are fixed sentences; the others fall back to a
// translated general message.
func (a *App) rosterFileMessage(c *gin.Context, err error, code, msg string) string {
	if lang(c) == "en" {
		return msg
	}
	if tr := a.Pages.catalogs[lang(c)][msg]; tr != "" {
		return tr
	}
	var he *rostercsv.HeaderError
	switch {
	case code == "not_csv":
		return a.T(c, sentence(rostercsv.ErrNotCSV.Error()))
	case errors.As(err, &he) && he.Line == 0:
		return a.T(c, "The file is empty. Its first line must name the columns: member number, first name and last name.")
	case errors.As(err, &he):
		missing := make([]string, len(he.Missing))
		for i, m := range he.Missing {
			missing[i] = a.T(c, m)
		}
		return a.T(c, "Line %d of the file must name the columns member number, first name and last name; missing: %s.", he.Line, strings.Join(missing, ", "))
	}
	return a.T(c, msg)
}

// rosterFileRefused shows the roster page again with what is wrong with the
// file; the roster is unchanged.
func (a *App) rosterFileRefused(c *gin.Context, l models.Local, err error) {
	status, code, msg, ok := rosterProblem(err)
	if !ok {
		a.serverError(c, err)
		return
	}
	v, verr := a.rosterView(c, l)
	if verr != nil {
		a.serverError(c, verr)
		return
	}
	v.Problem = a.rosterFileMessage(c, err, code, msg)
	p := a.newPage(c, a.T(c, "Roster of Local %s", l.Number))
	p.Data = v
	a.render(c, status, "roster", p)
}

// rosterChange is one member whose line in the file differs from the roster.
type rosterChange struct {
	Now  models.RosterEntry
	File rostercsv.Row
}

// rosterPreviewView is what applying a kept upload would do.
type rosterPreviewView struct {
	Local                          models.Local
	Upload                         models.RosterUpload
	Stats                          models.RosterStats
	Preview                        models.RosterPreview
	Add                            []rostercsv.Row
	Update                         []rosterChange
	Lapse                          []models.RosterEntry
	MoreAdd, MoreUpdate, MoreLapse int
	// LapseEveryone warns that no member in good standing would stay so.
	LapseEveryone bool
}

func (a *App) rosterUploadFor(c *gin.Context, l models.Local) (models.RosterUpload, bool) {
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return models.RosterUpload{}, false
	}
	u, err := a.Store.RosterUploadByID(c.Request.Context(), l.ID, id)
	if err != nil {
		a.modelError(c, err)
		return u, false
	}
	return u, true
}

// rosterUploadGone sends the officer back to the roster with why an upload
// can no longer be applied.
func (a *App) rosterUploadGone(c *gin.Context, l models.Local, err error) {
	if errors.Is(err, models.ErrUploadApplied) {
		id, _ := pathID(c)
		// A double click lands here: say what the first click did.
		if n, err := a.Store.AppliedUploadCounts(c.Request.Context(), l.ID, id); err == nil {
			setFlash(c, a.T(c, "This roster file has been applied already (added: %d, updated: %d, marked lapsed: %d, unchanged: %d, lines skipped: %d); nothing more was changed.",
				n.Added, n.Updated, n.Lapsed, n.Unchanged, n.Errors))
		} else {
			setFlash(c, a.T(c, "This roster file has been applied already; nothing more was changed."))
		}
	} else {
		setFlash(c, a.T(c, "This upload is more than a day old. Upload the file again to see what it would change."))
	}
	c.Redirect(http.StatusSeeOther, rosterURL(l))
}

func (a *App) rosterUploadPage(c *gin.Context) {
	l, ok := a.rosterLocal(c)
	if !ok {
		return
	}
	u, ok := a.rosterUploadFor(c, l)
	if !ok {
		return
	}
	if err := u.Usable(); err != nil {
		a.rosterUploadGone(c, l, err)
		return
	}
	pv, err := a.Store.PreviewRoster(c.Request.Context(), l.ID, u.Content)
	if err != nil {
		a.rosterFileRefused(c, l, err)
		return
	}
	stats, err := a.Store.RosterStatsFor(c.Request.Context(), l.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	u.Content = nil
	v := rosterPreviewView{Local: l, Upload: u, Stats: stats, Preview: pv,
		LapseEveryone: stats.Good > 0 && len(pv.Lapse) == stats.Good}
	v.Add, v.MoreAdd = capRows(pv.Add)
	v.Lapse, v.MoreLapse = capRows(pv.Lapse)
	for i, r := range pv.Update {
		if i == rosterPreviewRows {
			v.MoreUpdate = len(pv.Update) - i
			break
		}
		v.Update = append(v.Update, rosterChange{Now: pv.Before[i], File: r})
	}
	p := a.newPage(c, a.T(c, "Check the roster before applying it"))
	p.Data = v
	a.render(c, http.StatusOK, "roster_preview", p)
}

// capRows keeps the first rosterPreviewRows of xs and says how many more there are.
func capRows[T any](xs []T) ([]T, int) {
	if len(xs) <= rosterPreviewRows {
		return xs, 0
	}
	return xs[:rosterPreviewRows], len(xs) - rosterPreviewRows
}

// applyRosterUpload applies a previewed upload once, in one transaction.
func (a *App) applyRosterUpload(c *gin.Context) {
	l, ok := a.rosterLocal(c)
	if !ok {
		return
	}
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return
	}
	n, _, err := a.Store.ApplyRosterUpload(c.Request.Context(), l.ID, id, officerActor(c).User.ID)
	switch {
	case errors.Is(err, models.ErrUploadApplied), errors.Is(err, models.ErrUploadExpired):
		a.rosterUploadGone(c, l, err)
		return
	case err != nil:
		if _, _, _, isFile := rosterProblem(err); isFile {
			a.rosterFileRefused(c, l, err)
			return
		}
		a.modelError(c, err)
		return
	}
	setFlash(c, a.T(c, "Roster updated. Added: %d, updated: %d, marked lapsed: %d, unchanged: %d, lines skipped: %d.",
		n.Added, n.Updated, n.Lapsed, n.Unchanged, n.Errors))
	c.Redirect(http.StatusSeeOther, rosterURL(l))
}
