package pdf

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jung-kurt/gofpdf"
)

// AgendaItem is one session in an agenda.
type AgendaItem struct {
	StartsAt time.Time
	EndsAt   time.Time // zero: no end time printed
	Title    string
	Kind     string
	Room     string
	Speakers string
}

// Agenda is a conference programme, whole or one member's.
type Agenda struct {
	ConferenceTitle string
	// Subtitle goes under the title, e.g. "Personal agenda for Ana Cortés".
	Subtitle string
	// Location is the conference's time zone; nil means UTC.
	Location *time.Location
	// Lang is "en" or "es": day and month names, headers, page numbers.
	Lang  string
	Items []AgendaItem
	// SecondTitle is the conference title in the other language, optional.
	SecondTitle string
}

// ErrUnknownLang is returned for an agenda language other than en or es.
var ErrUnknownLang = errors.New("pdf: agenda language must be en or es")

// words is the text of an agenda in one language.
type words struct {
	days         [7]string  // Sunday first, as time.Weekday
	months       [12]string // January first
	date         func(w words, t time.Time) string
	clock        func(t time.Time) string
	allTimes     string // "All times %s"
	page         string // "Page %d of %d"
	continued    string
	noSessions   string
	time, title  string
	kind, room   string
	speakers     string
	abbreviation int // letters of a day name in "Sat 1:00 AM"
}

var english = words{
	days:   [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	date: func(w words, t time.Time) string {
		return fmt.Sprintf("%s, %s %d, %d", w.days[t.Weekday()], w.months[t.Month()-1], t.Day(), t.Year())
	},
	clock:      func(t time.Time) string { return t.Format("3:04 PM") },
	allTimes:   "All times %s",
	page:       "Page %d of %d",
	continued:  "continued",
	noSessions: "No sessions scheduled yet.",
	time:       "Time", title: "Session", kind: "Type", room: "Room", speakers: "Speakers",
	abbreviation: 3,
}

var spanish = words{
	days:   [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
	months: [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	date: func(w words, t time.Time) string {
		return capitalise(fmt.Sprintf("%s, %d de %s de %d", w.days[t.Weekday()], t.Day(), w.months[t.Month()-1], t.Year()))
	},
	clock: func(t time.Time) string {
		// The RAE's 12-hour style, with no-break spaces so "a. m." stays whole.
		suffix := "a.\u00a0m."
		if t.Hour() >= 12 {
			suffix = "p.\u00a0m."
		}
		return t.Format("3:04") + "\u00a0" + suffix
	},
	allTimes:   "Todos los horarios en %s",
	page:       "Página %d de %d",
	continued:  "continuación",
	noSessions: "Todavía no hay sesiones programadas.",
	time:       "Hora", title: "Sesión", kind: "Tipo", room: "Sala", speakers: "Ponentes",
	abbreviation: 3,
}

func wordsFor(lang string) (words, error) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	switch base {
	case "", "en":
		return english, nil
	case "es":
		return spanish, nil
	}
	return words{}, fmt.Errorf("%w, not %q", ErrUnknownLang, lang)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// The agenda page: US Letter, in points.
const (
	pageW, pageH = 8.5 * inch, 11 * inch
	margin       = 0.75 * inch
	bodyBottom   = pageH - margin - 18 // the footer sits below
	cellPad      = 4.0
	maxCellLines = 8
	rowFont      = 9.0
)

var (
	dayFill   = rgb{0xe6, 0xec, 0xf4}
	zebraFill = rgb{0xf5, 0xf6, 0xf8}
	ruleColor = rgb{0xc4, 0xcb, 0xd4}
)

// column widths: time, session, type, room, speakers; they fill the text width.
var columns = [5]float64{104, 166, 60, 66, 108}

// WriteAgenda writes a by-day agenda as a PDF to w. The document is built in
// memory first: if that fails, nothing is written.
func WriteAgenda(w io.Writer, a Agenda) error {
	lang, err := wordsFor(a.Lang)
	if err != nil {
		return err
	}
	if a.Location == nil {
		a.Location = time.UTC
	}
	items := slices.Clone(a.Items)
	for i, it := range items {
		if it.StartsAt.IsZero() {
			return fmt.Errorf("pdf: agenda item %d has no start time", i+1)
		}
		if !it.EndsAt.IsZero() && it.EndsAt.Before(it.StartsAt) {
			return fmt.Errorf("pdf: agenda item %d ends before it starts", i+1)
		}
	}
	slices.SortStableFunc(items, func(x, y AgendaItem) int {
		if c := x.StartsAt.Compare(y.StartsAt); c != 0 {
			return c
		}
		return x.EndsAt.Compare(y.EndsAt)
	})

	f, fs, err := newDoc("P", gofpdf.SizeType{Wd: pageW, Ht: pageH})
	if err != nil {
		return err
	}
	ag := &agendaDoc{fs: fs, a: a, lang: lang, items: items}
	ag.prepare()
	ag.layout(nil) // count the pages first, so every footer can say "of N"
	ag.total = ag.pages
	f.SetTitle(ag.title, true)
	f.SetHeaderFunc(func() { ag.header(f) })
	f.SetFooterFunc(func() { ag.footer(f) })
	ag.layout(f)
	return f.Output(w)
}

// agendaDoc lays out an agenda twice: once to count pages (f nil), once to draw.
type agendaDoc struct {
	fs    *fontSet
	a     Agenda
	lang  words
	items []AgendaItem

	title, second, subtitle, zone string
	pages, total                  int
	y                             float64
}

func (ag *agendaDoc) prepare() {
	ag.title = ag.fs.clean(ag.a.ConferenceTitle)
	ag.second = ag.fs.clean(ag.a.SecondTitle)
	ag.subtitle = ag.fs.clean(ag.a.Subtitle)
	if len(ag.items) > 0 {
		ag.zone = ag.items[0].StartsAt.In(ag.a.Location).Format("MST")
	}
}

// row is one session's cells, wrapped to their columns.
type row struct {
	cells  [5][]line
	height float64
}

func (ag *agendaDoc) makeRow(it AgendaItem) row {
	loc := ag.a.Location
	start := it.StartsAt.In(loc)
	from := ag.lang.clock(start)
	to := ""
	if !it.EndsAt.IsZero() {
		end := it.EndsAt.In(loc)
		to = ag.lang.clock(end)
		if y1, m1, d1 := start.Date(); !sameDay(y1, m1, d1, end) {
			day := []rune(ag.lang.days[end.Weekday()])
			to = string(day[:ag.lang.abbreviation]) + " " + to
		}
	}
	var r row
	tw := columns[0] - 2*cellPad
	switch {
	case to == "":
		r.cells[0] = ag.fs.lines(regular, []string{from}, tw, rowFont)
	case ag.fs.width(regular, from+" – "+to, rowFont) <= tw:
		r.cells[0] = ag.fs.lines(regular, []string{from + " – " + to}, tw, rowFont)
	default:
		r.cells[0] = ag.fs.lines(regular, []string{from + " –", to}, tw, rowFont)
	}
	texts := [5]string{1: it.Title, 2: capitalise(ag.fs.clean(it.Kind)), 3: it.Room, 4: it.Speakers}
	for c := 1; c < 5; c++ {
		style := regular
		if c == 1 {
			style = bold
		}
		t := ag.fs.clean(texts[c])
		if t == "" {
			continue
		}
		w := columns[c] - 2*cellPad
		ls := ag.fs.wrapHard(style, strings.Fields(t), w, rowFont)
		if len(ls) > maxCellLines { // a row must never outgrow a page
			rest := strings.Join(ls[maxCellLines-1:], " ")
			ls = append(ls[:maxCellLines-1], ag.fs.truncate(style, rest, w, rowFont))
		}
		r.cells[c] = ag.fs.lines(style, ls, w, rowFont)
	}
	n := 1
	for _, c := range r.cells {
		n = max(n, len(c))
	}
	r.height = (ascent+descent+leading*float64(n-1))*rowFont + 2*cellPad
	return r
}

func sameDay(y int, m time.Month, d int, t time.Time) bool {
	y2, m2, d2 := t.Date()
	return y == y2 && m == m2 && d == d2
}

const (
	dayHeaderH   = 24.0
	tableHeaderH = 16.0
)

// layout places everything, page by page; with f nil it only counts pages.
func (ag *agendaDoc) layout(f *gofpdf.Fpdf) {
	ag.pages = 0
	ag.newPage(f)
	if len(ag.items) == 0 {
		ag.text(f, bold, 11, margin, ag.y+12, ag.lang.noSessions, grey)
		return
	}
	loc := ag.a.Location
	for i := 0; i < len(ag.items); {
		day := ag.items[i].StartsAt.In(loc)
		y, m, d := day.Date()
		j := i
		for j < len(ag.items) && sameDay(y, m, d, ag.items[j].StartsAt.In(loc)) {
			j++
		}
		rows := make([]row, 0, j-i)
		for _, it := range ag.items[i:j] {
			rows = append(rows, ag.makeRow(it))
		}
		heading := ag.lang.date(ag.lang, day)
		// A day starts on a new page unless its heading and first row fit.
		if ag.y+10+dayHeaderH+tableHeaderH+rows[0].height > bodyBottom {
			ag.newPage(f)
		} else if i > 0 {
			ag.y += 10
		}
		ag.dayHeading(f, heading)
		for k, r := range rows {
			if ag.y+r.height > bodyBottom {
				ag.newPage(f)
				ag.dayHeading(f, heading+" ("+ag.lang.continued+")")
			}
			ag.drawRow(f, r, k%2 == 1)
		}
		i = j
	}
}

// newPage starts a page; the first carries the title block.
func (ag *agendaDoc) newPage(f *gofpdf.Fpdf) {
	ag.pages++
	if f != nil {
		f.AddPage()
	}
	if ag.pages > 1 {
		ag.y = margin + 30
		return
	}
	y := margin
	fit := func(style, s string, hi, lo float64, lines int, c rgb) {
		if s == "" {
			return
		}
		ls := ag.fs.fitLines(style, s, pageW-2*margin, 3*hi, hi, lo, lines)
		for _, l := range ls {
			y += ascent * l.size
			ag.text(f, style, l.size, margin, y, l.text, c)
			y += (leading - ascent) * l.size
		}
	}
	fit(bold, ag.title, 20, 12, 2, ink)
	fit(regular, ag.second, 13, 9, 2, grey)
	y += 4
	fit(regular, ag.subtitle, 13, 9, 2, ink)
	y += 3
	if ag.zone != "" {
		fit(regular, fmt.Sprintf(ag.lang.allTimes, ag.zone), 9, 9, 1, grey)
	}
	y += 6
	ag.rule(f, y)
	ag.y = y + 12
}

func (ag *agendaDoc) dayHeading(f *gofpdf.Fpdf, heading string) {
	if f != nil {
		fill(f, dayFill)
		f.Rect(margin, ag.y, pageW-2*margin, dayHeaderH, "F")
		ag.text(f, bold, 12, margin+cellPad, ag.y+dayHeaderH/2+capHeight*12/2, heading, headerColor)
		x := margin
		heads := [5]string{ag.lang.time, ag.lang.title, ag.lang.kind, ag.lang.room, ag.lang.speakers}
		for c, h := range heads {
			ag.text(f, bold, 7.5, x+cellPad, ag.y+dayHeaderH+tableHeaderH/2+capHeight*7.5/2, strings.ToUpper(h), grey)
			x += columns[c]
		}
		ag.rule(f, ag.y+dayHeaderH+tableHeaderH)
	}
	ag.y += dayHeaderH + tableHeaderH
}

func (ag *agendaDoc) drawRow(f *gofpdf.Fpdf, r row, zebra bool) {
	if f != nil {
		if zebra {
			fill(f, zebraFill)
			f.Rect(margin, ag.y, pageW-2*margin, r.height, "F")
		}
		x := margin
		for c, cell := range r.cells {
			color := ink
			if c >= 2 {
				color = grey
			}
			for i, l := range cell {
				ag.text(f, l.style, l.size, x+cellPad, ag.y+cellPad+ascent*l.size+leading*l.size*float64(i), l.text, color)
			}
			x += columns[c]
		}
	}
	ag.y += r.height
}

func (ag *agendaDoc) rule(f *gofpdf.Fpdf, y float64) {
	if f == nil {
		return
	}
	f.SetDrawColor(ruleColor.r, ruleColor.g, ruleColor.b)
	f.SetLineWidth(0.6)
	f.Line(margin, y, pageW-margin, y)
}

func (ag *agendaDoc) text(f *gofpdf.Fpdf, style string, size, x, y float64, s string, c rgb) {
	if f == nil || s == "" {
		return
	}
	f.SetFont(family, style, size)
	f.SetTextColor(c.r, c.g, c.b)
	f.Text(x, y, s)
}

// header repeats the title and subtitle at the top of every page but the
// first, which has them large.
func (ag *agendaDoc) header(f *gofpdf.Fpdf) {
	if f.PageNo() == 1 {
		return
	}
	right := ag.fs.truncate(regular, ag.subtitle, (pageW-2*margin)/2-6, 8.5)
	rw := ag.fs.width(regular, right, 8.5)
	left := ag.fs.truncate(bold, ag.title, pageW-2*margin-rw-12, 8.5)
	ag.text(f, bold, 8.5, margin, margin, left, grey)
	ag.text(f, regular, 8.5, pageW-margin-rw, margin, right, grey)
	ag.rule(f, margin+8)
}

// footer puts the conference and "Page n of N" on every page.
func (ag *agendaDoc) footer(f *gofpdf.Fpdf) {
	y := pageH - margin + 4
	page := fmt.Sprintf(ag.lang.page, f.PageNo(), ag.total)
	pw := ag.fs.width(regular, page, 8)
	ag.rule(f, y-12)
	ag.text(f, regular, 8, margin, y, ag.fs.truncate(regular, ag.title, pageW-2*margin-pw-12, 8), grey)
	ag.text(f, regular, 8, pageW-margin-pw, y, page, grey)
}
