package models

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"crypto/rand"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/argon2"
)

// User is an account. Every user is a member; staff and admin are flags.
type User struct {
	ID           int64  `db:"id" json:"-"`
	Email        string `db:"email" json:"email"`
	Name         string `db:"name" json:"name"`
	PasswordHash string `db:"password_hash" json:"-"`
	IsStaff      bool   `db:"is_staff" json:"staff"`
	IsAdmin      bool   `db:"is_admin" json:"admin"`
	// IsOfficer is filled only by SessionUser, for the navigation.
	IsOfficer bool      `db:"is_officer" json:"-"`
	CreatedAt time.Time `db:"created_at" json:"-"`
	// officerKnown says IsOfficer was filled, so ActorFor can trust a false.
	officerKnown bool
}

// Password length limits; argon2id has no 72-byte limit, unlike bcrypt.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

const userColumns = `id, email, name, password_hash, is_staff, is_admin, created_at`

// NormalizeEmail trims and lower-cases an address for lookups.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkPassword(p Problems, field, password string) {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		p.Add(field, "Use at least 8 characters.")
	case n > MaxPasswordLen:
		p.Add(field, "Use at most 128 characters.")
	}
}

// ValidEmail reports whether s looks like one plain email address.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

// CreateUser signs up a member after validating email, name and password.
func (s *Store) CreateUser(ctx context.Context, email, name, password string) (User, error) {
	email = NormalizeEmail(email)
	name = strings.TrimSpace(name)
	p := Problems{}
	if !ValidEmail(email) {
		p.Add("email", "Enter an email address like name@example.org.")
	}
	if name == "" {
		p.Add("name", "Enter your name.")
	} else if utf8.RuneCountInString(name) > 200 {
		p.Add("name", "Use at most 200 characters.")
	}
	checkPassword(p, "password", password)
	if err := p.Err(); err != nil {
		return User{}, err
	}
	var u User
	err := s.db.GetContext(ctx, &u, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
		RETURNING `+userColumns, email, name, HashPassword(password))
	if isUniqueViolation(err, "users_email_key") {
		return User{}, &ValidationError{Fields: map[string]string{"email": "An account with this email already exists. Sign in, or reset your password."}}
	}
	return u, err
}

// UserByID loads one user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// UserByEmail loads one user by address, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = $1`, NormalizeEmail(email))
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// SetRoles sets the staff and admin flags of a user.
func (s *Store) SetRoles(ctx context.Context, id int64, staff, admin bool) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET is_staff = $2, is_admin = $3, updated_at = now() WHERE id = $1`, id, staff || admin, admin)
	return err
}

// ChangePassword replaces a user's password after checking the current one,
// and ends every other session of theirs.
func (s *Store) ChangePassword(ctx context.Context, u User, current, next string, keepSession string) error {
	p := Problems{}
	if !VerifyPassword(u.PasswordHash, current) {
		p.Add("current_password", "This is not your current password.")
	}
	checkPassword(p, "new_password", next)
	if err := p.Err(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, u.ID, HashPassword(next)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, u.ID, hashToken(keepSession))
		return err
	})
}

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an encoded argon2id hash with a random salt.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword checks password against an encoded argon2id hash in constant time.
func VerifyPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// CreateAdmin makes an admin account, or makes an existing account admin and
// sets its password: running it twice is safe.
func (s *Store) CreateAdmin(ctx context.Context, email, name, password string) (User, error) {
	u, err := s.CreateUser(ctx, email, name, password)
	var ve *ValidationError
	if errors.As(err, &ve) && len(ve.Fields) == 1 && strings.Contains(ve.Fields["email"], "already exists") {
		u, err = s.UserByEmail(ctx, email)
		if err == nil {
			_, err = s.db.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, u.ID, HashPassword(password))
		}
	}
	if err != nil {
		return u, err
	}
	if err := s.SetRoles(ctx, u.ID, true, true); err != nil {
		return u, err
	}
	return s.UserByID(ctx, u.ID)
}
