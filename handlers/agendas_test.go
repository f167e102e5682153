package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"convene/models"
)

func TestConferenceAgendaPDF(t *testing.T) {
	requirePDFTools(t)
	e := newEvent(t)
	anon := e.ta.client()
	path := "/conferences/" + e.conf.Slug + "/agenda.pdf"

	// pdftotext -raw keeps the order text was drawn in, so a wrapped cell
	// reads whole instead of interleaved with its neighbours.
	r := anon.get(path)
	pdfPath := pdfFile(t, r)
	screenshot(t, pdfPath, "agenda-en")
	text := plainText(runTool(t, "pdftotext", "-raw", pdfPath, "-"))
	// A bilingual conference: English first, Spanish beside it.
	mustContain(t, text, "Binational Workers Convention 2027", "Convención Binacional de Trabajadores 2027", "Full program · Union Hall, Pico Rivera, CA",
		"Opening plenary / Plenaria de apertura", "Bargaining for the common good / Negociar por el bien común",
		"Organizing the unorganized", "Þórdís Guðmundsdóttir, Jürgen Müller", "Plenary", "Workshop", "Ballroom A", "Page 1 of", "All times P")
	for _, day := range []int{0, 1, 2} {
		d := e.conf.StartsOn.AddDate(0, 0, day)
		mustContain(t, text, d.Format("Monday, January 2, 2006"))
	}
	mustContain(t, r.Header().Get("Content-Disposition"), "inline", "agenda-binational.pdf")

	// A reader of Spanish gets it in Spanish, Spanish titles first.
	r = anon.get(path + "?lang=es")
	pdfPath = pdfFile(t, r)
	screenshot(t, pdfPath, "agenda-es")
	text = plainText(runTool(t, "pdftotext", "-raw", pdfPath, "-"))
	mustContain(t, text, "Convención Binacional de Trabajadores 2027", "Programa completo", "Plenaria de apertura / Opening plenary",
		"Plenaria", "Taller", "Página 1 de", "Todos los horarios")
	mustNotContain(t, text, "Full program", "Page 1 of")

	// A conference held only in Spanish prints in Spanish for everyone; one
	// held only in English shows one title per session.
	relang := func(langs string) string {
		t.Helper()
		in := e.conf.Input()
		in.Languages = langs
		if _, err := e.ta.Store.UpdateConference(t.Context(), e.conf.ID, in); err != nil {
			t.Fatal(err)
		}
		return plainText(runTool(t, "pdftotext", "-raw", pdfFile(t, anon.get(path+"?lang=en")), "-"))
	}
	text = relang("es")
	mustContain(t, text, "Convención Binacional de Trabajadores 2027", "Programa completo", "Plenaria de apertura")
	mustNotContain(t, text, "Opening plenary", "Binational Workers Convention")
	text = relang("en")
	mustContain(t, text, "Full program", "Opening plenary")
	mustNotContain(t, text, "Plenaria de apertura", "Convención Binacional")

	// Drafts are for staff only.
	draft := e.ta.conference("draft-one", models.StatusDraft)
	if r := anon.get("/conferences/" + draft.Slug + "/agenda.pdf"); r.Code != http.StatusNotFound {
		t.Errorf("draft agenda for anonymous: %d, want 404", r.Code)
	}
	if r := e.owner.get("/conferences/" + draft.Slug + "/agenda.pdf"); r.Code != http.StatusNotFound {
		t.Errorf("draft agenda for a member: %d, want 404", r.Code)
	}
	// An empty draft agenda still prints, saying so.
	text = plainText(runTool(t, "pdftotext", "-raw", pdfFile(t, e.staff.get("/conferences/"+draft.Slug+"/agenda.pdf")), "-"))
	mustContain(t, text, "No sessions scheduled yet.")
	if r := anon.get("/conferences/no-such-thing/agenda.pdf"); r.Code != http.StatusNotFound {
		t.Errorf("unknown conference: %d, want 404", r.Code)
	}

	// The conference page links to it.
	mustContain(t, anon.get("/conferences/"+e.conf.Slug).body, `href="/conferences/binational/agenda.pdf"`)
}

func TestPersonalAgendaPDF(t *testing.T) {
	requirePDFTools(t)
	e := newEvent(t)
	r := e.owner.get(fmt.Sprintf("/registrations/%d/agenda.pdf", e.ownerReg.ID))
	pdfPath := pdfFile(t, r)
	screenshot(t, pdfPath, "agenda-personal")
	text := plainText(runTool(t, "pdftotext", "-raw", pdfPath, "-"))
	mustContain(t, text, "Personal agenda for Rosa Delgado-Ibáñez", "Opening plenary", "Bargaining for the common good",
		"Lunch", "Political action caucus", "Health and safety on the job", "Closing plenary", "Page 1 of 1")
	if strings.Contains(text, "Organizing the unorganized") {
		t.Error("the personal agenda lists a workshop she did not sign up for")
	}
	text = plainText(runTool(t, "pdftotext", "-raw", pdfFile(t, e.owner.get(fmt.Sprintf("/registrations/%d/agenda.pdf?lang=es", e.ownerReg.ID))), "-"))
	mustContain(t, text, "Programa personal de Rosa Delgado-Ibáñez", "Negociar por el bien común")

	if r := e.staff.get(fmt.Sprintf("/registrations/%d/agenda.pdf", e.cancelled.ID)); r.Code != http.StatusConflict {
		t.Errorf("cancelled registration's agenda: %d, want 409", r.Code)
	}
	if r := e.staff.get("/registrations/99999/agenda.pdf"); r.Code != http.StatusNotFound {
		t.Errorf("unknown registration: %d, want 404", r.Code)
	}
}
