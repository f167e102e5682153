package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date layouts accepted from forms and the API.
const (
	DateLayout      = "2006-01-02"
	localTimeLayout = "2006-01-02T15:04"
)

// ParseInstant reads an instant given as RFC 3339, as a form's datetime-local
// ("2026-12-01T09:00", read in loc), or as a date alone. A date alone means
// the start of that day when endOfDay is false and its last second otherwise,
// in loc: "registration is due December 12" ends at 23:59:59 there.
func ParseInstant(s string, loc *time.Location, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{localTimeLayout, "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseInLocation(DateLayout, s, loc); err == nil {
		if endOfDay {
			return d.AddDate(0, 0, 1).Add(-time.Second), nil
		}
		return d, nil
	}
	return time.Time{}, fmt.Errorf("not a date and time")
}

// ParseDate reads a YYYY-MM-DD date.
func ParseDate(s string) (time.Time, error) {
	return time.Parse(DateLayout, strings.TrimSpace(s))
}

// ParseMoney reads an amount like "125", "125.5" or "$1,250.00" into cents.
func ParseMoney(s string) (int64, error) {
	s = strings.TrimSpace(strings.NewReplacer("$", "", ",", "", " ", "").Replace(s))
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" && frac == "" {
		return 0, fmt.Errorf("not an amount")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if whole == "" {
		whole = "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w > 1e9 {
		return 0, fmt.Errorf("not an amount")
	}
	c := w*100 + f
	if neg {
		c = -c
	}
	return c, nil
}

// FormatMoney writes cents as "125.00" for form fields.
func FormatMoney(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// LoadZone loads an IANA time zone, refusing the empty and "Local" names.
func LoadZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == "Local" || !strings.Contains(name, "/") && name != "UTC" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return time.LoadLocation(name)
}

// formLocal writes an instant for a datetime-local field in loc, with seconds
// only when they are not zero, so a 23:59:59 deadline survives a re-save.
func formLocal(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if t.Second() != 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format(localTimeLayout)
}
