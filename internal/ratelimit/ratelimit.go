// Package ratelimit enforces request and token limits per API key and per
// workspace.
//
// Two limits apply to each of the two scopes:
//
//   - requests per second (rps): a token bucket (golang.org/x/time/rate)
//     refilling at rps per second, holding at most max(1, ceil(rps));
//   - tokens per minute (tpm): a fixed window aligned to the clock's
//     minutes. Model tokens are charged after each run with the real usage
//     (Charge, or ChargeFromContext from a handler), and a request is
//     refused up front when the current minute's budget is already used up.
//     A run may overshoot the budget; the overshoot stays charged until the
//     window ends.
//
// A request is admitted only if every applicable limit admits it, and a
// refused request consumes nothing. A key's limits are resolved field by
// field: the key's own value when it is positive, else its tier's value
// when the key names a tier that the configuration defines (0 meaning
// unlimited), else the configured default (0 meaning unlimited). A
// configured tier with zero limits thus makes keys unlimited even when a
// default is set. Workspace limits come from the configuration, by
// workspace id, and are shared by all of the workspace's keys.
//
// Counters live behind the State interface. The in-process Memory state is
// right for a single instance; several instances behind one load balancer
// share a Redis State (NewRedis), so that a limit holds across all of them.
// When the shared State cannot be reached, a request is refused with 503
// (fail closed, the default) or admitted (fail open, SetFailOpen).
package ratelimit

import (
	"errors"
	"fmt"
	"github.com/tramontane/tramontane/internal/config"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// Limits are a scope's limits. Zero means unlimited.
type Limits struct {
	RPS float64 `yaml:"rps" json:"rps"`
	TPM int64   `yaml:"tpm" json:"tpm"`
}

// active reports whether any limit is set.
func (l Limits) active() bool { return l.RPS > 0 || l.TPM > 0 }

// Burst is the capacity of the request bucket for l.RPS: max(1, ceil(RPS)).
func (l Limits) Burst() int {
	if l.RPS <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(l.RPS)))
}

// Config is the rate_limits section of the server's configuration file:
//
//	rate_limits:
//	  default: {rps: 5, tpm: 200000}        # keys without own limits or tier
//	  tiers:
//	    free: {rps: 1, tpm: 20000}
//	    unlimited: {}                       # rps 0 and tpm 0: no limits
//	  workspaces:
//	    <workspace id>: {rps: 20, tpm: 1000000}
type Config struct {
	Default    Limits            `yaml:"default" json:"default"`
	Tiers      map[string]Limits `yaml:"tiers" json:"tiers"`
	Workspaces map[string]Limits `yaml:"workspaces" json:"workspaces"`
}

// ParseConfig reads the rate_limits section of a whole configuration file
// (YAML or JSON). A file without that section yields an empty Config: no
// limits. Unknown keys inside the section are errors, so typos surface.
func ParseConfig(file []byte) (Config, error) {
	var cfg Config
	if _, err := config.Section(file, "rate_limits", &cfg); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate reports negative or non-finite limits and empty names.
func (c Config) Validate() error {
	check := func(where string, l Limits) error {
		if math.IsNaN(l.RPS) || math.IsInf(l.RPS, 0) || l.RPS < 0 {
			return fmt.Errorf("rate_limits.%s.rps: must be a number >= 0 (0 means unlimited), got %v", where, l.RPS)
		}
		if l.TPM < 0 {
			return fmt.Errorf("rate_limits.%s.tpm: must be >= 0 (0 means unlimited), got %d", where, l.TPM)
		}
		return nil
	}
	if err := check("default", c.Default); err != nil {
		return err
	}
	for name, l := range c.Tiers {
		if strings.TrimSpace(name) == "" {
			return errors.New("rate_limits.tiers: a tier needs a name")
		}
		if err := check("tiers."+name, l); err != nil {
			return err
		}
	}
	for id, l := range c.Workspaces {
		if strings.TrimSpace(id) == "" {
			return errors.New("rate_limits.workspaces: a workspace entry needs an id")
		}
		if err := check("workspaces."+id, l); err != nil {
			return err
		}
	}
	return nil
}

// KeyLimits resolves the limits of a key with its own limits own and tier
// tier: per field, the key's positive value, else the tier's value if the
// tier is defined, else the default.
func (c Config) KeyLimits(own Limits, tier string) Limits {
	out := c.Default
	if t, ok := c.Tiers[tier]; ok && tier != "" {
		out = t
	}
	if own.RPS > 0 {
		out.RPS = own.RPS
	}
	if own.TPM > 0 {
		out.TPM = own.TPM
	}
	return out
}

// Limiter decides whether requests may proceed. A nil *Limiter admits
// everything. It is safe for concurrent use.
type Limiter struct {
	cfg      atomic.Pointer[Config]
	now      func() time.Time
	state    State
	failOpen bool
	onError  func(error)
}

// SetFailOpen makes the limiter admit requests when its State fails
// (instead of refusing them with 503), and report each failure to onError
// (may be nil). Call it before the limiter is used.
func (l *Limiter) SetFailOpen(open bool, onError func(error)) {
	l.failOpen, l.onError = open, onError
}

func (l *Limiter) stateFailed(err error) {
	if l.onError != nil {
		l.onError(err)
	}
}

// New returns a Limiter over in-process state. now is the clock; nil means
// time.Now.
func New(cfg Config, now func() time.Time) *Limiter {
	return NewWithState(cfg, now, NewMemory())
}

// NewWithState returns a Limiter keeping its counters in s, for instance a
// State shared by several instances.
func NewWithState(cfg Config, now func() time.Time, s State) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now, state: s}
	l.SetConfig(cfg)
	return l
}

// SetConfig replaces the configuration (for a reload); counters are kept.
func (l *Limiter) SetConfig(cfg Config) {
	l.cfg.Store(&cfg)
}

// Config returns the current configuration.
func (l *Limiter) Config() Config {
	return *l.cfg.Load()
}

// HasTier reports whether the configuration defines tier name, so that
// tools creating keys can warn about typos.
func (l *Limiter) HasTier(name string) bool {
	_, ok := l.cfg.Load().Tiers[name]
	return ok
}

// Scope names of the limits, as they appear in messages and Decision.Limit.
const (
	keyScope       = "key"
	workspaceScope = "workspace"
)

// plan is the set of buckets that apply to one request.
type plan struct {
	buckets [2]Bucket
	scopes  [2]string
	n       int
}

func (p *plan) add(scope, id string, l Limits) {
	if id == "" || !l.active() {
		return
	}
	p.buckets[p.n] = Bucket{ID: scope + ":" + id, RPS: max(0, l.RPS), Burst: l.Burst(), TPM: max(0, l.TPM)}
	p.scopes[p.n] = scope
	p.n++
}

func (l *Limiter) plan(keyID, workspaceID string, key Limits, tier string) plan {
	cfg := l.cfg.Load()
	var p plan
	p.add(keyScope, keyID, cfg.KeyLimits(key, tier))
	p.add(workspaceScope, workspaceID, cfg.Workspaces[workspaceID])
	return p
}

// Allow checks a request by key keyID of workspace workspaceID, whose own
// limits are key and whose tier is tier, and counts it if admitted. The
// Decision describes the applicable limits (for SetHeaders) whether or not
// the request is admitted. A refused request gets an *apierr.Error of kind
// RateLimited whose RetryAfter is the time after which every limit that
// refused will admit it again.
func (l *Limiter) Allow(keyID, workspaceID string, key Limits, tier string) (Decision, error) {
	if l == nil {
		return Decision{}, nil
	}
	return l.allow(l.plan(keyID, workspaceID, key, tier))
}

// allow checks and counts a request against the buckets of p.
func (l *Limiter) allow(p plan) (Decision, error) {
	if p.n == 0 {
		return Decision{}, nil
	}
	buckets := p.buckets[:p.n]
	usage, ok, err := l.state.Take(l.now(), buckets)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return Decision{}, ae // the State's own answer (Unshared)
		}
		l.stateFailed(err)
		if l.failOpen {
			return Decision{}, nil
		}
		e := apierr.Wrap(apierr.Unavailable, err, "rate limits cannot be checked right now (the shared rate-limit store is unreachable); retry shortly")
		e.RetryAfter = time.Second
		return Decision{}, e
	}
	d := decide(buckets, usage)
	if ok {
		return d, nil
	}
	var names, parts []string
	for i, b := range buckets {
		u := usage[i]
		owner := "the API key's"
		if p.scopes[i] == workspaceScope {
			owner = "the workspace's"
		}
		if u.RequestWait > 0 {
			names = append(names, p.scopes[i]+" rps")
			parts = append(parts, fmt.Sprintf("%s limit of %s requests per second (%s rps)",
				owner, strconv.FormatFloat(b.RPS, 'f', -1, 64), p.scopes[i]))
			d.RetryAfter = max(d.RetryAfter, u.RequestWait)
		}
		if u.TokenWait > 0 {
			names = append(names, p.scopes[i]+" tpm")
			parts = append(parts, fmt.Sprintf("%s limit of %d tokens per minute (%s tpm; %d used this minute)",
				owner, b.TPM, p.scopes[i], u.TokensUsed))
			d.RetryAfter = max(d.RetryAfter, u.TokenWait)
		}
	}
	d.Limit = strings.Join(names, ",")
	secs := ceilSeconds(d.RetryAfter)
	e := apierr.New(apierr.RateLimited, "rate limit exceeded: %s; retry after %d second%s",
		strings.Join(parts, " and "), secs, plural(secs))
	e.RetryAfter = d.RetryAfter
	e.Cause = &Refusal{Limit: d.Limit, RetryAfter: d.RetryAfter}
	return d, e
}

// Refusal is the Cause of the errors of refused requests. It lets the
// transport log which limit refused (Refused) without parsing messages.
type Refusal struct {
	Limit      string // as Decision.Limit, e.g. "key rps" or "key rps,workspace tpm"
	RetryAfter time.Duration
}

// Error names the limits.
func (r *Refusal) Error() string { return "refused by " + r.Limit }

// Refused reports the limits that refused the request whose error is err,
// for instance "workspace tpm", if err comes from Allow or Middleware.
func Refused(err error) (limit string, ok bool) {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Limit, true
	}
	return "", false
}

// Charge adds tokens (prompt plus completion plus connector tokens of a
// finished run) to the current minute's usage of the key and of its
// workspace.
func (l *Limiter) Charge(keyID, workspaceID string, tokens int) {
	if l == nil || tokens <= 0 {
		return
	}
	ids := make([]string, 0, 2)
	if keyID != "" {
		ids = append(ids, keyScope+":"+keyID)
	}
	if workspaceID != "" {
		ids = append(ids, workspaceScope+":"+workspaceID)
	}
	if err := l.state.Charge(l.now(), ids, int64(tokens)); err != nil {
		l.stateFailed(err)
	}
}

// charge adds tokens to the given buckets only.
func (l *Limiter) charge(ids []string, tokens int) {
	if tokens <= 0 || len(ids) == 0 {
		return
	}
	if err := l.state.Charge(l.now(), ids, int64(tokens)); err != nil {
		l.stateFailed(err)
	}
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
