package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	"convene/models"
	"convene/pdf"

	"github.com/gin-gonic/gin"
)

// BadgeForm is the badge printing form as typed: its filters and layout.
type BadgeForm struct {
	models.BadgeQuery
	Layout string
}

// BadgesView is the staff page for printing a conference's badges.
type BadgesView struct {
	Conf       ConferenceView
	Categories []models.Category
	Locals     []models.Local
	Count      models.BadgeCount
	Counted    bool // the filters were good and Count holds what they match
	Nothing    bool // a print was asked for and nothing matched
}

// bandColors are the category bands' colours (the pdf package's palette, in
// order), given out by the category's place in the conference so that no two
// of its first twelve categories share one.
var bandColors = []string{"#1F6FB2", "#2E8B57", "#D97606", "#7B3FA0", "#C0392B", "#138D90",
	"#B0306A", "#8D5524", "#E8B920", "#5D6D7E", "#557A1F", "#2C3E80"}

func badgeForm(c *gin.Context) BadgeForm {
	return BadgeForm{Layout: c.Query("layout"), BadgeQuery: models.BadgeQuery{Local: c.Query("local"),
		Category: c.Query("category"), Status: c.Query("status"), Unprinted: c.Query("unprinted"), CheckedIn: c.Query("checked_in")}}
}

// parseBadges checks the form: problems, field by field, come back as a map;
// err is for failures that are not the person's.
func (a *App) parseBadges(c *gin.Context, conf models.Conference, form BadgeForm) (pdf.Layout, models.BadgeFilter, map[string]string, error) {
	ctx := c.Request.Context()
	problems := map[string]string{}
	f, err := a.Store.BadgeFilter(ctx, conf, form.BadgeQuery)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		problems = ve.Fields
	} else if err != nil {
		return "", f, nil, err
	}
	layout, err := pdf.ParseLayout(form.Layout)
	if err != nil {
		problems["layout"] = "Choose a badge layout: single, avery5392 or a6."
	}
	return layout, f, problems, nil
}

// badgesPage shows the badge printing form and how many badges its filters match.
func (a *App) badgesPage(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	form := badgeForm(c)
	if form.Layout == "" {
		form.Layout = string(pdf.LayoutAvery5392)
	}
	_, f, problems, err := a.parseBadges(c, conf, form)
	if err != nil {
		a.serverError(c, err)
		return
	}
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
	}
	a.renderBadges(c, conf, form, f, problems, status)
}

// renderBadges renders the badge page; with no problems it counts what f matches.
func (a *App) renderBadges(c *gin.Context, conf models.Conference, form BadgeForm, f models.BadgeFilter, problems map[string]string, status int) {
	ctx := c.Request.Context()
	v := BadgesView{Conf: a.view(c, conf, lang(c)), Nothing: status == http.StatusUnprocessableEntity}
	var err error
	if v.Categories, err = a.Store.Categories(ctx, conf.ID); err != nil {
		a.serverError(c, err)
		return
	}
	if v.Locals, err = a.Store.BadgeLocals(ctx, conf.ID); err != nil {
		a.serverError(c, err)
		return
	}
	if len(problems) == 0 {
		if v.Count, err = a.Store.CountBadges(ctx, conf.ID, f); err != nil {
			a.serverError(c, err)
			return
		}
		v.Counted = true
	}
	p := a.newPage(c, a.T(c, "Print badges"))
	p.Form, p.Data, p.Errors = form, v, problems
	a.render(c, status, "badges", p)
}

// badgesPDF prints a batch of badges as one PDF and marks them printed.
func (a *App) badgesPDF(c *gin.Context) {
	ctx := c.Request.Context()
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	form := badgeForm(c)
	layout, f, problems, err := a.parseBadges(c, conf, form)
	if err != nil {
		a.serverError(c, err)
		return
	}
	if len(problems) > 0 {
		a.renderBadges(c, conf, form, f, problems, http.StatusBadRequest)
		return
	}
	colors, err := a.categoryBadges(ctx, conf)
	if err != nil {
		a.serverError(c, err)
		return
	}
	var buf bytes.Buffer
	details := form.Details()
	details["layout"] = string(layout)
	_, err = a.Store.PrintBadges(ctx, conf, f, models.Actor{User: *currentUser(c)}, details, func(rs []models.Registration) error {
		badges := make([]pdf.Badge, len(rs))
		for i, r := range rs {
			badges[i] = a.badge(conf, colors, r)
		}
		return pdf.WriteBadges(&buf, layout, badges)
	})
	if errors.Is(err, models.ErrNoBadges) {
		a.renderBadges(c, conf, form, f, nil, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	sendPDF(c, buf.Bytes(), "attachment", "badges-"+conf.Slug+"-"+string(layout)+".pdf")
}

// badgePDF prints one registration's badge, by default for a badge printer.
func (a *App) badgePDF(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return
	}
	layout := pdf.LayoutSingle
	if q := c.Query("layout"); q != "" {
		var err error
		if layout, err = pdf.ParseLayout(q); err != nil {
			a.fail(c, http.StatusBadRequest, "bad_request", "Choose a badge layout: single, avery5392 or a6.")
			return
		}
	}
	r, err := a.Store.Registration(ctx, id)
	if err != nil {
		a.modelError(c, err)
		return
	}
	conf, err := a.Store.ConferenceBySlug(ctx, r.ConferenceSlug, true)
	if err != nil {
		a.serverError(c, err)
		return
	}
	colors, err := a.categoryBadges(ctx, conf)
	if err != nil {
		a.serverError(c, err)
		return
	}
	var buf bytes.Buffer
	err = a.Store.PrintBadge(ctx, id, models.Actor{User: *currentUser(c)}, map[string]any{"layout": string(layout)}, func(r models.Registration) error {
		return pdf.WriteBadges(&buf, layout, []pdf.Badge{a.badge(conf, colors, r)})
	})
	if errors.Is(err, models.ErrConflict) {
		a.fail(c, http.StatusConflict, "conflict", "This registration is cancelled or denied, so it gets no badge.")
		return
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	sendPDF(c, buf.Bytes(), "inline", "badge-"+strconv.FormatInt(id, 10)+".pdf")
}

// badgeCategory is how a category appears on badges.
type badgeCategory struct{ name, color string }

// categoryBadges gives each of the conference's categories its badge name,
// in the conference's language, and its band colour.
func (a *App) categoryBadges(ctx context.Context, conf models.Conference) (map[int64]badgeCategory, error) {
	cats, err := a.Store.Categories(ctx, conf.ID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]badgeCategory, len(cats))
	for i, k := range cats {
		name := k.Name
		if conf.Languages == "es" && k.NameES != "" {
			name = k.NameES
		}
		out[k.ID] = badgeCategory{name: name, color: bandColors[i%len(bandColors)]}
	}
	return out, nil
}

// badge is what a registration's badge says.
func (a *App) badge(conf models.Conference, cats map[int64]badgeCategory, r models.Registration) pdf.Badge {
	title := conf.Title
	if conf.Languages == "es" && conf.TitleES != "" {
		title = conf.TitleES
	}
	cat := cats[r.CategoryID]
	b := pdf.Badge{FirstName: r.FirstName, FullName: r.FullName(), Category: cat.name, CategoryColor: cat.color,
		Conference: title, QRText: a.TicketURL(r)}
	if r.LocalNumber != nil {
		b.Local = "Local " + *r.LocalNumber
		if r.LocalName != nil && *r.LocalName != "" {
			b.Local += " · " + *r.LocalName
		}
	}
	return b
}
