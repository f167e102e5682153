package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Local is a local union.
type Local struct {
	ID        int64     `db:"id"`
	Number    string    `db:"number"`
	Name      string    `db:"name"`
	Union     string    `db:"union_name"`
	Region    string    `db:"region"`
	City      string    `db:"city"`
	CreatedAt time.Time `db:"created_at"`
}

const localColumns = `id, number, name, union_name, region, city, created_at`

// LocalInput is a local as typed into a form or sent to the API.
type LocalInput struct {
	Number, Name, Union, Region, City string
}

// ErrNoAccount means no user has the email address given; errors.Is(err,
// ErrNotFound) holds too.
var ErrNoAccount = fmt.Errorf("no account uses this email address: %w", ErrNotFound)

// CreateLocal adds a local union. A number another local has is a
// *ValidationError for which errors.Is(err, ErrDuplicate) holds.
func (s *Store) CreateLocal(ctx context.Context, in LocalInput) (Local, error) {
	return s.createLocal(ctx, s.db, in)
}

// CreateLocalBy adds a local union and records in the audit log who did.
func (s *Store) CreateLocalBy(ctx context.Context, actorID int64, in LocalInput) (Local, error) {
	var l Local
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if l, err = s.createLocal(ctx, tx, in); err != nil {
			return err
		}
		return s.Audit(ctx, tx, actorID, "local_created", "local", l.ID, map[string]any{"number": l.Number, "name": l.Name})
	})
	return l, err
}

func (s *Store) createLocal(ctx context.Context, q sqlx.QueryerContext, in LocalInput) (Local, error) {
	p := Problems{}
	l := Local{Number: strings.TrimSpace(in.Number), Name: strings.TrimSpace(in.Name), Union: strings.TrimSpace(in.Union),
		Region: strings.TrimSpace(in.Region), City: strings.TrimSpace(in.City)}
	if l.Number == "" || len(l.Number) > 20 || strings.ContainsAny(l.Number, "/?#% ") {
		p.Add("number", "Enter the local's number, like 4121.")
	}
	if l.Name == "" {
		p.Add("name", "Enter the local's name.")
	}
	if err := p.Err(); err != nil {
		return l, err
	}
	err := sqlx.GetContext(ctx, q, &l, `INSERT INTO locals (number, name, union_name, region, city) VALUES ($1,$2,$3,$4,$5)
		RETURNING `+localColumns, l.Number, l.Name, l.Union, l.Region, l.City)
	if isUniqueViolation(err, "") {
		return l, fmt.Errorf("%w: %w", ErrDuplicate, &ValidationError{Fields: map[string]string{"number": "A local with this number already exists."}})
	}
	return l, err
}

// LocalByNumber loads a local by its number.
func (s *Store) LocalByNumber(ctx context.Context, number string) (Local, error) {
	var l Local
	err := s.db.GetContext(ctx, &l, `SELECT `+localColumns+` FROM locals WHERE number = $1`, strings.TrimSpace(number))
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	return l, err
}

// Locals lists every local by number.
func (s *Store) Locals(ctx context.Context) ([]Local, error) {
	var ls []Local
	err := s.db.SelectContext(ctx, &ls, `SELECT `+localColumns+` FROM locals ORDER BY number`)
	return ls, err
}

// AddOfficer makes a user an officer of a local; doing it twice is harmless.
func (s *Store) AddOfficer(ctx context.Context, userID, localID int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO officers (user_id, local_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, localID)
	return err
}

// OfficerLocals lists the locals a user is an officer of.
func (s *Store) OfficerLocals(ctx context.Context, userID int64) ([]Local, error) {
	var ls []Local
	err := s.sel(ctx, nil, &ls, `SELECT l.id, l.number, l.name, l.union_name, l.region, l.city, l.created_at
		FROM locals l JOIN officers o ON o.local_id = l.id WHERE o.user_id = $1 ORDER BY l.number`, userID)
	return ls, err
}

// SearchLocals finds locals by number (from its start) or by name, union,
// region or city (anywhere in them), exact numbers first; an empty query lists
// them all. At most limit are returned.
func (s *Store) SearchLocals(ctx context.Context, q string, limit int) ([]Local, error) {
	q = strings.TrimSpace(q)
	ls := []Local{}
	err := s.db.SelectContext(ctx, &ls, `SELECT `+localColumns+` FROM locals
		WHERE $1 = '' OR number ILIKE $2 || '%' ESCAPE '\'
			OR name ILIKE '%' || $2 || '%' ESCAPE '\' OR union_name ILIKE '%' || $2 || '%' ESCAPE '\'
			OR region ILIKE '%' || $2 || '%' ESCAPE '\' OR city ILIKE '%' || $2 || '%' ESCAPE '\'
		ORDER BY lower(number) = lower($1) DESC, length(number), number LIMIT $3`, q, escapeLike(q), limit)
	return ls, err
}

// escapeLike makes s match itself literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// LocalSummary is a local with how many officers and roster members it has.
type LocalSummary struct {
	Local
	Officers int `db:"officers"`
	Members  int `db:"members"`
	Lapsed   int `db:"lapsed"`
}

// LocalSummaries lists every local by number with its counts.
func (s *Store) LocalSummaries(ctx context.Context) ([]LocalSummary, error) {
	ls := []LocalSummary{}
	err := s.db.SelectContext(ctx, &ls, `SELECT l.id, l.number, l.name, l.union_name, l.region, l.city, l.created_at,
			(SELECT count(*) FROM officers o WHERE o.local_id = l.id) AS officers,
			(SELECT count(*) FROM roster_entries r WHERE r.local_id = l.id) AS members,
			(SELECT count(*) FROM roster_entries r WHERE r.local_id = l.id AND r.standing = 'lapsed') AS lapsed
		FROM locals l ORDER BY length(l.number), l.number`)
	return ls, err
}

// LocalOfficers lists the officers of a local by name.
func (s *Store) LocalOfficers(ctx context.Context, localID int64) ([]User, error) {
	us := []User{}
	err := s.db.SelectContext(ctx, &us, `SELECT u.id, u.email, u.name, u.password_hash, u.is_staff, u.is_admin, u.created_at
		FROM users u JOIN officers o ON o.user_id = u.id WHERE o.local_id = $1 ORDER BY lower(u.name), u.email`, localID)
	return us, err
}

// AppointOfficer makes the user with email an officer of a local and records
// who did it. It returns the user and whether they were not an officer of it
// already (appointing twice changes nothing and is not recorded again).
// ErrNoAccount when no user has the email.
func (s *Store) AppointOfficer(ctx context.Context, actorID, localID int64, email string) (User, bool, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return u, false, ErrNoAccount
	}
	if err != nil {
		return u, false, err
	}
	added := false
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO officers (user_id, local_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, u.ID, localID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		added = true
		return s.Audit(ctx, tx, actorID, "officer_added", "local", localID, map[string]any{"user_id": u.ID, "email": u.Email})
	})
	return u, added, err
}

// RemoveOfficer ends a user's office in a local and records who did it;
// ErrNotFound when they are not an officer of it.
func (s *Store) RemoveOfficer(ctx context.Context, actorID, localID, userID int64) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		var email string
		err := tx.GetContext(ctx, &email, `DELETE FROM officers o USING users u
			WHERE o.user_id = u.id AND o.local_id = $1 AND o.user_id = $2 RETURNING u.email`, localID, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, actorID, "officer_removed", "local", localID, map[string]any{"user_id": userID, "email": email})
	})
}
