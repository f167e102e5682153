// Package config reads Convene's settings from the environment, once, in cmd.
package config

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Config is every setting the app reads; each has a working local default.
type Config struct {
	DatabaseURL         string
	Addr                string
	BaseURL             string
	SecretKey           string
	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	// SecureCookies marks cookies Secure; on when BASE_URL is https.
	SecureCookies bool
	// TrustedProxies are the proxies whose X-Forwarded-For names the client;
	// none by default, so a client cannot dodge throttling with the header.
	TrustedProxies []string
	// DatabaseMaxConns caps the app's connections to PostgreSQL; 0 leaves
	// models.DefaultMaxConns.
	DatabaseMaxConns int
}

// DefaultDatabaseURL is the local PostgreSQL that `make run` starts or finds.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/convene?sslmode=disable"

// FromEnv reads the configuration from environment variables.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL:         env("DATABASE_URL", DefaultDatabaseURL),
		Addr:                env("ADDR", ":8080"),
		BaseURL:             strings.TrimRight(env("BASE_URL", "http://localhost:8080"), "/"),
		SecretKey:           env("SECRET_KEY", "dev-secret-change-me"),
		StripeSecretKey:     os.Getenv("STRIPE_SECRET_KEY"),
		StripeWebhookSecret: os.Getenv("STRIPE_WEBHOOK_SECRET"),
		StripeAPIBase:       os.Getenv("STRIPE_API_BASE"),
	}
	c.SecureCookies = strings.HasPrefix(c.BaseURL, "https://")
	for _, p := range strings.Split(os.Getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if v := os.Getenv("DATABASE_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("DATABASE_MAX_CONNS must be a whole number from 1 to 1000, not %q", v)
		}
		c.DatabaseMaxConns = n
	}
	if c.SecureCookies && c.SecretKey == "dev-secret-change-me" {
		return c, fmt.Errorf("SECRET_KEY must be set when BASE_URL is https")
	}
	return c, nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// DefaultGCPercent is the garbage collector's GOGC in `convene serve` when
// the environment sets none. Go's default, 100, collects each time the heap
// doubles; the server's live heap is small (about 10 MB), so at the check-in
// desk's 2,000 scans a second that was four collections a second, and a
// trace of every scan on the bench machine showed most scans over 10 ms
// starting with a collection. At 400, with a live heap that small, it
// collects a quarter as often.
const DefaultGCPercent = 400

// DefaultMemoryLimit is the soft limit on the Go runtime's memory in
// `convene serve` when the environment sets no GOMEMLIMIT. It keeps the
// process under 100 MB while it builds a sheet of 1,000 badges (at GOGC=400
// alone it reached about 160 MB, most of it garbage): nearing the limit,
// the collector runs as often as it must to stay under it. Once the live
// heap passes about a fifth of the limit, the limit rather than GOGC sets
// the pace; when live data alone passes it, the process collects more
// often, with at most half its CPU, and everything in it slows down rather
// than stopping.
const DefaultMemoryLimit = 96 << 20

// TuneGC sets the garbage collector to DefaultGCPercent and
// DefaultMemoryLimit, each unless the environment sets its own (GOGC,
// GOMEMLIMIT: the runtime has applied them already), and says what is in
// force.
func TuneGC() string {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	// Read back what is in force: the runtime ignores a GOGC it cannot
	// read, and the log should not claim otherwise.
	p := debug.SetGCPercent(DefaultGCPercent)
	debug.SetGCPercent(p)
	gogc := strconv.Itoa(p)
	if p < 0 {
		gogc = "off"
	}
	limit := "none"
	if l := debug.SetMemoryLimit(-1); l < math.MaxInt64 {
		limit = strconv.FormatInt(l>>20, 10) + "MiB"
	}
	return "GOGC=" + gogc + ", GOMEMLIMIT=" + limit
}
