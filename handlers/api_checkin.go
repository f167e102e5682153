package handlers

import (
	"errors"
	"net/http"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// searchLimit is how many matches a desk search shows.
const searchLimit = 20

// checkinOut is a check-in result for the API: the result and the
// registration (null for an unknown code), with who checked it in.
type checkinOut struct {
	Result       string               `json:"result"`
	Registration *checkinRegistration `json:"registration"`
}

type checkinRegistration struct {
	registrationOut
	CategoryName string  `json:"category_name"`
	LocalName    *string `json:"local_name"`
	CheckedInBy  *string `json:"checked_in_by"` // null unless checked in
}

func (a *App) checkinJSON(ci models.CheckIn) checkinOut {
	out := checkinOut{Result: ci.Result}
	if r := ci.Registration; r != nil {
		out.Registration = &checkinRegistration{registrationOut: a.registrationJSON(*r),
			CategoryName: r.CategoryName, LocalName: r.LocalName}
		if r.CheckedInAt != nil {
			out.Registration.CheckedInBy = &ci.CheckedInByName
		}
	}
	return out
}

func (a *App) apiCheckIn(c *gin.Context) {
	var body struct {
		Code  string `json:"code"`
		Nonce string `json:"nonce"`
	}
	if err := decodeJSON(c, &body); err != nil {
		if a.stillSignedIn(c) {
			jsonError(c, err)
		}
		return
	}
	if body.Code == "" {
		if a.stillSignedIn(c) {
			a.fail(c, http.StatusBadRequest, "bad_request", "Send the scanned code in the code field.")
		}
		return
	}
	// The conference is looked up in the check-in's own statement: one round
	// trip per scan.
	act := models.Actor{User: *currentUser(c), Token: c.GetString(ctxRemembered)}
	if act.Token != "" {
		act.Addr = c.ClientIP()
	}
	ci, replayed, err := a.Store.CheckIn(c.Request.Context(), c.Param("slug"), body.Code, body.Nonce, act)
	switch {
	case errors.Is(err, models.ErrTokenRefused):
		a.tokenError(c, err)
		return
	case err != nil && !a.stillSignedIn(c):
		return
	case errors.Is(err, models.ErrNonceReused):
		a.fail(c, http.StatusConflict, "nonce_reused", "This nonce was already used for another code; send a new nonce with each scan.")
		return
	case err != nil:
		a.modelError(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusOK, a.checkinJSON(ci))
}

func (a *App) apiUndoCheckIn(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return
	}
	ci, err := a.Store.UndoCheckIn(c.Request.Context(), id, models.Actor{User: *currentUser(c)})
	if errors.Is(err, models.ErrConflict) {
		a.fail(c, http.StatusConflict, "not_checked_in", "This person is not checked in: someone may have undone it already.")
		return
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	c.JSON(http.StatusOK, a.checkinJSON(ci))
}

func countsJSON(rows []models.CheckinCount, key, lang string) []gin.H {
	out := make([]gin.H, 0, len(rows))
	for _, r := range rows {
		name := r.Label
		if lang == "es" && r.LabelES != "" {
			name = r.LabelES
		}
		var k any = r.Key
		if r.Key == "" {
			k = nil
		}
		out = append(out, gin.H{key: k, "name": name, "checked_in": r.CheckedIn, "expected": r.Expected})
	}
	return out
}

// apiCheckinCounts is the desk's live counts: checked in out of expected
// (confirmed), by local and by category.
func (a *App) apiCheckinCounts(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	n, err := a.Store.CheckinCounts(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"checked_in": n.CheckedIn, "expected": n.Expected,
		"by_local": countsJSON(n.ByLocal, "local", lang(c)), "by_category": countsJSON(n.ByCategory, "category", lang(c))})
}

// apiAttendees searches a conference's registrations by name, local or
// member number for the desk: each with what scanning it would do now and a
// line saying so in the reader's language.
func (a *App) apiAttendees(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	found, err := a.Store.SearchAttendees(c.Request.Context(), conf.ID, c.Query("q"), searchLimit)
	if err != nil {
		a.serverError(c, err)
		return
	}
	out := make([]gin.H, 0, len(found))
	for _, ci := range found {
		d := a.deskResult(c, ci, conf.Location())
		r := ci.Registration
		var by any
		if r.CheckedInAt != nil {
			by = ci.CheckedInByName
		}
		out = append(out, gin.H{"id": r.ID, "first_name": r.FirstName, "last_name": r.LastName, "local": r.LocalNumber,
			"local_name": r.LocalName, "member_number": r.MemberNumber, "category": r.CategorySlug, "category_name": r.CategoryName,
			"status": r.Status, "amount_due_cents": r.AmountDueCents, "checked_in_at": r.CheckedInAt, "checked_in_by": by,
			"code": d.Code, "result": ci.Result, "tone": d.Tone, "headline": d.Headline, "detail": d.Detail,
			"can_check_in": d.CanCheckIn, "can_print": d.CanPrint})
	}
	c.JSON(http.StatusOK, gin.H{"attendees": out})
}
