package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"

	"convene/migrations"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
)

// DefaultMaxConns is how many connections to PostgreSQL Open allows: four per
// CPU. More connections than a server can run at once only queue inside it,
// where they cost context switches and wait on each other's locks: on the
// 2-CPU bench machine, 32 connections gave the registration rush a p99 of
// 55 ms and 8 gave it 35 ms, at a slightly higher rate (docs/operations.md).
func DefaultMaxConns() int { return 4 * runtime.NumCPU() }

// Open connects to the database named in dsn, creating it first if it does not
// exist, and migrates it to the newest schema, with DefaultMaxConns
// connections at most (change it with SetMaxOpenConns and SetMaxIdleConns).
func Open(ctx context.Context, dsn string, log *slog.Logger) (*sqlx.DB, error) {
	if err := CreateDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(DefaultMaxConns())
	db.SetMaxIdleConns(DefaultMaxConns())
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	if err := Migrate(db.DB, log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrate applies every pending embedded migration.
func Migrate(db *sql.DB, log *slog.Logger) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return err
	}
	results, err := provider.Up(context.Background())
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path)
		}
	}
	return nil
}

// CreateDatabase creates the database named in dsn when it does not exist,
// connecting to the server's "postgres" database to do so.
func CreateDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return fmt.Errorf("DATABASE_URL names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("database server unreachable at %s: %w", u.Host, err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	return err
}
