// Package handlers is Convene's HTTP layer: pages for people and a JSON API
// under /api/v1, both over the same models.
package handlers

import (
	"log/slog"
	"time"

	"convene/config"
	"convene/models"
	"convene/payments"

	"github.com/jmoiron/sqlx"
)

// App carries what every handler needs.
type App struct {
	DB    *sqlx.DB
	Store *models.Store
	Cfg   config.Config
	Log   *slog.Logger
	Pages *Renderer
	// Pay is the payment provider: Stripe, stripe-mock in tests, or a
	// disabled gateway (offline methods only) until cmd sets it.
	Pay payments.Gateway
	// Now is the clock; tests replace it to stand at a deadline.
	Now func() time.Time
}

// New builds an App over an open, migrated database.
func New(db *sqlx.DB, cfg config.Config, log *slog.Logger) (*App, error) {
	pages, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	return &App{DB: db, Store: models.NewStore(db), Cfg: cfg, Log: log, Pages: pages, Now: time.Now,
		Pay: payments.NewStripe(payments.Config{}, slog.New(slog.DiscardHandler))}, nil
}
