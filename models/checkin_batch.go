package models

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Scans are checked in in batches. A line of desks scanning at once would
// otherwise each pay a round trip, a transaction and a commit of their own
// for a statement that takes a fraction of that; scans that arrive while
// others are in the database wait for them and then go together, as one
// statement in one transaction. Nothing waits on purpose: a scan that finds
// a batch free goes at once, alone, so a quiet desk is as fast as before,
// and a busy one shares the cost of each commit between the scans that
// queued behind it.
//
// Two scans of the same badge, or with the same person's nonce, never go in
// the same batch nor in two batches at once: the later one waits for the
// earlier to finish, and then sees what it did. Across processes, the
// statement's row lock still orders them.
const (
	// scanBatches is how many batches one Store has in the database at once.
	// One does the most and answers fastest on the bench's 2 CPUs: with two,
	// the batches are smaller, each scan costs the database more, and the
	// bench's capacity fell from about 5,000 scans a second to 3,200-3,700.
	scanBatches = 1
	// A batch still in the database after scanStall is stalled: one of its
	// scans waits for a registration another transaction has locked, or the
	// machine is busy. It then stops counting against scanBatches, so the
	// desks' next scans go without it, up to scanBatchesMost in flight.
	scanStall       = 20 * time.Millisecond
	scanBatchesMost = 4
	// scanBatchMax is the most scans in one batch.
	scanBatchMax = 64
	// scanBatchTimeout bounds a batch of several scans, which runs on behalf
	// of requests that may have been answered or abandoned meanwhile. A
	// batch of one runs on its request's own context.
	scanBatchTimeout = 30 * time.Second
)

// scanArgs is what the check-in statement needs to know of one scan.
type scanArgs struct {
	token, slug, nonce string
	userID             int64
	codeHash           []byte
	// tokenHash is the remembered API token's hash, empty for a signed-in
	// person or a token just looked up; throttleKey is its address's key.
	tokenHash   []byte
	throttleKey string
}

// queuedScan is one scan waiting for its batch, then for its answer.
type queuedScan struct {
	ctx  context.Context
	args scanArgs
	keys []string // what it may not share a batch with
	row  *scanRow // nil: the statement found nothing to answer
	err  error
	done chan struct{}
	// alone is set when the scan went in a batch of its own, which its
	// context cancels.
	alone bool
}

// scanQueue gathers concurrent scans into batches.
type scanQueue struct {
	mu      sync.Mutex
	waiting []*queuedScan
	busy    map[string]bool     // the keys of scans in a batch in flight
	started map[int64]time.Time // when each batch in flight went, by number
	last    int64               // the last batch's number
	// wake, when set, dispatches again when the batch in flight stalls.
	wake *time.Timer
	// batches and scans count what ran, for the bench's report.
	batches, scans int64
}

// scanBatchFault, when a test sets it, fails batches of more than one scan,
// to show each scan then goes again alone.
var scanBatchFault error

// checkInQueued runs a scan's check-in statement in the next batch it can
// join and returns its row (nil when the statement answered nothing for it).
func (s *Store) checkInQueued(ctx context.Context, a scanArgs) (*scanRow, error) {
	c := &queuedScan{ctx: ctx, args: a, done: make(chan struct{})}
	if a.token != "" {
		c.keys = append(c.keys, "t "+a.token)
	}
	if a.nonce != "" {
		c.keys = append(c.keys, "n "+strconv.FormatInt(a.userID, 10)+" "+a.nonce)
	}
	q := &s.scanQueue
	q.mu.Lock()
	q.waiting = append(q.waiting, c)
	s.dispatchScans()
	q.mu.Unlock()
	select {
	case <-c.done:
		return c.row, c.err
	case <-ctx.Done():
	}
	q.mu.Lock()
	alone := c.alone
	q.mu.Unlock()
	if alone {
		// Its statement is being cancelled: say what became of it.
		<-c.done
		return c.row, c.err
	}
	// Still waiting, it will not run; in a batch with others, it may still
	// check in, and a retry with its nonce gets its answer.
	return nil, ctx.Err()
}

// dispatchScans starts batches of waiting scans while fewer than
// scanBatches are in flight and not stalled (and fewer than scanBatchesMost
// in all). The queue's lock must be held.
func (s *Store) dispatchScans() {
	q := &s.scanQueue
	if q.busy == nil {
		q.busy, q.started = map[string]bool{}, map[int64]time.Time{}
	}
	for len(q.waiting) > 0 {
		now := time.Now()
		fresh, stalls := 0, time.Time{}
		for _, at := range q.started {
			if now.Sub(at) < scanStall {
				fresh++
				if stalls.IsZero() || at.Add(scanStall).Before(stalls) {
					stalls = at.Add(scanStall)
				}
			}
		}
		if len(q.started) >= scanBatchesMost {
			return
		}
		if fresh >= scanBatches {
			if q.wake == nil {
				q.wake = time.AfterFunc(stalls.Sub(now), func() {
					q.mu.Lock()
					defer q.mu.Unlock()
					q.wake = nil
					s.dispatchScans()
				})
			}
			return
		}
		var batch []*queuedScan
		left := make([]*queuedScan, 0, len(q.waiting))
		for _, c := range q.waiting {
			switch {
			case c.ctx.Err() != nil:
				// Nobody waits for its answer any more.
				c.err = c.ctx.Err()
				close(c.done)
			case len(batch) == scanBatchMax || q.anyBusy(c.keys):
				left = append(left, c)
			default:
				for _, k := range c.keys {
					q.busy[k] = true
				}
				batch = append(batch, c)
			}
		}
		q.waiting = left
		if len(batch) == 0 {
			return
		}
		batch[0].alone = len(batch) == 1
		q.last++
		q.started[q.last] = now
		q.batches++
		q.scans += int64(len(batch))
		go s.runScans(q.last, batch)
	}
}

func (q *scanQueue) anyBusy(keys []string) bool {
	for _, k := range keys {
		if q.busy[k] {
			return true
		}
	}
	return false
}

// runScans runs batch number n, answers its scans, and lets the next batch
// go.
func (s *Store) runScans(n int64, batch []*queuedScan) {
	if len(batch) == 1 {
		// Alone, a scan runs as it would without batching: a desk that
		// gives up on it cancels it.
		batch[0].err = s.checkInBatch(batch[0].ctx, batch)
	} else {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), scanBatchTimeout)
		if err := s.checkInBatch(ctx, batch); err != nil {
			// Another process's batch may have deadlocked with this one;
			// each scan goes again alone, as it would have without batching.
			var wg sync.WaitGroup
			for _, c := range batch {
				wg.Go(func() { c.err = s.checkInBatch(c.ctx, []*queuedScan{c}) })
			}
			wg.Wait()
		}
		cancel()
	}
	q := &s.scanQueue
	q.mu.Lock()
	for _, c := range batch {
		for _, k := range c.keys {
			delete(q.busy, k)
		}
	}
	delete(q.started, n)
	s.dispatchScans()
	q.mu.Unlock()
	for _, c := range batch {
		close(c.done)
	}
}

// checkInBatch runs the check-in statement for a batch and hands each scan
// its row. It runs outside any request, so a panic becomes the batch's error
// rather than the end of the process.
func (s *Store) checkInBatch(ctx context.Context, batch []*queuedScan) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check-in batch: %v", p)
		}
	}()
	if scanBatchFault != nil && len(batch) > 1 {
		return scanBatchFault
	}
	n := len(batch)
	tokens, slugs, nonces, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	users := make([]int64, n)
	codeHashes, tokenHashes := make(pq.ByteaArray, n), make(pq.ByteaArray, n)
	for i, c := range batch {
		a := c.args
		tokens[i], slugs[i], nonces[i], keys[i], users[i] = a.token, a.slug, a.nonce, a.throttleKey, a.userID
		codeHashes[i], tokenHashes[i] = a.codeHash, a.tokenHash
	}
	rows := make([]scanRow, 0, n)
	err = s.sel(ctx, nil, &rows, checkInSQL(), pq.StringArray(tokens), pq.StringArray(slugs), pq.Int64Array(users),
		pq.StringArray(nonces), codeHashes, tokenHashes, pq.StringArray(keys), ThrottleWindow.String())
	if err != nil {
		return err
	}
	for i := range rows {
		row := &rows[i]
		if row.N < 1 || row.N > int64(n) {
			return fmt.Errorf("check-in batch: a row for scan %d of %d", row.N, n)
		}
		batch[row.N-1].row = row
	}
	return nil
}

// CheckinBatches reports how many check-in batches this Store ran and how
// many scans they held.
func (s *Store) CheckinBatches() (batches, scans int64) {
	s.scanQueue.mu.Lock()
	defer s.scanQueue.mu.Unlock()
	return s.scanQueue.batches, s.scanQueue.scans
}
