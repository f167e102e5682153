package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Conference statuses.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusClosed    = "closed"
	StatusArchived  = "archived"
)

// Conference is one event people register for.
type Conference struct {
	ID                     int64      `db:"id"`
	Slug                   string     `db:"slug"`
	Title                  string     `db:"title"`
	TitleES                string     `db:"title_es"`
	Description            string     `db:"description"`
	DescriptionES          string     `db:"description_es"`
	Venue                  string     `db:"venue"`
	City                   string     `db:"city"`
	TimeZone               string     `db:"time_zone"`
	StartsOn               time.Time  `db:"starts_on"`
	EndsOn                 time.Time  `db:"ends_on"`
	Mode                   string     `db:"mode"`
	JoinURL                string     `db:"join_url"`
	Languages              string     `db:"languages"`
	Capacity               *int       `db:"capacity"`
	Taken                  int        `db:"taken"`
	Currency               string     `db:"currency"`
	Status                 string     `db:"status"`
	RegistrationOpensAt    time.Time  `db:"registration_opens_at"`
	RegistrationClosesAt   time.Time  `db:"registration_closes_at"`
	ApprovalDeadline       *time.Time `db:"approval_deadline"`
	CancellationDeadline   *time.Time `db:"cancellation_deadline"`
	WorkshopSignupClosesAt *time.Time `db:"workshop_signup_closes_at"`
	PaymentDueDays         *int       `db:"payment_due_days"`
	CreatedAt              time.Time  `db:"created_at"`
	UpdatedAt              time.Time  `db:"updated_at"`
}

const conferenceColumns = `id, slug, title, title_es, description, description_es, venue, city, time_zone,
	starts_on, ends_on, mode, join_url, languages, capacity, taken, currency, status,
	registration_opens_at, registration_closes_at, approval_deadline, cancellation_deadline,
	workshop_signup_closes_at, payment_due_days, created_at, updated_at`

// zones caches loaded time zones: time.LoadLocation reads the zone file on
// every call, which was a quarter of the catalogue page's CPU.
var zones sync.Map

// Location is the conference's time zone; every date shown is in it.
func (c Conference) Location() *time.Location {
	if loc, ok := zones.Load(c.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	zones.Store(c.TimeZone, loc)
	return loc
}

// SeatsLeft is the number of seats still free, or -1 when unlimited.
func (c Conference) SeatsLeft() int {
	if c.Capacity == nil {
		return -1
	}
	return max(*c.Capacity-c.Taken, 0)
}

// RegistrationState says where now falls in the registration window:
// "not_open", "open" or "closed".
func (c Conference) RegistrationState(now time.Time) string {
	switch {
	case c.Status != StatusPublished || !now.Before(c.RegistrationClosesAt):
		return "closed"
	case now.Before(c.RegistrationOpensAt):
		return "not_open"
	default:
		return "open"
	}
}

// IsPast reports whether the conference has ended, in its own time zone.
func (c Conference) IsPast(now time.Time) bool {
	end := time.Date(c.EndsOn.Year(), c.EndsOn.Month(), c.EndsOn.Day(), 0, 0, 0, 0, c.Location()).AddDate(0, 0, 1)
	return !now.Before(end)
}

// Bounds returns the first and last instants of the conference's days in its zone.
func (c Conference) Bounds() (time.Time, time.Time) {
	loc := c.Location()
	start := time.Date(c.StartsOn.Year(), c.StartsOn.Month(), c.StartsOn.Day(), 0, 0, 0, 0, loc)
	end := time.Date(c.EndsOn.Year(), c.EndsOn.Month(), c.EndsOn.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	return start, end
}

// ConferenceInput is a conference as typed into a form or sent to the API,
// before it is checked. Instants may be RFC 3339 or local to TimeZone.
type ConferenceInput struct {
	Slug, Title, TitleES, Description, DescriptionES, Venue, City, TimeZone string
	StartsOn, EndsOn, Mode, JoinURL, Languages, Capacity, Currency          string
	RegistrationOpensAt, RegistrationClosesAt, ApprovalDeadline             string
	CancellationDeadline, WorkshopSignupClosesAt, PaymentDueDays            string
}

// Input returns the conference as form values, instants in its own zone.
func (c Conference) Input() ConferenceInput {
	loc := c.Location()
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return formLocal(*t, loc)
	}
	in := ConferenceInput{
		Slug: c.Slug, Title: c.Title, TitleES: c.TitleES, Description: c.Description, DescriptionES: c.DescriptionES,
		Venue: c.Venue, City: c.City, TimeZone: c.TimeZone, StartsOn: c.StartsOn.Format(DateLayout),
		EndsOn: c.EndsOn.Format(DateLayout), Mode: c.Mode, JoinURL: c.JoinURL, Languages: c.Languages,
		Currency: c.Currency, RegistrationOpensAt: at(&c.RegistrationOpensAt), RegistrationClosesAt: at(&c.RegistrationClosesAt),
		ApprovalDeadline: at(c.ApprovalDeadline), CancellationDeadline: at(c.CancellationDeadline),
		WorkshopSignupClosesAt: at(c.WorkshopSignupClosesAt),
	}
	if c.Capacity != nil {
		in.Capacity = strconv.Itoa(*c.Capacity)
	}
	if c.PaymentDueDays != nil {
		in.PaymentDueDays = strconv.Itoa(*c.PaymentDueDays)
	}
	return in
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidModes are the ways a conference can be attended.
var ValidModes = []string{"in_person", "virtual", "hybrid"}

func optionalInt(p Problems, field, s string) *int {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.Add(field, "Enter a whole number, or leave it empty.")
		return nil
	}
	if n < 0 {
		p.Add(field, "This cannot be negative.")
		return nil
	}
	return &n
}

func optionalInstant(p Problems, field, s string, loc *time.Location) *time.Time {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	t, err := ParseInstant(s, loc, true)
	if err != nil {
		p.Add(field, "Enter a date and time like 2026-12-12T17:00.")
		return nil
	}
	return &t
}

// Parse checks the input and returns the conference it describes; the ID and
// status are left for the caller.
func (in ConferenceInput) Parse() (Conference, error) {
	p := Problems{}
	c := Conference{
		Slug: strings.ToLower(strings.TrimSpace(in.Slug)), Title: strings.TrimSpace(in.Title),
		TitleES: strings.TrimSpace(in.TitleES), Description: strings.TrimSpace(in.Description),
		DescriptionES: strings.TrimSpace(in.DescriptionES), Venue: strings.TrimSpace(in.Venue),
		City: strings.TrimSpace(in.City), TimeZone: strings.TrimSpace(in.TimeZone),
		Mode: strings.TrimSpace(in.Mode), JoinURL: strings.TrimSpace(in.JoinURL),
		Languages: strings.TrimSpace(in.Languages), Currency: strings.ToLower(strings.TrimSpace(in.Currency)),
	}
	switch {
	case c.Slug == "":
		p.Add("slug", "Enter a short web address, like pal-conference-2027.")
	case len(c.Slug) > 80 || !slugRE.MatchString(c.Slug):
		p.Add("slug", "Use only lower-case letters, digits and single dashes.")
	}
	if c.Title == "" {
		p.Add("title", "Enter a title.")
	} else if utf8.RuneCountInString(c.Title) > 200 {
		p.Add("title", "Use at most 200 characters.")
	}
	loc, err := LoadZone(c.TimeZone)
	if err != nil {
		p.Add("time_zone", "Unknown time zone: use a name like America/Los_Angeles.")
		loc = time.UTC
	}
	if c.StartsOn, err = ParseDate(in.StartsOn); err != nil {
		p.Add("starts_on", "Enter the first day as YYYY-MM-DD.")
	}
	if c.EndsOn, err = ParseDate(in.EndsOn); err != nil {
		p.Add("ends_on", "Enter the last day as YYYY-MM-DD.")
	} else if !c.StartsOn.IsZero() && c.EndsOn.Before(c.StartsOn) {
		p.Add("ends_on", "The conference ends before it starts.")
	}
	if c.Mode == "" {
		c.Mode = "in_person"
	}
	if !contains(ValidModes, c.Mode) {
		p.Add("mode", "Choose in person, virtual or hybrid.")
	}
	if c.JoinURL != "" && !strings.HasPrefix(c.JoinURL, "https://") && !strings.HasPrefix(c.JoinURL, "http://") {
		p.Add("join_url", "Enter a web address starting with https://.")
	}
	if c.Languages == "" {
		c.Languages = "en"
	}
	for _, l := range strings.Split(c.Languages, ",") {
		if l = strings.TrimSpace(l); l != "en" && l != "es" {
			p.Add("languages", "Choose English (en), Spanish (es) or both (en,es).")
		}
	}
	if c.Currency == "" {
		c.Currency = "usd"
	}
	if len(c.Currency) != 3 || strings.Trim(c.Currency, "abcdefghijklmnopqrstuvwxyz") != "" {
		p.Add("currency", "Use a three-letter currency code such as USD or MXN.")
	}
	c.Capacity = optionalInt(p, "capacity", in.Capacity)
	c.PaymentDueDays = optionalInt(p, "payment_due_days", in.PaymentDueDays)
	if strings.TrimSpace(in.RegistrationOpensAt) == "" {
		p.Add("registration_opens_at", "Enter when registration opens.")
	} else if c.RegistrationOpensAt, err = ParseInstant(in.RegistrationOpensAt, loc, false); err != nil {
		p.Add("registration_opens_at", "Enter a date and time like 2026-12-01T09:00.")
	}
	if strings.TrimSpace(in.RegistrationClosesAt) == "" {
		p.Add("registration_closes_at", "Enter when registration closes.")
	} else if c.RegistrationClosesAt, err = ParseInstant(in.RegistrationClosesAt, loc, true); err != nil {
		p.Add("registration_closes_at", "Enter a date and time like 2026-12-12T23:59.")
	} else if !c.RegistrationOpensAt.IsZero() && !c.RegistrationClosesAt.After(c.RegistrationOpensAt) {
		p.Add("registration_closes_at", "Registration must close after it opens.")
	}
	c.ApprovalDeadline = optionalInstant(p, "approval_deadline", in.ApprovalDeadline, loc)
	c.CancellationDeadline = optionalInstant(p, "cancellation_deadline", in.CancellationDeadline, loc)
	c.WorkshopSignupClosesAt = optionalInstant(p, "workshop_signup_closes_at", in.WorkshopSignupClosesAt, loc)
	return c, p.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var errDuplicateSlug = &ValidationError{Fields: map[string]string{"slug": "Another conference already uses this web address."}}

// CreateConference saves a new conference as a draft.
func (s *Store) CreateConference(ctx context.Context, in ConferenceInput) (Conference, error) {
	c, err := in.Parse()
	if err != nil {
		return c, err
	}
	err = s.db.GetContext(ctx, &c, `INSERT INTO conferences (slug, title, title_es, description, description_es, venue, city,
		time_zone, starts_on, ends_on, mode, join_url, languages, capacity, currency, status, registration_opens_at,
		registration_closes_at, approval_deadline, cancellation_deadline, workshop_signup_closes_at, payment_due_days)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'draft',$16,$17,$18,$19,$20,$21)
		RETURNING `+conferenceColumns,
		c.Slug, c.Title, c.TitleES, c.Description, c.DescriptionES, c.Venue, c.City, c.TimeZone, c.StartsOn, c.EndsOn,
		c.Mode, c.JoinURL, c.Languages, c.Capacity, c.Currency, c.RegistrationOpensAt, c.RegistrationClosesAt,
		c.ApprovalDeadline, c.CancellationDeadline, c.WorkshopSignupClosesAt, c.PaymentDueDays)
	if isUniqueViolation(err, "conferences_slug_key") {
		return c, errDuplicateSlug
	}
	return c, err
}

// UpdateConference replaces a conference's editable fields. Changing the
// dates or closing time must keep its categories' early-bird dates and
// sessions valid.
func (s *Store) UpdateConference(ctx context.Context, id int64, in ConferenceInput) (Conference, error) {
	c, err := in.Parse()
	if err != nil {
		return c, err
	}
	p := Problems{}
	var lateEarly int
	if err := s.db.GetContext(ctx, &lateEarly, `SELECT count(*) FROM categories WHERE conference_id = $1 AND early_until > $2`, id, c.RegistrationClosesAt); err != nil {
		return c, err
	}
	if lateEarly > 0 {
		p.Add("registration_closes_at", "Some categories' early-bird prices end after this closing time; change them first.")
	}
	start, end := c.Bounds()
	var outside int
	if err := s.db.GetContext(ctx, &outside, `SELECT count(*) FROM agenda_sessions WHERE conference_id = $1 AND (starts_at < $2 OR ends_at > $3)`, id, start, end); err != nil {
		return c, err
	}
	if outside > 0 {
		p.Add("ends_on", "Some agenda sessions fall outside these days; move them first.")
	}
	if err := p.Err(); err != nil {
		return c, err
	}
	err = s.db.GetContext(ctx, &c, `UPDATE conferences SET slug=$2, title=$3, title_es=$4, description=$5, description_es=$6,
		venue=$7, city=$8, time_zone=$9, starts_on=$10, ends_on=$11, mode=$12, join_url=$13, languages=$14, capacity=$15,
		currency=$16, registration_opens_at=$17, registration_closes_at=$18, approval_deadline=$19,
		cancellation_deadline=$20, workshop_signup_closes_at=$21, payment_due_days=$22, updated_at=now()
		WHERE id = $1 RETURNING `+conferenceColumns,
		id, c.Slug, c.Title, c.TitleES, c.Description, c.DescriptionES, c.Venue, c.City, c.TimeZone, c.StartsOn, c.EndsOn,
		c.Mode, c.JoinURL, c.Languages, c.Capacity, c.Currency, c.RegistrationOpensAt, c.RegistrationClosesAt,
		c.ApprovalDeadline, c.CancellationDeadline, c.WorkshopSignupClosesAt, c.PaymentDueDays)
	if isUniqueViolation(err, "conferences_slug_key") {
		return c, errDuplicateSlug
	}
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if s.seatsRaised(ctx, c.ID) {
		// The line moved on: the counts the update returned are old.
		if now, err := s.conferenceInTx(ctx, nil, c.ID); err == nil {
			c = now
		}
	}
	return c, nil
}

// seatsRaised gives the seats a staff edit may have freed (a conference's
// or a type's capacity raised or removed) to the waiting line at once,
// first in line first. Without it, the people waiting would get those
// seats only at the next registration or release, and a quiet week before
// the conference could leave them waiting beside empty seats.
//
// An edit that freed nothing costs one query and locks nothing: nobody
// waiting can take a seat. Otherwise seats are given as a cancellation
// gives them once it has committed (fillSeats): a first in line whose row
// is busy (a scan, a print run) is waited for up to lockWait, and then
// keeps their place while the seat goes to the next. Each transaction
// moves up to 200 people on, holding the seat counts only that long, and
// the next goes on while someone who can take a seat waits.
//
// The edit is saved whatever happens here: it runs on its own time, and
// should it fail, the seats go at the next registration or release. It
// says whether it moved the line (or may have).
func (s *Store) seatsRaised(ctx context.Context, conferenceID int64) (moved bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var last int64
	for {
		first, err := firstInLine(ctx, s.db, conferenceID, []int64{})
		if err != nil || first == last {
			// Nobody can take a seat, or the first in line stayed busy.
			return moved
		}
		last = first
		if err := s.fillSeats(ctx, conferenceID); err != nil {
			return moved
		}
		moved = true
	}
}

// SetConferenceStatus publishes, closes, archives or returns a conference to draft.
func (s *Store) SetConferenceStatus(ctx context.Context, id int64, status string) (Conference, error) {
	var c Conference
	if !contains([]string{StatusDraft, StatusPublished, StatusClosed, StatusArchived}, status) {
		return c, &ValidationError{Fields: map[string]string{"status": "Choose draft, published, closed or archived."}}
	}
	err := s.db.GetContext(ctx, &c, `UPDATE conferences SET status = $2, updated_at = now() WHERE id = $1 RETURNING `+conferenceColumns, id, status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// ConferenceBySlug loads a conference; drafts only when includeDrafts is set,
// so the public never learns a draft exists.
func (s *Store) ConferenceBySlug(ctx context.Context, slug string, includeDrafts bool) (Conference, error) {
	var c Conference
	err := s.get(ctx, nil, &c, `SELECT `+conferenceColumns+` FROM conferences WHERE slug = $1 AND (status <> 'draft' OR $2)`, slug, includeDrafts)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// PublicConferences lists published and closed conferences, soonest first.
func (s *Store) PublicConferences(ctx context.Context) ([]Conference, error) {
	var cs []Conference
	err := s.db.SelectContext(ctx, &cs, `SELECT `+conferenceColumns+` FROM conferences
		WHERE status IN ('published', 'closed') ORDER BY starts_on, title`)
	return cs, err
}

// AllConferences lists every conference for staff, newest first.
func (s *Store) AllConferences(ctx context.Context) ([]Conference, error) {
	var cs []Conference
	err := s.db.SelectContext(ctx, &cs, `SELECT `+conferenceColumns+` FROM conferences ORDER BY starts_on DESC, title`)
	return cs, err
}

// String names the conference for logs.
func (c Conference) String() string { return fmt.Sprintf("conference %d (%s)", c.ID, c.Slug) }
