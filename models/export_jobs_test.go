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

// ExpireUnpaidIDs is ExpireUnpaid returning the ids it cancelled.
func ExpireUnpaidIDs(s *Store, ctx context.Context, now time.Time) ([]int64, error) {
	return s.expireUnpaid(ctx, now, nil)
}
