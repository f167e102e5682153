package models

import (
	"context"
	"strings"
)

// SearchUsers finds accounts whose email or name contains q, staff first,
// then by name; an empty query lists them all. At most limit are returned.
func (s *Store) SearchUsers(ctx context.Context, q string, limit int) ([]User, error) {
	q = strings.TrimSpace(q)
	us := []User{}
	err := s.db.SelectContext(ctx, &us, `SELECT `+userColumns+` FROM users
		WHERE $1 = '' OR email ILIKE '%' || $2 || '%' ESCAPE '\' OR name ILIKE '%' || $2 || '%' ESCAPE '\'
		ORDER BY is_admin DESC, is_staff DESC, lower(name), email LIMIT $3`, q, escapeLike(q), limit)
	return us, err
}

// CountUsers says how many accounts there are.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`)
	return n, err
}
