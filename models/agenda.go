package models

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// SessionKinds are the kinds of agenda item.
var SessionKinds = []string{"plenary", "workshop", "panel", "caucus", "meal", "other"}

// AgendaSession is one item of a conference's program.
type AgendaSession struct {
	ID           int64     `db:"id"`
	ConferenceID int64     `db:"conference_id"`
	Title        string    `db:"title"`
	TitleES      string    `db:"title_es"`
	Kind         string    `db:"kind"`
	StartsAt     time.Time `db:"starts_at"`
	EndsAt       time.Time `db:"ends_at"`
	Room         string    `db:"room"`
	Speakers     string    `db:"speakers"`
	Description  string    `db:"description"`
	Capacity     *int      `db:"capacity"`
	Taken        int       `db:"taken"`
}

const sessionColumns = `id, conference_id, title, title_es, kind, starts_at, ends_at, room, speakers, description, capacity, taken`

// SeatsLeft is the number of places still free, or -1 when unlimited.
func (a AgendaSession) SeatsLeft() int {
	if a.Capacity == nil {
		return -1
	}
	return max(*a.Capacity-a.Taken, 0)
}

// SessionInput is an agenda item as typed into a form or sent to the API;
// times may be RFC 3339 or local to the conference.
type SessionInput struct {
	Title, TitleES, Kind, StartsAt, EndsAt, Room, Speakers, Description, Capacity string
}

// Input returns the session as form values.
func (a AgendaSession) Input(conf Conference) SessionInput {
	loc := conf.Location()
	in := SessionInput{Title: a.Title, TitleES: a.TitleES, Kind: a.Kind, StartsAt: formLocal(a.StartsAt, loc),
		EndsAt: formLocal(a.EndsAt, loc), Room: a.Room, Speakers: a.Speakers, Description: a.Description}
	if a.Capacity != nil {
		in.Capacity = itoa(*a.Capacity)
	}
	return in
}

// Parse checks a session against its conference: it must fall within the
// conference's days, in the conference's zone.
func (in SessionInput) Parse(conf Conference) (AgendaSession, error) {
	p := Problems{}
	loc := conf.Location()
	a := AgendaSession{ConferenceID: conf.ID, Title: strings.TrimSpace(in.Title), TitleES: strings.TrimSpace(in.TitleES),
		Kind: strings.TrimSpace(in.Kind), Room: strings.TrimSpace(in.Room), Speakers: strings.TrimSpace(in.Speakers),
		Description: strings.TrimSpace(in.Description)}
	if a.Title == "" {
		p.Add("title", "Enter a title.")
	}
	if a.Kind == "" {
		a.Kind = "other"
	}
	if !contains(SessionKinds, a.Kind) {
		p.Add("kind", "Choose plenary, workshop, panel, caucus, meal or other.")
	}
	var err error
	if a.StartsAt, err = ParseInstant(in.StartsAt, loc, false); err != nil || !strings.ContainsAny(in.StartsAt, "T ") {
		p.Add("starts_at", "Enter a start like 2026-12-04T09:00.")
	}
	if a.EndsAt, err = ParseInstant(in.EndsAt, loc, false); err != nil || !strings.ContainsAny(in.EndsAt, "T ") {
		p.Add("ends_at", "Enter an end like 2026-12-04T10:30.")
	} else if p["starts_at"] == "" && !a.EndsAt.After(a.StartsAt) {
		p.Add("ends_at", "The session must end after it starts.")
	}
	start, end := conf.Bounds()
	if p["starts_at"] == "" && p["ends_at"] == "" && (a.StartsAt.Before(start) || a.EndsAt.After(end)) {
		p.Add("starts_at", "The session must fall within the conference's days.")
	}
	a.Capacity = optionalInt(p, "capacity", in.Capacity)
	return a, p.Err()
}

// CreateSession adds an agenda item.
func (s *Store) CreateAgendaSession(ctx context.Context, conf Conference, in SessionInput) (AgendaSession, error) {
	a, err := in.Parse(conf)
	if err != nil {
		return a, err
	}
	err = s.db.GetContext(ctx, &a, `INSERT INTO agenda_sessions (conference_id, title, title_es, kind, starts_at, ends_at,
		room, speakers, description, capacity) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING `+sessionColumns,
		conf.ID, a.Title, a.TitleES, a.Kind, a.StartsAt, a.EndsAt, a.Room, a.Speakers, a.Description, a.Capacity)
	return a, err
}

// UpdateAgendaSession replaces an agenda item's fields.
func (s *Store) UpdateAgendaSession(ctx context.Context, conf Conference, id int64, in SessionInput) (AgendaSession, error) {
	a, err := in.Parse(conf)
	if err != nil {
		return a, err
	}
	err = s.db.GetContext(ctx, &a, `UPDATE agenda_sessions SET title=$3, title_es=$4, kind=$5, starts_at=$6, ends_at=$7,
		room=$8, speakers=$9, description=$10, capacity=$11 WHERE id = $1 AND conference_id = $2 RETURNING `+sessionColumns,
		id, conf.ID, a.Title, a.TitleES, a.Kind, a.StartsAt, a.EndsAt, a.Room, a.Speakers, a.Description, a.Capacity)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	if s.placesRaised(ctx, conf.ID, id) {
		// The line moved on: the count the update returned is old.
		if now, err := s.AgendaSession(ctx, conf.ID, id); err == nil {
			a = now
		}
	}
	return a, nil
}

// placesRaised gives the places a raised (or removed) workshop capacity
// freed to the workshop's line at once, first signed up first, as a
// cancellation's freed place is given: holding the conference's seat counts
// first (lockSeats), in the order a cancellation takes them, and passing
// over a sign-up whose row is busy. An edit that freed nothing costs one
// query and locks nothing. The edit is saved whatever happens here: it
// runs on its own time, and should it fail, the places go at the next
// cancellation. It says whether it gave any.
func (s *Store) placesRaised(ctx context.Context, conferenceID, sessionID int64) (gave bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var waiting bool
	err := s.db.GetContext(ctx, &waiting, `SELECT EXISTS (SELECT FROM registration_sessions rs
		JOIN agenda_sessions a ON a.id = rs.session_id JOIN registrations r ON r.id = rs.registration_id
		WHERE rs.session_id = $1 AND rs.waitlisted AND r.holds_seat AND (a.capacity IS NULL OR a.taken < a.capacity))`, sessionID)
	if err != nil || !waiting {
		return false
	}
	given := 0
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockSeats(ctx, tx, conferenceID); err != nil {
			return err
		}
		// Each turn gives a place to someone waiting, so the line ends it.
		for {
			ok, err := s.promoteWorkshop(ctx, tx, sessionID)
			if err != nil || !ok {
				return err
			}
			given++
		}
	})
	return err == nil && given > 0
}

// AgendaSessions lists a conference's program in time order.
func (s *Store) AgendaSessions(ctx context.Context, conferenceID int64) ([]AgendaSession, error) {
	var as []AgendaSession
	err := s.db.SelectContext(ctx, &as, `SELECT `+sessionColumns+` FROM agenda_sessions WHERE conference_id = $1 ORDER BY starts_at, title`, conferenceID)
	return as, err
}

// AgendaSession loads one agenda item of a conference.
func (s *Store) AgendaSession(ctx context.Context, conferenceID, id int64) (AgendaSession, error) {
	var a AgendaSession
	err := s.db.GetContext(ctx, &a, `SELECT `+sessionColumns+` FROM agenda_sessions WHERE conference_id = $1 AND id = $2`, conferenceID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// Day is one day of a program, in the conference's zone.
type Day struct {
	Date     time.Time
	Sessions []AgendaSession
}

// ByDay groups sessions (already in time order) by their day in loc.
func ByDay(sessions []AgendaSession, loc *time.Location) []Day {
	var days []Day
	for _, a := range sessions {
		t := a.StartsAt.In(loc)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		if len(days) == 0 || !days[len(days)-1].Date.Equal(d) {
			days = append(days, Day{Date: d})
		}
		days[len(days)-1].Sessions = append(days[len(days)-1].Sessions, a)
	}
	return days
}
