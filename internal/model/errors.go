package model

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tramontane/tramontane/internal/apierr"
)

// maxUpstreamMessage bounds how much of an upstream error message is kept.
const maxUpstreamMessage = 400

// StatusError maps an upstream HTTP failure to the project's error type:
// 429 → RateLimited (keeping retryAfter), 401/403 → Upstream (a server-side
// credential problem, not the caller's), 408 → Timeout, other 4xx → Invalid
// with the upstream message, 5xx → Upstream. provider names the upstream in
// the message; msg is the upstream's own message (trimmed here).
func StatusError(provider string, status int, msg string, retryAfter time.Duration) *apierr.Error {
	msg = TrimMessage(msg)
	if msg == "" {
		msg = http.StatusText(status)
	}
	cause := fmt.Errorf("upstream %s: HTTP %d: %s", provider, status, msg)
	var e *apierr.Error
	switch {
	case status == http.StatusTooManyRequests:
		e = apierr.Wrap(apierr.RateLimited, cause, "upstream %s is rate limiting requests: %s", provider, msg)
		e.RetryAfter = retryAfter
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e = apierr.Wrap(apierr.Upstream, cause,
			"upstream %s refused the server's credentials (HTTP %d); check the provider's API key", provider, status)
	case status == http.StatusRequestTimeout:
		e = apierr.Wrap(apierr.Timeout, cause, "upstream %s timed out: %s", provider, msg)
	case status >= 400 && status < 500:
		e = apierr.Wrap(apierr.Invalid, cause, "upstream %s rejected the request (HTTP %d): %s", provider, status, msg)
	default:
		e = apierr.Wrap(apierr.Upstream, cause, "upstream %s failed (HTTP %d): %s", provider, status, msg)
	}
	return e
}

// TrimMessage collapses whitespace and cuts s to a few hundred bytes.
func TrimMessage(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxUpstreamMessage {
		return s
	}
	cut := maxUpstreamMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
