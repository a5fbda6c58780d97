package ratelimit

import (
	"context"
	"net/http"
)

// PrincipalFunc tells the middleware who a request acts as: the key's id,
// its workspace, the key's own limits and its tier. ok is false for
// requests that no limit applies to (public routes, unauthenticated
// requests), which pass through unchecked.
type PrincipalFunc func(r *http.Request) (keyID, workspaceID string, key Limits, tier string, ok bool)

// Middleware checks each request before the wrapped handler runs, so a
// refused request never reaches an upstream. It sets the x-ratelimit-*
// headers on every checked response. A refused request is answered by
// writeErr with the *apierr.Error of kind RateLimited (whose RetryAfter
// becomes the Retry-After header when writeErr uses apierr.Write). An
// admitted request's context carries a charger: handlers report a run's
// token usage with ChargeFromContext.
//
// principal must see the authenticated principal, so the middleware goes
// inside the authentication middleware. On a nil *Limiter it is the
// identity.
func (l *Limiter) Middleware(principal PrincipalFunc, writeErr func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if l == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			keyID, workspaceID, key, tier, ok := principal(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			p := l.plan(keyID, workspaceID, key, tier)
			d, err := l.allow(p)
			d.SetHeaders(w.Header())
			if err != nil {
				writeErr(w, r, err)
				return
			}
			var ids []string
			for i := range p.n {
				if p.buckets[i].TPM > 0 {
					ids = append(ids, p.buckets[i].ID)
				}
			}
			if len(ids) > 0 {
				r = r.WithContext(context.WithValue(r.Context(), chargerKey{}, &charger{l: l, ids: ids}))
			}
			next.ServeHTTP(w, r)
		})
	}
}

type chargerKey struct{}

// charger charges a request's token usage to the buckets whose token
// limits applied when it was admitted.
type charger struct {
	l   *Limiter
	ids []string
}

// ChargeFromContext charges tokens used by a run to the limits of the
// request whose context is ctx, as admitted by Middleware. Call it once per
// finished model call or run with the real usage (prompt + completion +
// connector tokens); calls add up. It reports whether a token limit applied;
// without one, or outside the middleware, it does nothing.
func ChargeFromContext(ctx context.Context, tokens int) bool {
	c, _ := ctx.Value(chargerKey{}).(*charger)
	if c == nil {
		return false
	}
	c.l.charge(c.ids, tokens)
	return true
}
