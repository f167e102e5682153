package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// ExpireUnpaid cancels registrations still awaiting payment after their due
// date and gives their seats to the waiting list. Rows are claimed with FOR
// UPDATE SKIP LOCKED, so any number of app processes may run it at once and
// each overdue registration is cancelled exactly once.
func (s *Store) ExpireUnpaid(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.expireUnpaid(ctx, now, nil)
	return len(ids), err
}

// expireUnpaid is ExpireUnpaid returning the ids of the registrations it
// cancelled. Each conference's cancellations commit on their own, and then
// committed, when it is not nil, gets their ids (to close their checkouts)
// before the next conference is looked at.
func (s *Store) expireUnpaid(ctx context.Context, now time.Time, committed func(ids []int64)) ([]int64, error) {
	var confs []int64
	if err := s.db.SelectContext(ctx, &confs, `SELECT conference_id FROM registrations r WHERE `+overdue+`
		GROUP BY conference_id ORDER BY min(payment_due_at), conference_id`, now); err != nil {
		return nil, err
	}
	var cancelled []int64
	for _, conferenceID := range confs {
		for {
			ids, err := s.expireIn(ctx, conferenceID, now)
			if err != nil {
				return cancelled, err
			}
			cancelled = append(cancelled, ids...)
			if committed != nil && len(ids) > 0 {
				committed(ids)
			}
			if len(ids) < expireRound {
				break
			}
		}
	}
	return cancelled, nil
}

// overdue is the condition on registrations r ($1 now) that expireUnpaid
// cancels.
const overdue = `r.status = 'awaiting_payment' AND r.payment_due_at <= $1
	-- A bank payment Stripe is still processing is not overdue.
	AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.registration_id = r.id AND p.status = 'processing')`

// expireRound is the most registrations one transaction of expireUnpaid cancels.
const expireRound = 50

// expireIn cancels up to expireRound overdue registrations of one conference
// in one transaction, gives back their seats, then moves the waiting line on
// once: one conference's seat counts at a time, held no longer than that
// takes, and a busy first in line waited for once, not once per seat.
func (s *Store) expireIn(ctx context.Context, conferenceID int64, now time.Time) ([]int64, error) {
	var ids []int64
	busy := false
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		ids = nil
		budget := newWaitBudget()
		if err := tx.SelectContext(ctx, &ids, `SELECT r.id FROM registrations r WHERE `+overdue+` AND r.conference_id = $2
			ORDER BY r.payment_due_at, r.id LIMIT $3 FOR UPDATE SKIP LOCKED`, now, conferenceID, expireRound); err != nil {
			return err
		}
		seated := false
		for _, id := range ids {
			r, err := s.registration(ctx, tx, id, false)
			if err != nil {
				return err
			}
			if err := s.Transition(ctx, tx, &r, RegCancelled, System, map[string]any{"reason": "payment overdue"}); err != nil {
				return err
			}
			freed, err := s.giveBackSeats(ctx, tx, &r)
			if err != nil {
				return err
			}
			seated = seated || freed
		}
		if !seated {
			return nil
		}
		var err error
		busy, err = s.promote(ctx, tx, conferenceID, true, budget)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.fillSeatsAfter(ctx, busy, conferenceID)
	return ids, nil
}

// RunJobs runs background work every interval until ctx ends: expiring
// unpaid registrations (and closing their open checkout sessions through
// checkouts), closing checkout sessions a cancellation left open, and
// pruning old check-in nonces. Safe to run in every app process.
func (s *Store) RunJobs(ctx context.Context, every time.Duration, log *slog.Logger, checkouts CheckoutExpirer) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.runJobs(ctx, time.Now(), log, checkouts)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runJobs is one round of RunJobs.
func (s *Store) runJobs(ctx context.Context, now time.Time, log *slog.Logger, checkouts CheckoutExpirer) {
	// Each conference's cancellations are committed before the next is
	// looked at: close their checkouts then, on a context of their own, so
	// the app stopping meanwhile does not leave a cancelled registration's
	// Stripe session open to pay (no later round lists it again).
	closeCheckouts := func(ids []int64) {
		if checkouts == nil {
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := s.CloseCheckouts(cctx, checkouts, System, ids...); err != nil {
			log.Warn("closing checkout sessions failed", "err", err)
		}
	}
	ids, err := s.expireUnpaid(ctx, now, closeCheckouts)
	if err != nil && ctx.Err() == nil {
		log.Error("expiring unpaid registrations failed", "err", err)
	}
	if len(ids) > 0 {
		log.Info("unpaid registrations cancelled", "count", len(ids))
	}
	if checkouts != nil {
		if err := s.closeLeftCheckouts(ctx, now, checkouts); err != nil && ctx.Err() == nil {
			log.Warn("closing checkout sessions left open failed", "err", err)
		}
	}
	if _, err := s.PruneCheckinRequests(ctx); err != nil && ctx.Err() == nil {
		log.Error("pruning check-in nonces failed", "err", err)
	}
}

// leftCheckouts lists the registrations cancelled or denied whose Stripe
// checkout session is still open: closing it when they were cancelled
// failed (the provider did not answer, or the app stopped first). Sessions
// older than Stripe's 24 hours have closed by themselves.
const leftCheckouts = `SELECT DISTINCT p.registration_id FROM payments p JOIN registrations r ON r.id = p.registration_id
	WHERE p.method = 'stripe' AND p.status = 'pending' AND p.stripe_session_id IS NOT NULL
	AND r.status IN ('cancelled', 'denied') AND p.created_at > $1::timestamptz - interval '24 hours'
	ORDER BY p.registration_id LIMIT 5000`

// leftCheckoutsPerRound is the most registrations one round asks the
// provider about.
const leftCheckoutsPerRound = 100

// closeLeftCheckouts tries again to close the checkout sessions a
// cancellation could not, so a member is not left a page on which to pay
// for a registration that is gone. Closing one twice (another process's
// round, or a cancellation's own close at the same moment) does no harm:
// the provider says it is closed, and the payment is marked once. One that
// still will not close (a session paid whose webhook has not come) is
// tried again later and later, up to hourly, so it does not keep others
// from their turn.
func (s *Store) closeLeftCheckouts(ctx context.Context, now time.Time, checkouts CheckoutExpirer) error {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, leftCheckouts, now); err != nil {
		return err
	}
	var errs []error
	for _, id := range s.leftOpen.due(ids, now, leftCheckoutsPerRound) {
		_, err := s.CloseCheckouts(ctx, checkouts, System, id)
		s.leftOpen.tried(id, now, err == nil)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// retryBackoff remembers, by registration, the failed attempts at
// something retried each round, and when to try each again.
type retryBackoff struct {
	mu    sync.Mutex
	fails map[int64]int
	next  map[int64]time.Time
}

// due returns up to n of ids whose turn it is at now, those tried least
// first, and forgets those no longer listed.
func (b *retryBackoff) due(ids []int64, now time.Time, n int) []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	listed := make(map[int64]bool, len(ids))
	var out []int64
	for _, id := range ids {
		listed[id] = true
		if !now.Before(b.next[id]) {
			out = append(out, id)
		}
	}
	for id := range b.next {
		if !listed[id] {
			delete(b.next, id)
			delete(b.fails, id)
		}
	}
	slices.SortStableFunc(out, func(x, y int64) int { return b.fails[x] - b.fails[y] })
	return out[:min(n, len(out))]
}

// tried records an attempt: after k failures in a row the next is 2^k
// minutes on, at most an hour.
func (b *retryBackoff) tried(id int64, now time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fails == nil {
		b.fails, b.next = map[int64]int{}, map[int64]time.Time{}
	}
	if ok {
		delete(b.fails, id)
		delete(b.next, id)
		return
	}
	b.fails[id]++
	b.next[id] = now.Add(min(time.Minute<<min(b.fails[id], 6), time.Hour))
}

// Waitlist lists a conference's waiting list in order.
func (s *Store) Waitlist(ctx context.Context, conferenceID int64) ([]Registration, error) {
	var rs []Registration
	err := s.db.SelectContext(ctx, &rs, registrationSelect+` WHERE r.conference_id = $1 AND r.status = 'waitlisted' ORDER BY r.waitlist_rank, r.id`, conferenceID)
	return rs, err
}

// WaitlistLength counts a conference's waiting list.
func (s *Store) WaitlistLength(ctx context.Context, conferenceID int64) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'`, conferenceID)
	return n, err
}

// MoveOnWaitlist swaps a waitlisted registration with its neighbour ahead
// (up) or behind (down); staff only, audited. neighbour is the registration
// the staff member saw there, 0 for nobody (first, or last): if someone else
// is there now, the move is refused as a conflict rather than made with a
// person they did not see, and moving the first up (the last down) does
// nothing.
//
// Two staff members may move the same neighbours at the same moment, and a
// check-in batch may be locking the same people's rows. The two rows are
// locked in id order, as every statement that locks several registrations
// does, so none of them wait for each other in a circle; the one that locks
// second finds the line changed and is refused. It waits at most lockWait
// for the rows (a check-in batch holding one may be waiting for a
// cancellation that is giving a seat to the line), and is otherwise refused
// as busy. A freed seat's promotion takes whoever is first once it has
// their row (see promote): the one before the move, or the one after it.
func (s *Store) MoveOnWaitlist(ctx context.Context, id int64, up bool, neighbour int64, actor Actor) error {
	if !actor.IsStaff() {
		return ErrForbidden
	}
	changed := fmt.Errorf("%w: the waiting list changed meanwhile; look at it again", ErrConflict)
	busy := fmt.Errorf("%w: someone else is working on these registrations right now; try again in a moment", ErrConflict)
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		var me place
		err := tx.GetContext(ctx, &me, `SELECT `+placeColumns+` FROM registrations WHERE id = $1`, id)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (me.Status != RegWaitlisted || me.Rank == nil)) {
			return fmt.Errorf("%w: this registration is not on the waiting list", ErrConflict)
		}
		if err != nil {
			return err
		}
		other, err := nextInLine(ctx, tx, me, up)
		switch {
		case errors.Is(err, sql.ErrNoRows) && neighbour == 0:
			return nil // first (or last), as the staff member saw
		case errors.Is(err, sql.ErrNoRows):
			return changed
		case err != nil:
			return err
		case other.ID != neighbour:
			return changed
		}
		var locked []place
		ok, err := lockWithin(ctx, tx, newWaitBudget(), &locked, `SELECT `+placeColumns+` FROM registrations
			WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, me.ID, other.ID)
		if err != nil {
			return err
		}
		if !ok {
			return busy
		}
		if len(locked) != 2 {
			return changed
		}
		for _, l := range locked {
			was := me
			if l.ID == other.ID {
				was = other
			}
			if l.Status != RegWaitlisted || l.Rank == nil || *l.Rank != *was.Rank {
				return changed
			}
		}
		// Both are where they were; is nobody between them now?
		if now, err := nextInLine(ctx, tx, me, up); err != nil || now.ID != other.ID {
			return changed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET waitlist_rank = CASE id WHEN $1 THEN $3::bigint ELSE $4::bigint END WHERE id IN ($1, $2)`,
			id, other.ID, *other.Rank, *me.Rank); err != nil {
			return err
		}
		dir := "down"
		if up {
			dir = "up"
		}
		return s.Audit(ctx, tx, actor.User.ID, "waitlist_moved", "registration", id, map[string]any{"direction": dir})
	})
}

// place is a registration's place on its conference's waiting list.
type place struct {
	ID           int64  `db:"id"`
	ConferenceID int64  `db:"conference_id"`
	Status       string `db:"status"`
	Rank         *int64 `db:"waitlist_rank"`
}

const placeColumns = `id, conference_id, status, waitlist_rank`

// nextInLine is the waitlisted registration just ahead of p (up) or just
// behind it; sql.ErrNoRows when p is first (or last).
func nextInLine(ctx context.Context, tx *sqlx.Tx, p place, up bool) (place, error) {
	q := `SELECT ` + placeColumns + ` FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'
		AND waitlist_rank < $2 ORDER BY waitlist_rank DESC LIMIT 1`
	if !up {
		q = `SELECT ` + placeColumns + ` FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'
		AND waitlist_rank > $2 ORDER BY waitlist_rank LIMIT 1`
	}
	var n place
	err := tx.GetContext(ctx, &n, q, p.ConferenceID, *p.Rank)
	return n, err
}

// PromoteNow moves one waitlisted registration on ahead of the line, if its
// seats can be held; staff only, audited. ErrFull when there is no seat.
func (s *Store) PromoteNow(ctx context.Context, id int64, actor Actor) (Registration, error) {
	if !actor.IsStaff() {
		return Registration{}, ErrForbidden
	}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		// The seat counts before the person's row, in the order a
		// cancellation takes them (see lockSeats): a seat freed meanwhile
		// then either goes to the line before this move starts, or waits
		// for it. Holding the counts, it waits for the row at most
		// lockWait, and is otherwise refused as busy.
		var conferenceID int64
		if err := tx.GetContext(ctx, &conferenceID, `SELECT conference_id FROM registrations WHERE id = $1`, id); err != nil {
			return err
		}
		budget := newWaitBudget()
		if err := s.lockSeats(ctx, tx, conferenceID); err != nil {
			return err
		}
		ok, err := lockWithin(ctx, tx, budget, nil, `SELECT FROM registrations WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: someone else is working on this registration right now; try again in a moment", ErrConflict)
		}
		r, err := s.registration(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if r.Status != RegWaitlisted {
			return fmt.Errorf("%w: this registration is not on the waiting list", ErrConflict)
		}
		held, err := s.holdSeats(ctx, tx, &r)
		if err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("%w: there is no free seat in the conference or this registration type", ErrFull)
		}
		if err := s.Transition(ctx, tx, &r, RegSubmitted, actor, map[string]any{"reason": "moved on by staff"}); err != nil {
			return err
		}
		return s.reevaluate(ctx, tx, &r, actor)
	})
	if err != nil {
		return Registration{}, err
	}
	return s.Registration(ctx, id)
}

// PendingPastApprovalDeadline lists registrations still pending after the
// conference's officer approval deadline, for staff to act on.
func (s *Store) PendingPastApprovalDeadline(ctx context.Context, conf Conference, now time.Time) ([]Registration, error) {
	if conf.ApprovalDeadline == nil || now.Before(*conf.ApprovalDeadline) {
		return nil, nil
	}
	var rs []Registration
	err := s.db.SelectContext(ctx, &rs, registrationSelect+` WHERE r.conference_id = $1 AND r.status = 'pending' ORDER BY r.created_at, r.id`, conf.ID)
	return rs, err
}

// WorkshopSignup is one workshop a registration signed up for, and whether
// it waits for a place.
type WorkshopSignup struct {
	AgendaSession
	Waitlisted bool `db:"waitlisted"`
	Position   int  `db:"position"`
}

// WorkshopSignups lists a registration's workshops with their waiting-list places.
func (s *Store) WorkshopSignups(ctx context.Context, registrationID int64) ([]WorkshopSignup, error) {
	var ws []WorkshopSignup
	err := s.db.SelectContext(ctx, &ws, `SELECT `+prefixed("a", sessionColumns)+`, rs.waitlisted,
		CASE WHEN rs.waitlisted THEN (SELECT count(*) FROM registration_sessions o WHERE o.session_id = rs.session_id
			AND o.waitlisted AND o.waitlist_rank <= rs.waitlist_rank) ELSE 0 END AS position
		FROM registration_sessions rs JOIN agenda_sessions a ON a.id = rs.session_id
		WHERE rs.registration_id = $1 ORDER BY a.starts_at`, registrationID)
	return ws, err
}
