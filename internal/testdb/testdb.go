// Package testdb gives each test a fresh PostgreSQL database built by the real
// migrations. It migrates one template database per set of migrations, under
// an advisory lock, and clones it per test with CREATE DATABASE ... TEMPLATE,
// which takes milliseconds.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"

	"convene/migrations"
	"convene/models"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ServerURL is the PostgreSQL server tests use: TEST_DATABASE_URL, or the
// local server that `make test` starts.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func withDB(server, name string) string {
	u, _ := url.Parse(server)
	u.Path = "/" + name
	return u.String()
}

// templateName names the template after a hash of the migrations, so a new
// migration gets a new template and old ones are never reused by mistake.
func templateName() string {
	h := sha256.New()
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := migrations.FS.ReadFile(n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return "convene_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]
}

// New returns a fresh, migrated database and its URL; it is dropped when the
// test ends. A missing server fails the test with how to start one.
func New(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	ctx := context.Background()
	server := ServerURL()
	admin, err := sql.Open("postgres", server)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s (%v). Run `make test`, which starts one, or `scripts/ensure-postgres.sh`.", server, err)
	}
	tpl := templateName()
	if err := ensureTemplate(ctx, admin, server, tpl); err != nil {
		t.Fatalf("testdb: building template database: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "convene_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pq.QuoteIdentifier(name), pq.QuoteIdentifier(tpl))); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	dsn := withDB(server, name)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	// Small pools: test packages and parallel browser tests share one server,
	// which on a fresh machine allows 100 connections.
	db.SetMaxOpenConns(10)
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("postgres", server)
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pq.QuoteIdentifier(name)))
	})
	return db, dsn
}

func ensureTemplate(ctx context.Context, admin *sql.DB, server, tpl string) error {
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// One builder at a time across test processes.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(727274)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := tpl + "_building"
	conn.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s", pq.QuoteIdentifier(building)))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s", pq.QuoteIdentifier(building))); err != nil {
		return err
	}
	db, err := sql.Open("postgres", withDB(server, building))
	if err != nil {
		return err
	}
	err = models.Migrate(db, nil)
	db.Close()
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", pq.QuoteIdentifier(building), pq.QuoteIdentifier(tpl)))
	return err
}
