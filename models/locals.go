package models

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
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

// CreateLocal adds a local union.
func (s *Store) CreateLocal(ctx context.Context, in LocalInput) (Local, error) {
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
	err := s.db.GetContext(ctx, &l, `INSERT INTO locals (number, name, union_name, region, city) VALUES ($1,$2,$3,$4,$5)
		RETURNING `+localColumns, l.Number, l.Name, l.Union, l.Region, l.City)
	if isUniqueViolation(err, "") {
		return l, &ValidationError{Fields: map[string]string{"number": "A local with this number already exists."}}
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
