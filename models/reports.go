package models

import (
	"context"

	"github.com/lib/pq"
)

// Workshops maps each registration of a conference to its workshop titles,
// for exports.
func (s *Store) Workshops(ctx context.Context, registrationIDs []int64) (map[int64][]string, error) {
	var rows []struct {
		RegistrationID int64  `db:"registration_id"`
		Title          string `db:"title"`
		Waitlisted     bool   `db:"waitlisted"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT rs.registration_id, a.title, rs.waitlisted FROM registration_sessions rs
		JOIN agenda_sessions a ON a.id = rs.session_id WHERE rs.registration_id = ANY($1) ORDER BY a.starts_at`, pq.Array(registrationIDs))
	out := map[int64][]string{}
	for _, r := range rows {
		t := r.Title
		if r.Waitlisted {
			t += " (waiting list)"
		}
		out[r.RegistrationID] = append(out[r.RegistrationID], t)
	}
	return out, err
}

// Count is one bar of a breakdown.
type Count struct {
	Label string `db:"label"`
	N     int    `db:"n"`
}

// Dashboard is a conference's numbers for staff.
type Dashboard struct {
	ByStatus   []Count
	ByLocal    []Count
	ByCategory []Count
	Languages  []Count // interpretation languages asked for
	Live       int     // registrations that are not cancelled or denied
	CheckedIn  int
	Access     int // with accessibility needs
	Dietary    int
	Children   int // children needing childcare
	Families   int
}

// ConferenceDashboard counts a conference's registrations by status, local,
// category and needs. Needs count live registrations only.
func (s *Store) ConferenceDashboard(ctx context.Context, conferenceID int64) (Dashboard, error) {
	var d Dashboard
	live := `r.conference_id = $1 AND r.status NOT IN ('cancelled', 'denied')`
	queries := []struct {
		dst *[]Count
		sql string
	}{
		{&d.ByStatus, `SELECT r.status AS label, count(*) AS n FROM registrations r WHERE r.conference_id = $1 GROUP BY r.status ORDER BY n DESC, label`},
		{&d.ByLocal, `SELECT coalesce('Local ' || l.number, 'No local') AS label, count(*) AS n FROM registrations r LEFT JOIN locals l ON l.id = r.local_id
			WHERE ` + live + ` GROUP BY l.number ORDER BY n DESC, label`},
		{&d.ByCategory, `SELECT k.name AS label, count(*) AS n FROM registrations r JOIN categories k ON k.id = r.category_id
			WHERE ` + live + ` GROUP BY k.name, k.position ORDER BY k.position`},
		{&d.Languages, `SELECT initcap(lower(trim(r.interpretation))) AS label, count(*) AS n FROM registrations r
			WHERE ` + live + ` AND trim(r.interpretation) <> '' GROUP BY 1 ORDER BY n DESC, label`},
	}
	for _, q := range queries {
		if err := s.db.SelectContext(ctx, q.dst, q.sql, conferenceID); err != nil {
			return d, err
		}
	}
	var totals struct {
		Live      int `db:"live"`
		CheckedIn int `db:"checked_in"`
		Access    int `db:"access"`
		Dietary   int `db:"dietary"`
		Children  int `db:"children"`
		Families  int `db:"families"`
	}
	err := s.db.GetContext(ctx, &totals, `SELECT count(*) AS live, count(r.checked_in_at) AS checked_in,
		count(*) FILTER (WHERE trim(r.accessibility) <> '') AS access, count(*) FILTER (WHERE trim(r.dietary) <> '') AS dietary,
		coalesce(sum(r.childcare_count), 0) AS children, count(*) FILTER (WHERE r.childcare_count > 0) AS families
		FROM registrations r WHERE `+live, conferenceID)
	d.Live, d.CheckedIn, d.Access, d.Dietary, d.Children, d.Families = totals.Live, totals.CheckedIn, totals.Access, totals.Dietary, totals.Children, totals.Families
	return d, err
}
