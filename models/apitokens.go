package models

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// APIToken is a personal token a staff member made for a scanner device. The
// token itself is never stored, only its SHA-256.
type APIToken struct {
	ID         int64      `db:"id"`
	UserID     int64      `db:"user_id"`
	UserName   string     `db:"user_name"`
	Name       string     `db:"name"`
	Hint       string     `db:"hint"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// Token lookups are throttled per address: after TokenFailuresPerAddress
// unknown tokens within ThrottleWindow, the address gets ErrThrottled.
// Revoked tokens do not count: they are stale devices, not guesses.
const (
	TokenFailuresPerAddress = 30
	apiTokenPrefix          = "cvt_"
	// tokenTouchEvery limits last_used_at writes to one a minute per token.
	tokenTouchEvery = time.Minute
)

// CreateAPIToken makes a named token for a staff member and returns it with
// the token's text, which is shown once and never again.
func (s *Store) CreateAPIToken(ctx context.Context, u User, name string) (APIToken, string, error) {
	if !u.IsStaff {
		return APIToken{}, "", ErrForbidden
	}
	name = strings.TrimSpace(name)
	p := Problems{}
	if name == "" {
		p.Add("name", "Name the device, so you know which token to revoke.")
	} else if utf8.RuneCountInString(name) > 100 {
		p.Add("name", "Use at most 100 characters.")
	}
	if err := p.Err(); err != nil {
		return APIToken{}, "", err
	}
	raw, _ := newToken()
	tok := apiTokenPrefix + raw
	var t APIToken
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &t, `INSERT INTO api_tokens (user_id, name, token_hash, hint) VALUES ($1, $2, $3, $4)
			RETURNING id, user_id, name, hint, created_at, last_used_at, revoked_at`,
			u.ID, name, hashToken(tok), tok[len(tok)-4:]); err != nil {
			return err
		}
		return s.Audit(ctx, tx, u.ID, "api_token_created", "api_token", t.ID, map[string]any{"name": name})
	})
	t.UserName = u.Name
	return t, tok, err
}

// APITokens lists every staff token, live ones first, newest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var ts []APIToken
	err := s.db.SelectContext(ctx, &ts, `SELECT t.id, t.user_id, u.name AS user_name, t.name, t.hint, t.created_at, t.last_used_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC`)
	return ts, err
}

// RevokeAPIToken stops a token from working; any staff member may revoke any
// token (a lost scanner is everyone's problem). Revoking twice is ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, u User) (APIToken, error) {
	if !u.IsStaff {
		return APIToken{}, ErrForbidden
	}
	var t APIToken
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t, `UPDATE api_tokens SET revoked_at = now(), revoked_by = $2
			WHERE id = $1 AND revoked_at IS NULL RETURNING id, user_id, name, hint, created_at, last_used_at, revoked_at`, id, u.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, u.ID, "api_token_revoked", "api_token", t.ID, map[string]any{"name": t.Name})
	})
	if err == nil {
		// A revoked token never checks anyone in anyway: CheckIn looks
		// again in its own statement, and only CheckIn's route reads the
		// remembered tokens. Forgetting them here saves this process that
		// statement's refusal. A lookup that ran just before the revocation
		// may still store the token again afterwards; CheckIn refuses it
		// all the same.
		s.scanners.mu.Lock()
		s.scanners.users = nil
		s.scanners.mu.Unlock()
	}
	return t, err
}

// TokenUser returns the staff member a bearer token belongs to, in one round
// trip that also counts the address's recent failures. Unknown tokens are
// recorded against addr; after TokenFailuresPerAddress of them within
// ThrottleWindow every lookup from addr gets ErrThrottled. Revoked tokens and
// tokens of people who are no longer staff give ErrNotFound.
func (s *Store) TokenUser(ctx context.Context, token, addr string) (User, error) {
	key := "token:" + addr
	var row struct {
		Failures  int        `db:"failures"`
		TokenID   *int64     `db:"token_id"`
		LastUsed  *time.Time `db:"last_used_at"`
		Revoked   bool       `db:"revoked"`
		ID        *int64     `db:"id"`
		Email     *string    `db:"email"`
		Name      *string    `db:"name"`
		IsStaff   *bool      `db:"is_staff"`
		IsAdmin   *bool      `db:"is_admin"`
		IsOfficer *bool      `db:"is_officer"`
		CreatedAt *time.Time `db:"created_at"`
	}
	err := s.get(ctx, nil, &row, `SELECT f.failures, t.id AS token_id, t.last_used_at, t.revoked_at IS NOT NULL AS revoked,
		u.id, u.email, u.name, u.is_staff, u.is_admin, u.created_at,
		EXISTS (SELECT 1 FROM officers o WHERE o.user_id = u.id) AS is_officer
		FROM (SELECT count(*) AS failures FROM login_failures WHERE key = $2 AND failed_at > now() - $3::interval) f
		LEFT JOIN api_tokens t ON t.token_hash = $1
		LEFT JOIN users u ON u.id = t.user_id`, hashToken(token), key, ThrottleWindow.String())
	if err != nil {
		return User{}, err
	}
	if row.Failures >= TokenFailuresPerAddress {
		return User{}, ErrThrottled
	}
	if row.TokenID == nil {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (key) VALUES ($1)`, key); err != nil {
			return User{}, err
		}
		return User{}, ErrNotFound
	}
	if row.Revoked || row.ID == nil || !*row.IsStaff {
		return User{}, ErrNotFound
	}
	if row.LastUsed == nil || time.Since(*row.LastUsed) > tokenTouchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, *row.TokenID); err != nil {
			return User{}, err
		}
	}
	return User{ID: *row.ID, Email: *row.Email, Name: *row.Name, IsStaff: *row.IsStaff, IsAdmin: *row.IsAdmin,
		IsOfficer: *row.IsOfficer, CreatedAt: *row.CreatedAt}, nil
}

// LooksLikeAPIToken reports whether s has the shape of a token CreateAPIToken
// makes, so malformed ones are refused without a lookup.
func LooksLikeAPIToken(s string) bool {
	return strings.HasPrefix(s, apiTokenPrefix) && len(s) == len(apiTokenPrefix)+43
}

// scannerTokens remembers the staff member of each bearer token that
// ScannerUser found, for rememberTokensFor: a desk scanning all day looks its
// token up once a minute, not once a scan.
type scannerTokens struct {
	mu    sync.Mutex
	users map[string]rememberedToken // by token hash
}

type rememberedToken struct {
	user  User
	until time.Time
}

// rememberTokensFor is how long ScannerUser trusts a token it looked up
// without looking again; it is also how often last_used_at moves.
const rememberTokensFor = tokenTouchEvery

// maxRememberedTokens bounds the memory a flood of distinct valid tokens
// could take; past it, everything is forgotten and looked up again.
const maxRememberedTokens = 1000

// ScannerUser is TokenUser for a request whose action checks again, in its
// own statement, that the token still works and that addr is not throttled
// (CheckIn with the actor's Token and Addr set): a token it looked up in the
// last minute is answered from memory, saving a round trip per scan. A
// revoked token still never checks anyone in; it only gets as far as the
// check-in's statement, which refuses it.
func (s *Store) ScannerUser(ctx context.Context, token, addr string) (User, error) {
	key := string(hashToken(token))
	now := time.Now()
	s.scanners.mu.Lock()
	t, ok := s.scanners.users[key]
	s.scanners.mu.Unlock()
	if ok && now.Before(t.until) {
		return t.user, nil
	}
	u, err := s.TokenUser(ctx, token, addr)
	if err != nil {
		s.ForgetScanner(token)
		return u, err
	}
	s.scanners.mu.Lock()
	if s.scanners.users == nil || len(s.scanners.users) >= maxRememberedTokens {
		s.scanners.users = map[string]rememberedToken{}
	}
	s.scanners.users[key] = rememberedToken{user: u, until: now.Add(rememberTokensFor)}
	s.scanners.mu.Unlock()
	return u, nil
}

// ForgetScanner drops what ScannerUser remembers of token.
func (s *Store) ForgetScanner(token string) {
	s.scanners.mu.Lock()
	delete(s.scanners.users, string(hashToken(token)))
	s.scanners.mu.Unlock()
}
