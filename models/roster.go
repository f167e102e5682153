package models

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode"

	"convene/models/rostercsv"

	"github.com/jmoiron/sqlx"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// RosterEntry is one member on a local's roster.
type RosterEntry struct {
	ID           int64     `db:"id"`
	LocalID      int64     `db:"local_id"`
	MemberNumber string    `db:"member_number"`
	FirstName    string    `db:"first_name"`
	LastName     string    `db:"last_name"`
	Email        string    `db:"email"`
	Standing     string    `db:"standing"`
	UpdatedAt    time.Time `db:"updated_at"`
}

const rosterColumns = `id, local_id, member_number, first_name, last_name, email, standing, updated_at`

// FoldName folds a name for matching: case, accents, spaces and punctuation
// do not count, so "Chávez-Nava" matches "CHAVEZ NAVA".
func FoldName(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ = transform.String(t, s)
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// RosterEntry finds a member of a local by member number.
func (s *Store) RosterEntry(ctx context.Context, q sqlx.QueryerContext, localID int64, memberNumber string) (RosterEntry, error) {
	var e RosterEntry
	err := sqlx.GetContext(ctx, q, &e, `SELECT `+rosterColumns+` FROM roster_entries WHERE local_id = $1 AND lower(member_number) = lower($2)`,
		localID, strings.TrimSpace(memberNumber))
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// Roster lists a local's members by last name.
func (s *Store) Roster(ctx context.Context, localID int64) ([]RosterEntry, error) {
	var es []RosterEntry
	err := s.db.SelectContext(ctx, &es, `SELECT `+rosterColumns+` FROM roster_entries WHERE local_id = $1 ORDER BY lower(last_name), lower(first_name), member_number`, localID)
	return es, err
}

// RosterPreview is what applying an uploaded roster would do.
type RosterPreview struct {
	Add       []rostercsv.Row
	Update    []rostercsv.Row
	Unchanged int
	// Lapse lists members on the roster now who are not in the file and are
	// still in good standing: applying marks them lapsed, never deletes them.
	Lapse  []RosterEntry
	Errors []rostercsv.RowError
}

// PreviewRoster parses a roster file and compares it with the local's roster.
func (s *Store) PreviewRoster(ctx context.Context, localID int64, content []byte) (RosterPreview, error) {
	var p RosterPreview
	res, err := rostercsv.Parse(bytes.NewReader(content))
	if err != nil {
		return p, err
	}
	current, err := s.Roster(ctx, localID)
	if err != nil {
		return p, err
	}
	byNumber := make(map[string]RosterEntry, len(current))
	for _, e := range current {
		byNumber[strings.ToLower(e.MemberNumber)] = e
	}
	seen := map[string]bool{}
	for _, r := range res.Rows {
		key := strings.ToLower(r.MemberNumber)
		seen[key] = true
		old, ok := byNumber[key]
		switch {
		case !ok:
			p.Add = append(p.Add, r)
		case old.FirstName != r.FirstName || old.LastName != r.LastName || old.Standing != r.Standing || (r.Email != "" && old.Email != r.Email):
			p.Update = append(p.Update, r)
		default:
			p.Unchanged++
		}
	}
	for _, e := range current {
		if !seen[strings.ToLower(e.MemberNumber)] && e.Standing == "good" {
			p.Lapse = append(p.Lapse, e)
		}
	}
	p.Errors = res.Errors
	return p, nil
}

// RosterCounts says what an import did.
type RosterCounts struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Lapsed    int `json:"lapsed"`
	Errors    int `json:"errors"`
}

// ApplyRoster applies a roster file in one transaction: new members are
// added, changed ones updated, and members missing from the file marked
// lapsed. Bad rows are skipped and counted; nothing is deleted.
func (s *Store) ApplyRoster(ctx context.Context, localID, actorID int64, content []byte) (RosterCounts, RosterPreview, error) {
	var c RosterCounts
	p, err := s.PreviewRoster(ctx, localID, content)
	if err != nil {
		return c, p, err
	}
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		// Serialise imports of one local so two officers cannot interleave.
		if _, err := tx.ExecContext(ctx, `SELECT id FROM locals WHERE id = $1 FOR UPDATE`, localID); err != nil {
			return err
		}
		for _, r := range append(append([]rostercsv.Row{}, p.Add...), p.Update...) {
			_, err := tx.ExecContext(ctx, `INSERT INTO roster_entries (local_id, member_number, first_name, last_name, email, standing)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (local_id, member_number) DO UPDATE SET first_name = EXCLUDED.first_name,
					last_name = EXCLUDED.last_name, email = CASE WHEN EXCLUDED.email = '' THEN roster_entries.email ELSE EXCLUDED.email END,
					standing = EXCLUDED.standing, updated_at = now()`,
				localID, r.MemberNumber, r.FirstName, r.LastName, r.Email, r.Standing)
			if err != nil {
				return err
			}
		}
		for _, e := range p.Lapse {
			if _, err := tx.ExecContext(ctx, `UPDATE roster_entries SET standing = 'lapsed', updated_at = now() WHERE id = $1`, e.ID); err != nil {
				return err
			}
		}
		c = RosterCounts{Added: len(p.Add), Updated: len(p.Update), Unchanged: p.Unchanged, Lapsed: len(p.Lapse), Errors: len(p.Errors)}
		return s.Audit(ctx, tx, actorID, "roster_imported", "local", localID, map[string]any{
			"added": c.Added, "updated": c.Updated, "lapsed": c.Lapsed, "errors": c.Errors})
	})
	return c, p, err
}

// SaveRosterUpload keeps an uploaded file between its preview and confirmation.
func (s *Store) SaveRosterUpload(ctx context.Context, localID, actorID int64, filename string, content []byte) (int64, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, `INSERT INTO roster_imports (local_id, uploaded_by, filename, content) VALUES ($1,$2,$3,$4) RETURNING id`,
		localID, actorID, filename, content)
	return id, err
}

// TakeRosterUpload returns a local's upload from the last day and marks it
// applied, so one upload is applied once.
func (s *Store) TakeRosterUpload(ctx context.Context, localID, id int64) ([]byte, error) {
	var content []byte
	err := s.db.GetContext(ctx, &content, `UPDATE roster_imports SET applied_at = now()
		WHERE id = $1 AND local_id = $2 AND applied_at IS NULL AND created_at > now() - interval '1 day' RETURNING content`, id, localID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return content, err
}
