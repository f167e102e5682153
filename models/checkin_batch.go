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
	// bench's capacity fell from about 3,600 scans a second to 2,700-3,000.
	scanBatches = 1
	// scanBatchMax is the most scans in one batch.
	scanBatchMax = 64
	// scanBatchTimeout bounds a batch, which runs on behalf of requests that
	// may have been answered or abandoned meanwhile.
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
}

// scanQueue gathers concurrent scans into batches.
type scanQueue struct {
	mu      sync.Mutex
	waiting []*queuedScan
	busy    map[string]bool // the keys of scans in a batch in flight
	running int             // batches in flight
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
		// The scan may still run: a retry with its nonce gets its answer.
		return nil, ctx.Err()
	}
}

// dispatchScans starts batches of waiting scans while fewer than
// scanBatches are in flight. The queue's lock must be held.
func (s *Store) dispatchScans() {
	q := &s.scanQueue
	for q.running < scanBatches && len(q.waiting) > 0 {
		if q.busy == nil {
			q.busy = map[string]bool{}
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
		q.running++
		q.batches++
		q.scans += int64(len(batch))
		go s.runScans(batch)
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

// runScans runs one batch, answers its scans, and lets the next batch go.
func (s *Store) runScans(batch []*queuedScan) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), scanBatchTimeout)
	defer cancel()
	err := s.checkInBatch(ctx, batch)
	if err != nil && len(batch) > 1 {
		// Another process's batch may have deadlocked with this one; each
		// scan goes again alone, as it would have without batching.
		var wg sync.WaitGroup
		for _, c := range batch {
			wg.Go(func() { c.err = s.checkInBatch(ctx, []*queuedScan{c}) })
		}
		wg.Wait()
	} else if err != nil {
		batch[0].err = err
	}
	q := &s.scanQueue
	q.mu.Lock()
	for _, c := range batch {
		for _, k := range c.keys {
			delete(q.busy, k)
		}
	}
	q.running--
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
	var rows []scanRow
	err = s.selectPrepared(ctx, &rows, checkInSQL(), pq.StringArray(tokens), pq.StringArray(slugs), pq.Int64Array(users),
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
