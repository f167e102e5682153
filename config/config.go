// Package config reads Convene's settings from the environment, once, in cmd.
package config

import (
	"fmt"
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

// DefaultGCPercent is the garbage collector's GOGC when the environment
// sets none. Go's default, 100, collects each time the heap doubles; the
// server's live heap is small (about 10 MB), so at the check-in desk's 2,000
// scans a second that was four collections a second, and a trace of every
// scan on the bench machine showed most scans over 10 ms starting with a
// collection. At 400 the server collects a quarter as often.
const DefaultGCPercent = 400

// DefaultMemoryLimit is the soft limit on the Go runtime's memory when the
// environment sets no GOMEMLIMIT. It keeps the heap of the biggest job, a
// sheet of 1,000 badges, under the 100 MB it is allowed at GOGC=400 (it
// would reach about 160 MB, most of it garbage): nearing the limit, the
// collector runs as often as it must to stay under it. A job whose live
// data alone passes it collects more often, with at most half the CPU,
// rather than stopping.
const DefaultMemoryLimit = 96 << 20

// TuneGC sets the garbage collector to DefaultGCPercent and
// DefaultMemoryLimit, each unless the environment sets its own (GOGC,
// GOMEMLIMIT: the runtime has applied them already), and says what is in
// force.
func TuneGC() string {
	var in []string
	if v := os.Getenv("GOGC"); v != "" {
		in = append(in, "GOGC="+v+" (from the environment)")
	} else {
		debug.SetGCPercent(DefaultGCPercent)
		in = append(in, "GOGC="+strconv.Itoa(DefaultGCPercent))
	}
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		in = append(in, "GOMEMLIMIT="+v+" (from the environment)")
	} else {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		in = append(in, "GOMEMLIMIT="+strconv.Itoa(DefaultMemoryLimit>>20)+"MiB")
	}
	return strings.Join(in, ", ")
}
