package handlers

import (
	"net/http"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// approvalGroup is one conference's pending registrations in the queue.
type approvalGroup struct {
	ConferenceTitle, ConferenceSlug string
	Items                           []approvalItem
}

type approvalItem struct {
	R      models.Registration
	Roster *models.RosterEntry
	// Finding says, for the officer, what the roster check found.
	Finding     string
	FindingArgs []string
}

// rosterFinding words the roster check for the officer deciding.
func rosterFinding(r models.Registration, e *models.RosterEntry) (string, []string) {
	switch {
	case r.Approver == "staff" && r.LocalID == nil:
		return "No local given: conference staff decide.", nil
	case r.LocalID == nil || r.MemberNumber == "":
		return "No member number given.", nil
	case e == nil:
		return "Not on the roster: no line has #%s.", []string{r.MemberNumber}
	case e.Standing != "good":
		return "On the roster, but not in good standing.", nil
	case models.FoldName(e.LastName) != models.FoldName(r.LastName):
		return "The last name differs from the roster's.", nil
	case r.Verification == models.VerifyNeedsOfficer:
		return "Matches the roster; this registration type always needs your approval.", nil
	}
	return "Matches the roster.", nil
}

// approvals is the queue of registrations waiting for this officer (their
// locals only) or for staff (everything), grouped by conference.
func (a *App) approvals(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	if !act.IsStaff() && !act.IsOfficer() {
		a.forbidden(c)
		return
	}
	rs, err := a.Store.PendingForActor(c.Request.Context(), act, nil)
	if err != nil {
		a.serverError(c, err)
		return
	}
	var groups []approvalGroup
	for _, r := range rs {
		if len(groups) == 0 || groups[len(groups)-1].ConferenceSlug != r.ConferenceSlug {
			groups = append(groups, approvalGroup{ConferenceTitle: r.ConferenceIn(lang(c)), ConferenceSlug: r.ConferenceSlug})
		}
		item := approvalItem{R: r}
		if r.LocalID != nil && r.MemberNumber != "" {
			if e, err := a.Store.RosterEntry(c.Request.Context(), a.DB, *r.LocalID, r.MemberNumber); err == nil {
				item.Roster = &e
			}
		}
		item.Finding, item.FindingArgs = rosterFinding(r, item.Roster)
		g := &groups[len(groups)-1]
		g.Items = append(g.Items, item)
	}
	p := a.newPage(c, a.T(c, "Registrations waiting for approval"))
	p.Data = gin.H{"Groups": groups, "Count": len(rs), "Locals": act.OfficerOf, "Staff": act.IsStaff()}
	a.render(c, http.StatusOK, "approvals", p)
}

// bulkApprove approves every checked registration the actor may decide;
// the rest are reported, not silently skipped.
func (a *App) bulkApprove(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	if !act.IsStaff() && !act.IsOfficer() {
		a.forbidden(c)
		return
	}
	ids := parseIDs(c.PostFormArray("ids"))
	if len(ids) == 0 {
		setFlash(c, a.T(c, "Tick the registrations to approve first."))
		c.Redirect(http.StatusSeeOther, "/officer/approvals")
		return
	}
	approved, refused := 0, 0
	for _, id := range ids {
		if _, err := a.Store.Approve(c.Request.Context(), id, act); err != nil {
			refused++
			continue
		}
		approved++
	}
	msg := a.T(c, "Approved %d registrations.", approved)
	if approved == 1 {
		msg = a.T(c, "Approved 1 registration.")
	}
	if refused > 0 {
		msg += " " + a.T(c, "%d could not be approved: they changed meanwhile or are not yours to decide.", refused)
	}
	setFlash(c, msg)
	c.Redirect(http.StatusSeeOther, "/officer/approvals")
}

// delegationView lists a local's members in good standing to register at once.
type delegationView struct {
	Local      models.Local
	Conf       ConferenceView
	Conference []models.Conference
	Members    []models.RosterEntry
	Registered map[string]string // member number -> status
	Results    []delegationResult
}

type delegationResult struct {
	Name, Status, Error string
}

func (a *App) delegationLocal(c *gin.Context, act models.Actor) (models.Local, bool) {
	l, err := a.Store.LocalByNumber(c.Request.Context(), c.Param("number"))
	if err != nil {
		a.modelError(c, err)
		return l, false
	}
	if !act.IsStaff() && !act.OfficerOfLocal(&l.ID) {
		a.fail(c, http.StatusForbidden, "forbidden", "You can only register members of your own local.")
		return l, false
	}
	return l, true
}

func (a *App) delegationView(c *gin.Context, l models.Local, act models.Actor) (delegationView, bool) {
	v := delegationView{Local: l, Registered: map[string]string{}}
	confs, err := a.Store.PublicConferences(c.Request.Context())
	if err != nil {
		a.serverError(c, err)
		return v, false
	}
	for _, conf := range confs {
		if conf.RegistrationState(a.Now()) == "open" {
			v.Conference = append(v.Conference, conf)
		}
	}
	slug := c.Query("conference")
	if slug == "" {
		slug = c.PostForm("conference")
	}
	if slug == "" {
		return v, true
	}
	conf, err := a.Store.ConferenceBySlug(c.Request.Context(), slug, act.IsStaff())
	if err != nil {
		a.modelError(c, err)
		return v, false
	}
	if v.Conf, err = a.fullView(c, conf); err != nil {
		a.serverError(c, err)
		return v, false
	}
	roster, err := a.Store.Roster(c.Request.Context(), l.ID)
	if err != nil {
		a.serverError(c, err)
		return v, false
	}
	for _, e := range roster {
		if e.Standing == "good" {
			v.Members = append(v.Members, e)
		}
	}
	regs, err := a.Store.ConferenceRegistrations(c.Request.Context(), conf.ID, models.RegistrationFilter{LocalID: &l.ID}, act)
	if err != nil {
		a.serverError(c, err)
		return v, false
	}
	for _, r := range regs {
		if r.Status != models.RegCancelled {
			v.Registered[r.MemberNumber] = r.Status
		}
	}
	return v, true
}

func (a *App) delegationForm(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	l, ok := a.delegationLocal(c, act)
	if !ok {
		return
	}
	v, ok := a.delegationView(c, l, act)
	if !ok {
		return
	}
	p := a.newPage(c, a.T(c, "Register a delegation from Local %s", l.Number))
	p.Data = v
	a.render(c, http.StatusOK, "delegation", p)
}

// registerDelegation registers each ticked member of the local: each gets
// their own registration, and each outcome is shown.
func (a *App) registerDelegation(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	l, ok := a.delegationLocal(c, act)
	if !ok {
		return
	}
	v, ok := a.delegationView(c, l, act)
	if !ok {
		return
	}
	if v.Conf.ID == 0 {
		a.fail(c, http.StatusUnprocessableEntity, "invalid", "Choose a conference first.")
		return
	}
	byNumber := map[string]models.RosterEntry{}
	for _, m := range v.Members {
		byNumber[m.MemberNumber] = m
	}
	chosen := c.PostFormArray("members")
	if len(chosen) == 0 {
		p := a.newPage(c, a.T(c, "Register a delegation from Local %s", l.Number))
		p.Data, p.Errors = v, map[string]string{"members": "Tick at least one member."}
		a.render(c, http.StatusUnprocessableEntity, "delegation", p)
		return
	}
	for _, num := range chosen {
		m, found := byNumber[num]
		if !found {
			v.Results = append(v.Results, delegationResult{Name: num, Error: a.T(c, "Not a member in good standing on the roster.")})
			continue
		}
		email := c.PostForm("email_" + num)
		if email == "" {
			email = m.Email
		}
		in := models.RegistrationInput{Category: c.PostForm("category"), FirstName: m.FirstName, LastName: m.LastName,
			Email: email, Local: l.Number, MemberNumber: m.MemberNumber}
		r, err := a.Store.Register(c.Request.Context(), v.Conf.Conference, in, act, a.Now())
		res := delegationResult{Name: m.FirstName + " " + m.LastName}
		switch {
		case err == nil:
			res.Status = r.Status
		default:
			res.Error = a.T(c, registrationProblem(err))
		}
		v.Results = append(v.Results, res)
	}
	if v2, ok := a.delegationView(c, l, act); ok {
		v2.Results = v.Results
		v = v2
	}
	p := a.newPage(c, a.T(c, "Register a delegation from Local %s", l.Number))
	p.Data = v
	a.render(c, http.StatusOK, "delegation", p)
}

// registrationProblem says in one sentence why a registration was refused.
func registrationProblem(err error) string {
	if ve, ok := err.(*models.ValidationError); ok {
		for _, msg := range ve.Fields {
			return msg
		}
	}
	switch {
	case isErr(err, models.ErrDuplicate):
		return "Already registered for this conference."
	case isErr(err, models.ErrClosed):
		return "Registration is closed."
	case isErr(err, models.ErrForbidden):
		return "You can only register members of your own local."
	}
	return "Something went wrong on our side. Please try again in a minute."
}
