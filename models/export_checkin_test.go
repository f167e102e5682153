package models

// SetCheckinGuard switches the "not yet checked in" condition on or off, for
// the control run that shows the concurrency test can detect double check-ins.
func SetCheckinGuard(on bool) { checkinGuard = on }

// HoldCheckins keeps s's scans waiting, as if its batches were all in the
// database, until release: what is sent meanwhile goes in batches together.
func HoldCheckins(s *Store) (release func()) {
	q := &s.scanQueue
	q.mu.Lock()
	q.running += scanBatches
	q.mu.Unlock()
	return func() {
		q.mu.Lock()
		q.running -= scanBatches
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
