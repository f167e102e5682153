package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// Session lifetimes: a session ends 30 days after sign-in, or after 3 days unused.
const (
	SessionAbsolute = 30 * 24 * time.Hour
	SessionIdle     = 72 * time.Hour
	// sessionTouchEvery limits last_seen_at writes to one a minute per session.
	sessionTouchEvery = time.Minute
)

// CreateSession starts a session for a user and returns the cookie's token.
func (s *Store) CreateSession(ctx context.Context, userID int64) (string, error) {
	tok, hash := newToken()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		hash, userID, time.Now().Add(SessionAbsolute))
	return tok, err
}

// SessionUser returns the user a live session token belongs to and refreshes
// the session's idle clock. Expired or unknown tokens give ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, token string) (User, error) {
	var row struct {
		User
		LastSeen time.Time `db:"last_seen_at"`
	}
	hash := hashToken(token)
	err := s.get(ctx, nil, &row, `SELECT u.id, u.email, u.name, u.password_hash, u.is_staff, u.is_admin, u.created_at, s.last_seen_at,
		EXISTS (SELECT 1 FROM officers o WHERE o.user_id = u.id) AS is_officer
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval`,
		hash, SessionIdle.String())
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	if time.Since(row.LastSeen) > sessionTouchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1`, hash); err != nil {
			return User{}, err
		}
	}
	row.User.officerKnown = true
	return row.User, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token))
	return err
}

// Sign-in throttling: failures counted over a window, per account and per address.
const (
	ThrottleWindow     = 15 * time.Minute
	ThrottlePerAccount = 5
	ThrottlePerAddress = 30
)

// Authenticate checks an email and password, refusing with ErrThrottled once
// the account or the address has failed too often within ThrottleWindow.
func (s *Store) Authenticate(ctx context.Context, email, password, addr string) (User, error) {
	email = NormalizeEmail(email)
	accountKey, addrKey := "email:"+email, "ip:"+addr
	var counts struct {
		Account int `db:"account"`
		Address int `db:"address"`
	}
	err := s.db.GetContext(ctx, &counts, `SELECT
		count(*) FILTER (WHERE key = $1) AS account,
		count(*) FILTER (WHERE key = $2) AS address
		FROM login_failures WHERE key IN ($1, $2) AND failed_at > now() - $3::interval`,
		accountKey, addrKey, ThrottleWindow.String())
	if err != nil {
		return User{}, err
	}
	if counts.Account >= ThrottlePerAccount || counts.Address >= ThrottlePerAddress {
		return User{}, ErrThrottled
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	// Hash even for unknown accounts so timing does not reveal which exist.
	ok := VerifyPassword(u.PasswordHash, password)
	if err == nil && u.PasswordHash == "" {
		ok = false
	}
	if errors.Is(err, ErrNotFound) {
		VerifyPassword(dummyHash, password)
		ok = false
	}
	if !ok {
		_, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (key) VALUES ($1), ($2)`, accountKey, addrKey)
		if err != nil {
			return User{}, err
		}
		return User{}, ErrBadCredential
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE key = $1 OR failed_at < now() - $2::interval`, accountKey, ThrottleWindow.String())
	return u, err
}

var dummyHash = HashPassword("not a real password")

// Password reset links are valid for one hour and only once.
const ResetLifetime = time.Hour

// CreatePasswordReset returns a one-time reset token for the account with
// this email, or ErrNotFound when there is none.
func (s *Store) CreatePasswordReset(ctx context.Context, email string) (User, string, error) {
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return u, "", err
	}
	tok, hash := newToken()
	_, err = s.db.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		hash, u.ID, time.Now().Add(ResetLifetime))
	return u, tok, err
}

// ResetPassword sets a new password with a reset token, uses the token up and
// ends every session of the account.
func (s *Store) ResetPassword(ctx context.Context, token, password string) error {
	p := Problems{}
	checkPassword(p, "password", password)
	if err := p.Err(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		var userID int64
		err := tx.GetContext(ctx, &userID, `UPDATE password_resets SET used_at = now()
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id`, hashToken(token))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, userID, HashPassword(password)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		return err
	})
}
