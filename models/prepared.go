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
	key := preparedKey{s.db, query}
	v, ok := prepared.Load(key)
	if !ok {
		st, err := s.db.PreparexContext(ctx, query)
		if err != nil {
			return s.db.GetContext(ctx, dest, query, args...)
		}
		if v, ok = prepared.LoadOrStore(key, st); ok {
			st.Close()
		}
	}
	return v.(*sqlx.Stmt).GetContext(ctx, dest, args...)
}
