package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo
)

func losAngeles(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sampleAgenda is a three-day programme, given in UTC instants: the evening
// sessions fall on the next day in UTC but belong to the day before in
// Los Angeles, where the conference is.
func sampleAgenda(t *testing.T, lang string, personal bool) Agenda {
	t.Helper()
	at := func(day, hour, minute int) time.Time {
		return time.Date(2026, 12, day, hour, minute, 0, 0, losAngeles(t)).UTC()
	}
	var items []AgendaItem
	add := func(day, h, m, h2, m2 int, title, kind, room, speakers string) {
		items = append(items, AgendaItem{StartsAt: at(day, h, m), EndsAt: at(day, h2, m2), Title: title, Kind: kind, Room: room, Speakers: speakers})
	}
	for _, d := range []int{4, 5, 6} {
		add(d, 8, 0, 9, 0, "Registration and breakfast", "break", "Lobby", "")
		add(d, 9, 0, 10, 30, "Opening plenary: organizing in the age of gig work", "plenary", "Ballroom A", "Ana Cortés, Þórdís Guðmundsdóttir")
		add(d, 10, 45, 12, 0, "Bargaining for health and safety: what worked in 2025", "workshop", "Room 204", "Jürgen Müller")
		add(d, 10, 45, 12, 0, "Taller: derechos de trabajadores inmigrantes", "workshop", "Sala 3", "María del Carmen Ñúñez, José Luis Chávez-Nava")
		add(d, 12, 0, 13, 30, "Lunch", "break", "Terrace", "")
		add(d, 13, 30, 15, 0, "Stewards' training, part 1: grievances, Weingarten rights, and the duty of fair representation", "workshop", "Room 205", "Siobhán O'Brien")
		add(d, 13, 30, 15, 0, "Pension funds 101", "workshop", "Room 206", "Łukasz Wójcik-Żelazny")
		add(d, 15, 15, 16, 45, "Caucus meetings", "caucus", "Various", "")
		add(d, 17, 0, 18, 0, "Resolutions committee", "committee", "Room 101", "Nguyễn Thị Minh Khai")
		add(d, 19, 0, 22, 0, "Solidarity reception", "social", "Rooftop", "")
	}
	a := Agenda{
		ConferenceTitle: "Binational Workers' Convention 2026",
		SecondTitle:     "Convención Binacional de Trabajadores 2026",
		Location:        losAngeles(t),
		Lang:            lang,
		Items:           items,
	}
	if lang == "es" {
		a.ConferenceTitle, a.SecondTitle = a.SecondTitle, a.ConferenceTitle
	}
	if personal {
		a.Items = []AgendaItem{items[1], items[3], items[15], items[19], items[28]}
		a.Subtitle = "Personal agenda for Ana Cortés"
		if lang == "es" {
			a.Subtitle = "Agenda personal de Ana Cortés"
		}
	}
	return a
}

// agendaPages writes a and returns the PDF's path and its text, page by page,
// as laid out (a table row's first lines share a line) with whitespace
// normalised.
func agendaPages(t *testing.T, a Agenda) (string, []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAgenda(&buf, a); err != nil {
		t.Fatalf("WriteAgenda: %v", err)
	}
	path := writePDF(t, buf.Bytes())
	pages := strings.Split(run(t, "pdftotext", "-layout", path, "-"), "\f")
	pages = pages[:len(pages)-1] // pdftotext ends every page with a form feed
	for i := range pages {
		pages[i] = plain(pages[i])
	}
	return path, pages
}

func TestAgendas(t *testing.T) {
	requireTools(t, "pdftoppm", "pdftotext")
	type want struct {
		days                          []string
		zone, page, sample, reception string
	}
	en := want{
		days:      []string{"Friday, December 4, 2026", "Saturday, December 5, 2026", "Sunday, December 6, 2026"},
		zone:      "All times PST",
		page:      "Page %d of %d",
		sample:    "9:00 AM – 10:30 AM Opening plenary: organizing in Plenary Ballroom A Ana Cortés, Þórdís the age of gig work Guðmundsdóttir",
		reception: "7:00 PM – 10:00 PM Solidarity reception Social Rooftop",
	}
	es := want{
		days:      []string{"Viernes, 4 de diciembre de 2026", "Sábado, 5 de diciembre de 2026", "Domingo, 6 de diciembre de 2026"},
		zone:      "Todos los horarios en PST",
		page:      "Página %d de %d",
		sample:    "9:00 a. m. – Opening plenary: organizing in Plenary Ballroom A Ana Cortés, Þórdís 10:30 a. m. the age of gig work Guðmundsdóttir",
		reception: "7:00 p. m. – Solidarity reception Social Rooftop 10:00 p. m.",
	}
	for _, c := range []struct {
		name     string
		lang     string
		personal bool
		want     want
		pages    int
	}{
		{"whole-en", "en", false, en, 2},
		{"whole-es", "es", false, es, 2},
		{"personal-en", "en", true, en, 1},
		{"personal-es", "es", true, es, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := sampleAgenda(t, c.lang, c.personal)
			path, pages := agendaPages(t, a)
			savePage1(t, path, "agenda-"+c.name)
			if len(pages) != c.pages {
				t.Fatalf("%d pages, want %d", len(pages), c.pages)
			}
			for i, p := range pages {
				if !strings.Contains(p, a.ConferenceTitle) {
					t.Errorf("page %d lacks the conference title %q", i+1, a.ConferenceTitle)
				}
				if n := fmt.Sprintf(c.want.page, i+1, len(pages)); !strings.Contains(p, n) {
					t.Errorf("page %d lacks %q", i+1, n)
				}
			}
			all := strings.Join(pages, " ")
			for _, s := range []string{a.SecondTitle, a.Subtitle, c.want.zone, c.want.sample} {
				if !strings.Contains(all, s) {
					t.Errorf("agenda lacks %q", s)
				}
			}
			if n := strings.Count(all, c.want.zone[:8]); n != 1 {
				t.Errorf("the time zone line appears %d times, want once", n)
			}
			// Days in order; every reception (7 PM in Los Angeles, 3 AM the
			// next day in UTC) under its own day.
			at := -1
			for i, d := range c.want.days {
				j := strings.Index(all, d)
				if j < 0 || j < at {
					t.Fatalf("day heading %q missing or out of order", d)
				}
				at = j
				end := len(all)
				if i+1 < len(c.want.days) {
					end = strings.Index(all, c.want.days[i+1])
				}
				section := all[j:end]
				wantReception := !c.personal || i == 1
				if got := strings.Contains(section, c.want.reception); got != wantReception {
					t.Errorf("%s: has the evening reception %v, want %v", d, got, wantReception)
				}
			}
			if c.personal && strings.Contains(all, "Registration and breakfast") {
				t.Error("personal agenda lists a session the member did not choose")
			}
			if !c.personal && strings.Count(all, "Pension funds 101") != 3 {
				t.Errorf("whole agenda lists %q %d times, want 3", "Pension funds 101", strings.Count(all, "Pension funds 101"))
			}
		})
	}
}

func TestAgendaWithoutLocationIsUTC(t *testing.T) {
	requireTools(t, "pdftotext")
	a := Agenda{ConferenceTitle: "Test", Items: []AgendaItem{{
		StartsAt: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC),
		EndsAt:   time.Date(2026, 12, 5, 4, 30, 0, 0, time.UTC),
		Title:    "Late", Kind: "social",
	}}}
	_, pages := agendaPages(t, a)
	for _, want := range []string{"All times UTC", "Saturday, December 5, 2026", "3:00 AM – 4:30 AM Late Social", "Page 1 of 1"} {
		if !strings.Contains(pages[0], want) {
			t.Errorf("text %q lacks %q", pages[0], want)
		}
	}
}

func TestAgendaEdgeCases(t *testing.T) {
	requireTools(t, "pdftotext")
	la := losAngeles(t)
	start := time.Date(2026, 12, 4, 21, 0, 0, 0, la)
	_, pages := agendaPages(t, Agenda{ConferenceTitle: "Vigil", Location: la, Lang: "es-MX", Items: []AgendaItem{
		{StartsAt: start, EndsAt: start.Add(4 * time.Hour), Title: "Overnight vigil"},
		{StartsAt: start.Add(time.Hour), Title: "No end time 🌙", Room: strings.Repeat("Very long room name ", 40)},
	}})
	for _, want := range []string{"9:00 p. m. – Overnight vigil sáb 1:00 a. m.", "Very long room nam…", "10:00 p. m. No end time", "Página 1 de 1"} {
		if !strings.Contains(pages[0], want) {
			t.Errorf("text %q lacks %q", pages[0], want)
		}
	}
	_, pages = agendaPages(t, Agenda{ConferenceTitle: "Empty", Lang: "en"})
	if !strings.Contains(pages[0], "No sessions scheduled yet.") || strings.Contains(pages[0], "All times") {
		t.Errorf("empty agenda text: %q", pages[0])
	}
}

func TestBadAgendaInputIsAnError(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		a    Agenda
		want string
	}{
		"language":    {Agenda{Lang: "fr"}, "en or es"},
		"ends before": {Agenda{Items: []AgendaItem{{StartsAt: now, EndsAt: now.Add(-time.Minute)}}}, "item 1 ends before it starts"},
		"no start":    {Agenda{Items: []AgendaItem{{StartsAt: now}, {Title: "x"}}}, "item 2 has no start time"},
	} {
		var buf bytes.Buffer
		err := WriteAgenda(&buf, c.a)
		if err == nil || !strings.Contains(err.Error(), c.want) || buf.Len() != 0 {
			t.Errorf("%s: error %v, %d bytes; want an error containing %q and nothing written", name, err, buf.Len(), c.want)
		}
	}
	if err := WriteAgenda(&bytes.Buffer{}, Agenda{Lang: "de"}); !errors.Is(err, ErrUnknownLang) {
		t.Errorf("unknown language: %v, want ErrUnknownLang", err)
	}
}
