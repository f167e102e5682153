// Command convene runs Convene: the web app and its maintenance tasks.
//
//	convene serve                       start the web app (migrates first)
//	convene migrate                     create and migrate the database, then exit
//	convene seed-demo                   load demo conferences, locals and people
//	convene create-admin --email E --password P [--name N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"convene/config"
	"convene/handlers"
	"convene/models"
	"convene/payments"
)

const usage = `usage: convene <command>

commands:
  serve          start the web app (creates and migrates the database first)
  migrate        create and migrate the database, then exit
  seed-demo      load demo conferences, locals and people (idempotent)
  create-admin   --email E --password P [--name N]: make an admin account
  healthcheck    exit 0 when the app on ADDR answers /readyz (for container healthchecks)
`

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "convene:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2:], cfg, log); err != nil {
		fmt.Fprintln(os.Stderr, "convene:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string, cfg config.Config, log *slog.Logger) error {
	switch cmd {
	case "healthcheck":
		return healthcheck(ctx, cfg.Addr)
	case "serve", "migrate", "seed-demo", "create-admin":
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	db, err := models.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return fmt.Errorf("%w\nIs PostgreSQL running? `make run` starts one, or run `docker compose up db`", err)
	}
	defer db.Close()
	if n := cfg.DatabaseMaxConns; n > 0 {
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	store := models.NewStore(db)
	switch cmd {
	case "migrate":
		log.Info("database is up to date")
		return nil
	case "seed-demo":
		return models.SeedDemo(ctx, store, time.Now(), log)
	case "create-admin":
		fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
		email := fs.String("email", "", "the admin's email")
		password := fs.String("password", "", "the admin's password (8 or more characters)")
		name := fs.String("name", "Administrator", "the admin's name")
		if err := fs.Parse(args); err != nil {
			return err
		}
		u, err := store.CreateAdmin(ctx, *email, *name, *password)
		if err != nil {
			return err
		}
		fmt.Printf("admin %s is ready\n", u.Email)
		return nil
	}
	gc := config.TuneGC()
	app, err := handlers.New(db, cfg, log)
	if err != nil {
		return err
	}
	app.Pay = payments.NewStripe(payments.Config{SecretKey: cfg.StripeSecretKey,
		WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase}, log)
	srv := &http.Server{Addr: cfg.Addr, Handler: app.Routes(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	// Background work; safe in every process (rows are claimed with SKIP LOCKED).
	go store.RunJobs(ctx, time.Minute, log, app.Pay)
	log.Info("convene is listening", "addr", cfg.Addr, "base_url", cfg.BaseURL, "gc", gc)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// healthcheck asks the local app whether it is ready.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", resp.Status)
	}
	return nil
}
