package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	_ "time/tzdata" // conference time zones must load on hosts without tzdata
)

// Store reads and writes Convene's records.
type Store struct {
	db *sqlx.DB
	// stmts holds the busiest queries as prepared statements, keyed by their
	// text. database/sql prepares each one once per connection; lib/pq then
	// runs it in one round trip, where an unprepared query with arguments
	// takes two (parse and describe, then bind and execute).
	stmts     sync.Map
	preparing sync.Map // queries being prepared in the background
	scanners  scannerTokens
	scanQueue scanQueue
	// leftOpen spaces out the retries of checkout sessions that would not
	// close (closeLeftCheckouts).
	leftOpen retryBackoff
}

// NewStore wraps a database handle.
func NewStore(db *sqlx.DB) *Store { return &Store{db: db} }

// DB returns the underlying handle, for health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// stmt returns query's prepared statement, bound to tx unless tx is nil, or
// nil when it is not prepared yet and the caller should run the query as is.
// Only constant query text belongs here: each distinct text stays prepared
// for the life of the Store.
func (s *Store) stmt(ctx context.Context, tx *sqlx.Tx, query string) *sqlx.Stmt {
	if v, ok := s.stmts.Load(query); ok {
		if tx != nil {
			return tx.StmtxContext(ctx, v.(*sqlx.Stmt))
		}
		return v.(*sqlx.Stmt)
	}
	if tx == nil {
		// Holding no connection, waiting for one to prepare on is safe.
		if st := s.prepare(ctx, query); st != nil {
			return st
		}
		return nil
	}
	// Preparing takes a connection of its own. Inside a transaction that
	// could wait forever for a pool held by transactions doing the same, so
	// it happens in the background and this call goes unprepared.
	if _, busy := s.preparing.LoadOrStore(query, true); !busy {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s.prepare(ctx, query)
			s.preparing.Delete(query)
		}()
	}
	return nil
}

// prepare prepares query on the pool and keeps it; nil when that failed, in
// which case running the query unprepared reports what is wrong.
func (s *Store) prepare(ctx context.Context, query string) *sqlx.Stmt {
	st, err := s.db.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	if v, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sqlx.Stmt)
	}
	return st
}

// get is sqlx's GetContext through a prepared statement, in tx or on the pool.
func (s *Store) get(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	if tx != nil {
		return tx.GetContext(ctx, dest, query, args...)
	}
	return s.db.GetContext(ctx, dest, query, args...)
}

// sel is sqlx's SelectContext through a prepared statement.
func (s *Store) sel(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	if tx != nil {
		return tx.SelectContext(ctx, dest, query, args...)
	}
	return s.db.SelectContext(ctx, dest, query, args...)
}

// exec is ExecContext through a prepared statement.
func (s *Store) exec(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if tx != nil {
		return tx.ExecContext(ctx, query, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

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
