package models

import "time"

// SetCheckinGuard switches the "not yet checked in" condition on or off, for
// the control run that shows the concurrency test can detect double check-ins.
func SetCheckinGuard(on bool) { checkinGuard = on }

// HoldCheckins keeps s's scans waiting, as if its batches were all in the
// database and none stalled, until release: what is sent meanwhile goes in
// batches together.
func HoldCheckins(s *Store) (release func()) {
	q := &s.scanQueue
	q.mu.Lock()
	if q.started == nil {
		q.busy, q.started = map[string]bool{}, map[int64]time.Time{}
	}
	for i := range int64(scanBatchesMost) {
		q.started[-1-i] = time.Now().Add(time.Hour)
	}
	q.mu.Unlock()
	return func() {
		q.mu.Lock()
		for i := range int64(scanBatchesMost) {
			delete(q.started, -1-i)
		}
		s.dispatchScans()
		q.mu.Unlock()
	}
}

// WaitingCheckins is how many of s's scans wait for a batch.
func WaitingCheckins(s *Store) int {
	s.scanQueue.mu.Lock()
	defer s.scanQueue.mu.Unlock()
	return len(s.scanQueue.waiting)
}

// SetCheckinBatchFault makes batches of more than one scan fail with err
// (nil: they run again).
func SetCheckinBatchFault(err error) { scanBatchFault = err }
