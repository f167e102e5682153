package models

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// The check-in desk's busiest statements run prepared: database/sql prepares
// each once per pooled connection, PostgreSQL then reuses its plan, and
// lib/pq runs it in one round trip, where an unprepared query with arguments
// is parsed and planned anew in two. Only constant query text belongs here:
// each stays prepared for the life of the database handle.
var prepared sync.Map // preparedKey -> *sqlx.Stmt

type preparedKey struct {
	db    *sqlx.DB
	query string
}

// getPrepared is GetContext through query's prepared statement; when it
// cannot be prepared, the query runs as is and reports what is wrong.
func (s *Store) getPrepared(ctx context.Context, dest any, query string, args ...any) error {
	st := s.prepared(ctx, query)
	if st == nil {
		return s.db.GetContext(ctx, dest, query, args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// selectPrepared is SelectContext through query's prepared statement, as
// getPrepared is GetContext.
func (s *Store) selectPrepared(ctx context.Context, dest any, query string, args ...any) error {
	st := s.prepared(ctx, query)
	if st == nil {
		return s.db.SelectContext(ctx, dest, query, args...)
	}
	return st.SelectContext(ctx, dest, args...)
}

// prepared returns query's prepared statement, or nil when it cannot be
// prepared.
func (s *Store) prepared(ctx context.Context, query string) *sqlx.Stmt {
	key := preparedKey{s.db, query}
	v, ok := prepared.Load(key)
	if !ok {
		st, err := s.db.PreparexContext(ctx, query)
		if err != nil {
			return nil
		}
		if v, ok = prepared.LoadOrStore(key, st); ok {
			st.Close()
		}
	}
	return v.(*sqlx.Stmt)
}
