package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"convene/models"
	"convene/pdf"

	"github.com/gin-gonic/gin"
)

// conferenceAgendaPDF prints a conference's whole program, by day.
func (a *App) conferenceAgendaPDF(c *gin.Context) {
	ctx := c.Request.Context()
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	sessions, err := a.Store.AgendaSessions(ctx, conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	l := agendaLang(conf, lang(c))
	where := conf.Venue
	if conf.City != "" {
		where = strings.TrimPrefix(where+", "+conf.City, ", ")
	}
	subtitle := a.tIn(l, "Full program")
	if conf.Mode != "virtual" && where != "" {
		subtitle += " · " + where
	}
	a.writeAgenda(c, a.agenda(conf, l, subtitle, sessions), "agenda-"+conf.Slug+".pdf")
}

// registrationAgendaPDF prints one registration's agenda: what everyone
// attends and the workshops it signed up for.
func (a *App) registrationAgendaPDF(c *gin.Context) {
	ctx := c.Request.Context()
	act, ok := a.actor(c)
	if !ok {
		return
	}
	r, ok := a.registrationFor(c, act)
	if !ok {
		return
	}
	if !models.Active(r.Status) {
		a.fail(c, http.StatusConflict, "conflict", "This registration is cancelled or denied, so it has no agenda.")
		return
	}
	conf, err := a.Store.ConferenceBySlug(ctx, r.ConferenceSlug, true)
	if err != nil {
		a.serverError(c, err)
		return
	}
	sessions, err := a.Store.PersonalAgenda(ctx, r)
	if err != nil {
		a.serverError(c, err)
		return
	}
	l := agendaLang(conf, lang(c))
	ag := a.agenda(conf, l, a.tIn(l, "Personal agenda for %s", r.FullName()), sessions)
	a.writeAgenda(c, ag, "agenda-"+conf.Slug+"-"+strconv.FormatInt(r.ID, 10)+".pdf")
}

// agendaLang is the language an agenda is printed in: Spanish for a reader
// of Spanish or a conference held only in Spanish, else English.
func agendaLang(conf models.Conference, pageLang string) string {
	if pageLang == "es" || conf.Languages == "es" {
		return "es"
	}
	return "en"
}

// agenda maps a conference's sessions into a printable agenda in lang. A
// conference held in both languages shows both titles, lang's first.
func (a *App) agenda(conf models.Conference, lang, subtitle string, sessions []models.AgendaSession) pdf.Agenda {
	bilingual := strings.Contains(conf.Languages, "en") && strings.Contains(conf.Languages, "es")
	first, second := conf.Title, conf.TitleES
	if lang == "es" {
		first, second = second, first
	}
	if first == "" {
		first, second = second, ""
	}
	ag := pdf.Agenda{ConferenceTitle: first, Subtitle: subtitle, Location: conf.Location(), Lang: lang}
	if bilingual && second != first {
		ag.SecondTitle = second
	}
	for _, s := range sessions {
		t1, t2 := s.Title, s.TitleES
		if lang == "es" {
			t1, t2 = t2, t1
		}
		title := t1
		switch {
		case t1 == "":
			title = t2
		case bilingual && t2 != "" && t2 != t1:
			title = t1 + " / " + t2
		}
		ag.Items = append(ag.Items, pdf.AgendaItem{StartsAt: s.StartsAt, EndsAt: s.EndsAt, Title: title,
			Kind: a.tIn(lang, s.Kind), Room: s.Room, Speakers: s.Speakers})
	}
	return ag
}

func (a *App) writeAgenda(c *gin.Context, ag pdf.Agenda, filename string) {
	var buf bytes.Buffer
	if err := pdf.WriteAgenda(&buf, ag); err != nil {
		a.serverError(c, err)
		return
	}
	sendPDF(c, buf.Bytes(), "inline", filename)
}

// tIn translates msg into lang, which need not be the page's language.
func (a *App) tIn(lang, msg string, args ...any) string {
	p := Page{cat: a.Pages.catalogs[lang]}
	return p.T(msg, args...)
}

// sendPDF answers with a finished PDF document.
func sendPDF(c *gin.Context, doc []byte, disposition, filename string) {
	c.Header("Content-Disposition", disposition+`; filename="`+filename+`"`)
	c.Data(http.StatusOK, "application/pdf", doc)
}
