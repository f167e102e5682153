package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	_ "time/tzdata" // conference time zones must load on hosts without tzdata
)

// Store reads and writes Convene's records.
type Store struct {
	db *sqlx.DB
}

// NewStore wraps a database handle.
func NewStore(db *sqlx.DB) *Store { return &Store{db: db} }

// DB returns the underlying handle, for health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation,
// optionally on the named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		return false
	}
	return constraint == "" || pqErr.Constraint == constraint
}

// newToken returns a random URL-safe token and the SHA-256 stored in its place.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}
