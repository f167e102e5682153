package models

import (
	"context"
	"log/slog"
	"time"
)

// RunJobsOnce runs one round of RunJobs at now.
func (s *Store) RunJobsOnce(ctx context.Context, now time.Time, log *slog.Logger, checkouts CheckoutExpirer) {
	s.runJobs(ctx, now, log, checkouts)
}
