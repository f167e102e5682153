package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

	"convene/models"

	"github.com/gin-gonic/gin"
)

func conferenceFields(in *models.ConferenceInput) map[string]*string {
	return map[string]*string{
		"slug": &in.Slug, "title": &in.Title, "title_es": &in.TitleES, "description": &in.Description,
		"description_es": &in.DescriptionES, "venue": &in.Venue, "city": &in.City, "time_zone": &in.TimeZone,
		"starts_on": &in.StartsOn, "ends_on": &in.EndsOn, "mode": &in.Mode, "join_url": &in.JoinURL,
		"languages": &in.Languages, "capacity": &in.Capacity, "currency": &in.Currency,
		"registration_opens_at": &in.RegistrationOpensAt, "registration_closes_at": &in.RegistrationClosesAt,
		"approval_deadline": &in.ApprovalDeadline, "cancellation_deadline": &in.CancellationDeadline,
		"workshop_signup_closes_at": &in.WorkshopSignupClosesAt, "payment_due_days": &in.PaymentDueDays,
	}
}

// readConference overlays the JSON body onto in; status is returned apart
// because it changes through its own transition.
func readConference(c *gin.Context, in *models.ConferenceInput) (status string, ok bool) {
	known := conferenceFields(in)
	raw, ok := patchFields(c, known)
	if !ok {
		return "", false
	}
	if f := unknownField(raw, known, "status"); f != "" {
		apiError(c, http.StatusBadRequest, "bad_request", "Unknown field \""+f+"\".")
		return "", false
	}
	if s, present := raw["status"]; present {
		if err := json.Unmarshal(s, &status); err != nil {
			apiError(c, http.StatusBadRequest, "bad_request", "Field \"status\" must be a string.")
			return "", false
		}
	}
	return status, true
}

func (a *App) apiCreateConference(c *gin.Context) {
	var in models.ConferenceInput
	status, ok := readConference(c, &in)
	if !ok {
		return
	}
	conf, err := a.Store.CreateConference(c.Request.Context(), in)
	if err == nil && status != "" && status != models.StatusDraft {
		conf, err = a.Store.SetConferenceStatus(c.Request.Context(), conf.ID, status)
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "conference_created", "conference", conf.ID, map[string]any{"slug": conf.Slug})
	a.writeConference(c, http.StatusCreated, conf)
}

func (a *App) apiUpdateConference(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	in := conf.Input()
	status, ok := readConference(c, &in)
	if !ok {
		return
	}
	conf, err := a.Store.UpdateConference(c.Request.Context(), conf.ID, in)
	if err == nil && status != "" && status != conf.Status {
		conf, err = a.Store.SetConferenceStatus(c.Request.Context(), conf.ID, status)
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "conference_updated", "conference", conf.ID, map[string]any{"status": conf.Status})
	a.writeConference(c, http.StatusOK, conf)
}

// readCategory overlays the JSON body onto in. The API speaks in cents; the
// input holds decimal amounts as a form would.
func readCategory(c *gin.Context, in *models.CategoryInput) bool {
	var price, early, membership, approval string
	if in.Price != "" {
		price = centsOf(in.Price)
	}
	if in.EarlyPrice != "" {
		early = centsOf(in.EarlyPrice)
	}
	membership, approval = strconv.FormatBool(in.RequiresMembership), strconv.FormatBool(in.RequiresApproval)
	known := map[string]*string{"slug": &in.Slug, "name": &in.Name, "name_es": &in.NameES, "price_cents": &price,
		"early_price_cents": &early, "early_until": &in.EarlyUntil, "capacity": &in.Capacity, "approver": &in.Approver,
		"requires_membership": &membership, "requires_approval": &approval}
	raw, ok := patchFields(c, known)
	if !ok {
		return false
	}
	if f := unknownField(raw, known); f != "" {
		apiError(c, http.StatusBadRequest, "bad_request", "Unknown field \""+f+"\".")
		return false
	}
	for field, v := range map[string]*string{"price_cents": &price, "early_price_cents": &early} {
		if *v == "" {
			continue
		}
		n, err := strconv.ParseInt(*v, 10, 64)
		if err != nil {
			c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{"code": "invalid",
				"message": field + ": Enter a whole number of cents.", "fields": gin.H{field: "Enter a whole number of cents."}}})
			return false
		}
		*v = models.FormatMoney(n)
	}
	in.Price, in.EarlyPrice = price, early
	in.RequiresMembership, in.RequiresApproval = membership == "true", approval == "true"
	return true
}

func centsOf(decimal string) string {
	n, err := models.ParseMoney(decimal)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// categoryError renames the form's fields to the API's in validation errors.
func (a *App) categoryError(c *gin.Context, err error) {
	if ve, ok := err.(*models.ValidationError); ok {
		fields := map[string]string{}
		for k, v := range ve.Fields {
			switch k {
			case "price":
				k = "price_cents"
			case "early_price":
				k = "early_price_cents"
			}
			fields[k] = v
		}
		err = &models.ValidationError{Fields: fields}
	}
	a.modelError(c, err)
}

func (a *App) apiCreateCategory(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	in := models.CategoryInput{RequiresMembership: true}
	if !readCategory(c, &in) {
		return
	}
	cat, err := a.Store.CreateCategory(c.Request.Context(), conf, in)
	if err != nil {
		a.categoryError(c, err)
		return
	}
	c.JSON(http.StatusCreated, categoryJSON(cat))
}

func (a *App) apiUpdateCategory(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	cats, err := a.Store.Categories(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	for _, cat := range cats {
		if cat.Slug != c.Param("cat") {
			continue
		}
		in := cat.Input(conf)
		if !readCategory(c, &in) {
			return
		}
		cat, err = a.Store.UpdateCategory(c.Request.Context(), conf, cat.ID, in)
		if err != nil {
			a.categoryError(c, err)
			return
		}
		c.JSON(http.StatusOK, categoryJSON(cat))
		return
	}
	a.notFound(c)
}

func readSession(c *gin.Context, in *models.SessionInput) bool {
	known := map[string]*string{"title": &in.Title, "title_es": &in.TitleES, "kind": &in.Kind, "starts_at": &in.StartsAt,
		"ends_at": &in.EndsAt, "room": &in.Room, "speakers": &in.Speakers, "description": &in.Description, "capacity": &in.Capacity}
	raw, ok := patchFields(c, known)
	if !ok {
		return false
	}
	if f := unknownField(raw, known); f != "" {
		apiError(c, http.StatusBadRequest, "bad_request", "Unknown field \""+f+"\".")
		return false
	}
	return true
}

func (a *App) apiCreateSession(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	var in models.SessionInput
	if !readSession(c, &in) {
		return
	}
	s, err := a.Store.CreateAgendaSession(c.Request.Context(), conf, in)
	if err != nil {
		a.modelError(c, err)
		return
	}
	c.JSON(http.StatusCreated, sessionJSON(s))
}

func (a *App) apiUpdateSession(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		a.notFound(c)
		return
	}
	s, err := a.Store.AgendaSession(c.Request.Context(), conf.ID, id)
	if err != nil {
		a.modelError(c, err)
		return
	}
	in := s.Input(conf)
	if !readSession(c, &in) {
		return
	}
	if s, err = a.Store.UpdateAgendaSession(c.Request.Context(), conf, id, in); err != nil {
		a.modelError(c, err)
		return
	}
	c.JSON(http.StatusOK, sessionJSON(s))
}
