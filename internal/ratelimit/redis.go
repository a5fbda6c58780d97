package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a State shared by every instance that uses the same Redis
// server. Take is one Lua script (one round trip, atomic): GCRA for the
// request buckets (the theoretical arrival time is kept per bucket, in
// microseconds) and a per-minute counter for the token windows. Charge is
// one pipelined INCRBY + EXPIRE per bucket. Keys share one hash tag, so a
// Redis Cluster keeps them on one shard and the script stays atomic.
//
// Every call is bounded by the timeout given to NewRedis: a Redis server
// that is down or slow yields an error, never a hang.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// NewRedis returns a State on the Redis server at url (redis:// or
// rediss://, as go-redis parses it). timeout bounds each call (0: 1s).
func NewRedis(url string, timeout time.Duration) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ratelimit.NewRedis: %w", err)
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
	opt.MaxRetries = 0
	opt.ContextTimeoutEnabled = true
	return &Redis{c: redis.NewClient(opt), prefix: "tramontane:rl:{rl}:", timeout: timeout}, nil
}

// Ping checks that the server answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.c.Ping(ctx).Err()
}

// Close closes the connections.
func (r *Redis) Close() error { return r.c.Close() }

// takeScript: KEYS are, per bucket, its GCRA key and its token-window key;
// ARGV[1] is now in microseconds, then per bucket the emission interval in
// microseconds (0: no request limit), the burst and the token budget (0: no
// token limit). It returns ok (1/0) then, per bucket, the requests left,
// the request wait in microseconds, the tokens used and whether the token
// budget refused (1/0).
var takeScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local out = {1}
local tats = {}
for i = 1, n do
  local em = tonumber(ARGV[2 + (i-1)*3])
  local burst = tonumber(ARGV[3 + (i-1)*3])
  local tpm = tonumber(ARGV[4 + (i-1)*3])
  local reqs, wait, used, tokref = 0, 0, 0, 0
  if em > 0 then
    local tat = tonumber(redis.call('GET', KEYS[2*i-1]) or '0')
    if tat < now then tat = now end
    tats[i] = tat
    local avail = burst - (tat - now) / em
    reqs = math.floor(avail)
    if avail < 1 then
      out[1] = 0
      wait = math.ceil((1 - avail) * em)
    end
  end
  if tpm > 0 then
    used = tonumber(redis.call('GET', KEYS[2*i]) or '0')
    if used >= tpm then
      out[1] = 0
      tokref = 1
    end
  end
  table.insert(out, reqs)
  table.insert(out, wait)
  table.insert(out, used)
  table.insert(out, tokref)
end
if out[1] == 1 then
  for i = 1, n do
    local em = tonumber(ARGV[2 + (i-1)*3])
    local burst = tonumber(ARGV[3 + (i-1)*3])
    if em > 0 then
      local tat = tats[i] + em
      local ttl = math.ceil((tat - now) / 1000) + 1000
      redis.call('SET', KEYS[2*i-1], string.format('%d', tat), 'PX', ttl)
      local left = math.floor(burst - (tat - now) / em)
      if left < 0 then left = 0 end
      out[2 + (i-1)*4] = left
    end
  end
end
return out
`)

func (r *Redis) windowKey(id string, start time.Time) string {
	return r.prefix + id + ":tpm:" + strconv.FormatInt(start.Unix(), 10)
}

// Take implements State.
func (r *Redis) Take(now time.Time, buckets []Bucket) ([]Usage, bool, error) {
	start, left := Window(now)
	keys := make([]string, 0, 2*len(buckets))
	args := make([]any, 0, 1+3*len(buckets))
	args = append(args, now.UnixMicro())
	for _, b := range buckets {
		keys = append(keys, r.prefix+b.ID+":gcra", r.windowKey(b.ID, start))
		em := int64(0)
		if b.RPS > 0 {
			em = max(1, int64(float64(time.Second/time.Microsecond)/b.RPS))
		}
		args = append(args, em, b.Burst, b.TPM)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	res, err := takeScript.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return nil, false, fmt.Errorf("ratelimit.Redis.Take: %w", err)
	}
	if len(res) != 1+4*len(buckets) {
		return nil, false, fmt.Errorf("ratelimit.Redis.Take: unexpected reply of %d values", len(res))
	}
	usage := make([]Usage, len(buckets))
	for i, b := range buckets {
		v := res[1+4*i:]
		u := &usage[i]
		if b.RPS > 0 {
			u.Requests = int(v[0])
			u.RequestWait = time.Duration(v[1]) * time.Microsecond
		}
		if b.TPM > 0 {
			u.TokensUsed = v[2]
			u.TokenReset = left
			if v[3] == 1 {
				u.TokenWait = left
			}
		}
	}
	return usage, res[0] == 1, nil
}

// Charge implements State.
func (r *Redis) Charge(now time.Time, ids []string, tokens int64) error {
	if tokens <= 0 || len(ids) == 0 {
		return nil
	}
	start, _ := Window(now)
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			k := r.windowKey(id, start)
			p.IncrBy(ctx, k, tokens)
			p.Expire(ctx, k, 2*time.Minute)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ratelimit.Redis.Charge: %w", err)
	}
	return nil
}

// SetRedisLogger sends the Redis client's own messages (dial failures,
// pool events) to logger at debug level instead of the standard log: the
// limiter already reports what matters (a failed check), rate-limited in
// the caller. The client's logger is global to the process.
func SetRedisLogger(logger *slog.Logger) {
	redis.SetLogger(redisLog{logger})
}

type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.Debug("redis client: " + fmt.Sprintf(format, v...))
}
