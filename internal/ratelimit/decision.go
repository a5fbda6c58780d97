package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// Decision describes the limits that applied to one request. When both the
// key and its workspace limit the same quantity, the fields describe the
// tighter one (the one with less left). Zero limits mean no such limit
// applied.
type Decision struct {
	// RequestLimit is the request bucket's capacity, max(1, ceil(rps)).
	RequestLimit int
	// RequestRemaining is how many more requests the bucket admits now.
	RequestRemaining int
	// TokenLimit is the tokens-per-minute budget.
	TokenLimit int64
	// TokenRemaining is what is left of this minute's budget.
	TokenRemaining int64
	// TokenReset is the time until the budget is whole again.
	TokenReset time.Duration
	// RetryAfter is set when the request was refused.
	RetryAfter time.Duration
	// Limit names the limits that refused the request, comma-separated:
	// "key rps", "key tpm", "workspace rps", "workspace tpm". It is empty
	// when the request was admitted.
	Limit string
}

// decide summarises usage into a Decision, reporting the tighter of the
// applicable limits of each kind.
func decide(buckets []Bucket, usage []Usage) Decision {
	var d Decision
	haveReq, haveTok := false, false
	for i, b := range buckets {
		u := usage[i]
		if b.RPS > 0 {
			if !haveReq || u.Requests < d.RequestRemaining ||
				(u.Requests == d.RequestRemaining && b.Burst < d.RequestLimit) {
				d.RequestLimit, d.RequestRemaining = b.Burst, u.Requests
				haveReq = true
			}
		}
		if b.TPM > 0 {
			left := max(0, b.TPM-u.TokensUsed)
			if !haveTok || left < d.TokenRemaining ||
				(left == d.TokenRemaining && b.TPM < d.TokenLimit) {
				d.TokenLimit, d.TokenRemaining, d.TokenReset = b.TPM, left, u.TokenReset
				haveTok = true
			}
		}
	}
	return d
}

// Header names set by SetHeaders.
const (
	HeaderLimitRequests     = "X-Ratelimit-Limit-Requests"
	HeaderRemainingRequests = "X-Ratelimit-Remaining-Requests"
	HeaderLimitTokens       = "X-Ratelimit-Limit-Tokens"
	HeaderRemainingTokens   = "X-Ratelimit-Remaining-Tokens"
	HeaderResetTokens       = "X-Ratelimit-Reset-Tokens"
)

// SetHeaders sets the x-ratelimit-* headers of the limits that applied:
// the request headers when a request limit applied, the token headers
// (reset in whole seconds, rounded up) when a token limit applied.
func (d Decision) SetHeaders(h http.Header) {
	if d.RequestLimit > 0 {
		h.Set(HeaderLimitRequests, strconv.Itoa(d.RequestLimit))
		h.Set(HeaderRemainingRequests, strconv.Itoa(d.RequestRemaining))
	}
	if d.TokenLimit > 0 {
		h.Set(HeaderLimitTokens, strconv.FormatInt(d.TokenLimit, 10))
		h.Set(HeaderRemainingTokens, strconv.FormatInt(d.TokenRemaining, 10))
		h.Set(HeaderResetTokens, strconv.FormatInt(ceilSeconds(d.TokenReset), 10))
	}
}
