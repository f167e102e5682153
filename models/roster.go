package models

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"convene/models/rostercsv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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
	Add    []rostercsv.Row
	Update []rostercsv.Row
	// Before[i] is the member of Update[i] as the roster has them now.
	Before    []RosterEntry
	Unchanged int
	// Lapse lists members on the roster now who are not in the file and are
	// still in good standing: applying marks them lapsed, never deletes them.
	// A member whose line in the file is a row error is not in it.
	Lapse  []RosterEntry
	Errors []rostercsv.RowError
}

// PreviewRoster parses a roster file and compares it with the local's roster.
// The error is a rostercsv error when the file cannot be read as a roster.
func (s *Store) PreviewRoster(ctx context.Context, localID int64, content []byte) (RosterPreview, error) {
	return s.previewRoster(ctx, s.db, localID, content)
}

func (s *Store) previewRoster(ctx context.Context, q sqlx.QueryerContext, localID int64, content []byte) (RosterPreview, error) {
	var p RosterPreview
	res, err := rostercsv.Parse(bytes.NewReader(content))
	if err != nil {
		return p, err
	}
	var current []RosterEntry
	err = sqlx.SelectContext(ctx, q, &current, `SELECT `+rosterColumns+` FROM roster_entries WHERE local_id = $1
		ORDER BY lower(last_name), lower(first_name), member_number`, localID)
	if err != nil {
		return p, err
	}
	byNumber := make(map[string]RosterEntry, len(current))
	for _, e := range current {
		byNumber[strings.ToLower(e.MemberNumber)] = e
	}
	seen := map[string]bool{}
	for _, n := range res.Skipped {
		seen[strings.ToLower(n)] = true
	}
	for _, r := range res.Rows {
		key := strings.ToLower(r.MemberNumber)
		seen[key] = true
		old, ok := byNumber[key]
		switch {
		case !ok:
			p.Add = append(p.Add, r)
		case old.FirstName != r.FirstName || old.LastName != r.LastName || old.Standing != r.Standing || (r.Email != "" && old.Email != r.Email):
			p.Update = append(p.Update, r)
			p.Before = append(p.Before, old)
		default:
			p.Unchanged++
		}
	}
	for _, e := range current {
		if !seen[strings.ToLower(e.MemberNumber)] && e.Standing == rostercsv.StandingGood {
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
	var p RosterPreview
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		c, p, err = s.applyRoster(ctx, tx, localID, actorID, content, nil)
		return err
	})
	return c, p, err
}

// applyRoster compares and writes inside tx; details are added to the audit entry.
func (s *Store) applyRoster(ctx context.Context, tx *sqlx.Tx, localID, actorID int64, content []byte, details map[string]any) (RosterCounts, RosterPreview, error) {
	var c RosterCounts
	// Serialise imports of one local so two officers cannot interleave, and
	// compare with the roster only once no other import can change it.
	if _, err := tx.ExecContext(ctx, `SELECT id FROM locals WHERE id = $1 FOR UPDATE`, localID); err != nil {
		return c, RosterPreview{}, err
	}
	p, err := s.previewRoster(ctx, tx, localID, content)
	if err != nil {
		return c, p, err
	}
	// Whole columns at a time: a roster of 50,000 members is three statements.
	var add rosterColumnsOf
	for _, r := range p.Add {
		add.append(0, r)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO roster_entries (local_id, member_number, first_name, last_name, email, standing)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
		localID, pq.Array(add.number), pq.Array(add.first), pq.Array(add.last), pq.Array(add.email), pq.Array(add.standing)); err != nil {
		return c, p, err
	}
	// Updates go by id: the file may write a member number in another case.
	var upd rosterColumnsOf
	for i, r := range p.Update {
		upd.append(p.Before[i].ID, r)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE roster_entries r SET first_name = u.first_name, last_name = u.last_name,
			email = CASE WHEN u.email = '' THEN r.email ELSE u.email END, standing = u.standing, updated_at = now()
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, first_name, last_name, email, standing)
		WHERE r.id = u.id`,
		pq.Array(upd.id), pq.Array(upd.first), pq.Array(upd.last), pq.Array(upd.email), pq.Array(upd.standing)); err != nil {
		return c, p, err
	}
	lapse := make([]int64, len(p.Lapse))
	for i, e := range p.Lapse {
		lapse[i] = e.ID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE roster_entries SET standing = 'lapsed', updated_at = now() WHERE id = ANY($1::bigint[])`, pq.Array(lapse)); err != nil {
		return c, p, err
	}
	c = RosterCounts{Added: len(p.Add), Updated: len(p.Update), Unchanged: p.Unchanged, Lapsed: len(p.Lapse), Errors: len(p.Errors)}
	d := map[string]any{"added": c.Added, "updated": c.Updated, "unchanged": c.Unchanged, "lapsed": c.Lapsed, "errors": c.Errors}
	for k, v := range details {
		d[k] = v
	}
	return c, p, s.Audit(ctx, tx, actorID, "roster_imported", "local", localID, d)
}

// rosterColumnsOf holds roster lines column by column, for unnest.
type rosterColumnsOf struct {
	id                                   []int64
	number, first, last, email, standing []string
}

func (c *rosterColumnsOf) append(id int64, r rostercsv.Row) {
	c.id = append(c.id, id)
	c.number = append(c.number, r.MemberNumber)
	c.first = append(c.first, r.FirstName)
	c.last = append(c.last, r.LastName)
	c.email = append(c.email, r.Email)
	c.standing = append(c.standing, r.Standing)
}

// Why a kept upload cannot be applied.
var (
	ErrUploadApplied = fmt.Errorf("this roster file has been applied already: %w", ErrConflict)
	ErrUploadExpired = fmt.Errorf("this roster file was uploaded more than a day ago: %w", ErrConflict)
)

// uploadLifetime is how long an upload can be applied after its preview.
const uploadLifetime = `interval '1 day'`

// SaveRosterUpload keeps an uploaded file between its preview and
// confirmation, and drops this local's uploads that can no longer be applied.
func (s *Store) SaveRosterUpload(ctx context.Context, localID, actorID int64, filename string, content []byte) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM roster_imports WHERE local_id = $1 AND applied_at IS NULL
			AND created_at <= now() - `+uploadLifetime, localID); err != nil {
			return err
		}
		return tx.GetContext(ctx, &id, `INSERT INTO roster_imports (local_id, uploaded_by, filename, content) VALUES ($1,$2,$3,$4) RETURNING id`,
			localID, actorID, filename, content)
	})
	return id, err
}

// RosterUpload is a roster file kept between its preview and confirmation.
type RosterUpload struct {
	ID         int64      `db:"id"`
	LocalID    int64      `db:"local_id"`
	UploadedBy int64      `db:"uploaded_by"`
	Filename   string     `db:"filename"`
	Content    []byte     `db:"content"`
	CreatedAt  time.Time  `db:"created_at"`
	AppliedAt  *time.Time `db:"applied_at"`
	Expired    bool       `db:"expired"`
}

// Usable says why the upload cannot be applied (ErrUploadApplied,
// ErrUploadExpired), or nil.
func (u RosterUpload) Usable() error {
	switch {
	case u.AppliedAt != nil:
		return ErrUploadApplied
	case u.Expired:
		return ErrUploadExpired
	}
	return nil
}

const rosterUploadColumns = `id, local_id, uploaded_by, filename, content, created_at, applied_at,
	created_at <= now() - ` + uploadLifetime + ` AS expired`

// RosterUploadByID loads one of a local's uploads; ErrNotFound when the local has none with that id.
func (s *Store) RosterUploadByID(ctx context.Context, localID, id int64) (RosterUpload, error) {
	var u RosterUpload
	err := s.db.GetContext(ctx, &u, `SELECT `+rosterUploadColumns+` FROM roster_imports WHERE id = $1 AND local_id = $2`, id, localID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// ApplyRosterUpload applies a kept upload in one transaction with marking it
// applied, so an upload confirmed twice (a double click, two officers) is
// applied once: the second gets ErrUploadApplied. The file's content is not
// kept once applied.
func (s *Store) ApplyRosterUpload(ctx context.Context, localID, id, actorID int64) (RosterCounts, RosterPreview, error) {
	var c RosterCounts
	var p RosterPreview
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var u RosterUpload
		// The row lock makes a second confirmation wait for the first and
		// then see it applied.
		err := tx.GetContext(ctx, &u, `SELECT `+rosterUploadColumns+` FROM roster_imports WHERE id = $1 AND local_id = $2 FOR UPDATE`, id, localID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := u.Usable(); err != nil {
			return err
		}
		if c, p, err = s.applyRoster(ctx, tx, localID, actorID, u.Content, map[string]any{"upload_id": u.ID, "filename": u.Filename}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE roster_imports SET applied_at = now(), content = ''::bytea WHERE id = $1`, id)
		return err
	})
	return c, p, err
}

// AppliedUploadCounts says what applying one of a local's uploads did, from
// the audit log; ErrNotFound when it has not been applied.
func (s *Store) AppliedUploadCounts(ctx context.Context, localID, id int64) (RosterCounts, error) {
	var c RosterCounts
	var details []byte
	err := s.db.GetContext(ctx, &details, `SELECT details FROM audit_log
		WHERE entity = 'local' AND entity_id = $1 AND action = 'roster_imported' AND details->>'upload_id' = $2::text
		ORDER BY id LIMIT 1`, localID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(details, &c)
}

// RosterStats counts a local's roster and says when it was last imported.
type RosterStats struct {
	Total, Good, Lapsed int
	LastImportAt        *time.Time
	LastImportBy        string
}

// RosterStatsFor counts a local's roster.
func (s *Store) RosterStatsFor(ctx context.Context, localID int64) (RosterStats, error) {
	var st RosterStats
	err := s.db.QueryRowxContext(ctx, `SELECT count(*), count(*) FILTER (WHERE standing = 'good'), count(*) FILTER (WHERE standing = 'lapsed')
		FROM roster_entries WHERE local_id = $1`, localID).Scan(&st.Total, &st.Good, &st.Lapsed)
	if err != nil {
		return st, err
	}
	var last struct {
		At   time.Time `db:"created_at"`
		Name *string   `db:"name"`
	}
	err = s.db.GetContext(ctx, &last, `SELECT a.created_at, u.name FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
		WHERE a.entity = 'local' AND a.entity_id = $1 AND a.action = 'roster_imported' ORDER BY a.created_at DESC, a.id DESC LIMIT 1`, localID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return st, nil
	case err != nil:
		return st, err
	}
	st.LastImportAt = &last.At
	if last.Name != nil {
		st.LastImportBy = *last.Name
	}
	return st, nil
}

// SearchRoster finds a local's members whose member number starts with q or
// whose name or email contains it, by last name; standing, when not empty,
// keeps only members in that standing. At most limit are returned.
func (s *Store) SearchRoster(ctx context.Context, localID int64, q, standing string, limit int) ([]RosterEntry, error) {
	q = strings.TrimSpace(q)
	es := []RosterEntry{}
	err := s.db.SelectContext(ctx, &es, `SELECT `+rosterColumns+` FROM roster_entries
		WHERE local_id = $1 AND ($4 = '' OR standing = $4)
			AND ($2 = '' OR member_number ILIKE $3 || '%' ESCAPE '\' OR (first_name || ' ' || last_name) ILIKE '%' || $3 || '%' ESCAPE '\'
				OR (last_name || ', ' || first_name) ILIKE '%' || $3 || '%' ESCAPE '\' OR email ILIKE '%' || $3 || '%' ESCAPE '\')
		ORDER BY lower(last_name), lower(first_name), member_number LIMIT $5`, localID, q, escapeLike(q), standing, limit)
	return es, err
}
