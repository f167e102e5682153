package models

// SetSeatGuard switches the capacity condition on or off, for the control
// run that shows the concurrency test can detect overselling.
func SetSeatGuard(on bool) { seatGuard = on }

// SetCheckoutGuard switches RecordCheckout's payable check on or off, for
// the control run that shows the checkout race test can detect the race.
func SetCheckoutGuard(on bool) { checkoutGuard = on }
