package models

// SetCheckinGuard switches the "not yet checked in" condition on or off, for
// the control run that shows the concurrency test can detect double check-ins.
func SetCheckinGuard(on bool) { checkinGuard = on }
