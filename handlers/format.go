package handlers

import (
	"fmt"
	"html/template"
	"net/url"
	"time"
)

var monthsES = [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"}
var monthsLongES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
var weekdaysES = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}

// FormatInstant writes an instant in loc with the zone named, in lang:
// "Dec 1, 2026, 9:00 AM PST" or "1 dic 2026, 9:00 PST".
func FormatInstant(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if lang == "es" {
		return fmt.Sprintf("%d %s %d, %s %s", t.Day(), monthsES[t.Month()-1], t.Year(), t.Format("15:04"), t.Format("MST"))
	}
	return t.Format("Jan 2, 2006, 3:04 PM MST")
}

// FormatTime writes only the clock time in loc: "9:00 AM" or "9:00".
func FormatTime(t time.Time, loc *time.Location, lang string) string {
	if lang == "es" {
		return t.In(loc).Format("15:04")
	}
	return t.In(loc).Format("3:04 PM")
}

// FormatDay writes a calendar day: "Friday, December 4, 2026" or "viernes, 4 de diciembre de 2026".
func FormatDay(d time.Time, lang string) string {
	if lang == "es" {
		return fmt.Sprintf("%s, %d de %s de %d", weekdaysES[d.Weekday()], d.Day(), monthsLongES[d.Month()-1], d.Year())
	}
	return d.Format("Monday, January 2, 2006")
}

// FormatDateRange writes a conference's days: "Dec 4–6, 2026".
func FormatDateRange(a, b time.Time, lang string) string {
	if lang == "es" {
		switch {
		case a.Equal(b):
			return fmt.Sprintf("%d de %s de %d", a.Day(), monthsLongES[a.Month()-1], a.Year())
		case a.Month() == b.Month() && a.Year() == b.Year():
			return fmt.Sprintf("%d–%d de %s de %d", a.Day(), b.Day(), monthsLongES[a.Month()-1], a.Year())
		}
		return fmt.Sprintf("%d de %s – %d de %s de %d", a.Day(), monthsLongES[a.Month()-1], b.Day(), monthsLongES[b.Month()-1], b.Year())
	}
	switch {
	case a.Equal(b):
		return a.Format("Jan 2, 2006")
	case a.Month() == b.Month() && a.Year() == b.Year():
		return fmt.Sprintf("%s %d–%d, %d", a.Format("Jan"), a.Day(), b.Day(), a.Year())
	case a.Year() == b.Year():
		return fmt.Sprintf("%s – %s", a.Format("Jan 2"), b.Format("Jan 2, 2006"))
	}
	return a.Format("Jan 2, 2006") + " – " + b.Format("Jan 2, 2006")
}

var dateFuncs = template.FuncMap{
	"instant":   FormatInstant,
	"clock":     FormatTime,
	"day":       FormatDay,
	"dateRange": FormatDateRange,
}

func urlEscape(s string) string   { return url.QueryEscape(s) }
func urlUnescape(s string) string { v, _ := url.QueryUnescape(s); return v }
