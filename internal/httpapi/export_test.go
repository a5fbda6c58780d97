package httpapi

import "time"

// SetBodyRateGrace shortens the body rate rule's grace period for a test;
// the returned function restores it.
func SetBodyRateGrace(d time.Duration) func() {
	old := bodyRateGrace
	bodyRateGrace = d
	return func() { bodyRateGrace = old }
}
