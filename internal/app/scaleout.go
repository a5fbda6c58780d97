package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/cluster"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/ratelimit"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

// BlobKind names the blob store c selects: "local", "postgres" or "s3".
func BlobKind(c config.Config) string {
	switch u := c.ScaleOut.BlobURL; {
	case strings.HasPrefix(u, "s3://"):
		return "s3"
	case u == "local":
		return "local"
	case u == "postgres", sqlstore.IsPostgres(u):
		return "postgres"
	case sqlstore.IsPostgres(c.DatabaseURL):
		return "postgres"
	}
	return "local"
}

// OpenBlobs opens the blob store c selects (see BlobKind). The closer
// releases its connections.
func OpenBlobs(ctx context.Context, c config.Config) (blob.Store, io.Closer, error) {
	switch BlobKind(c) {
	case "s3":
		bucket, prefix, err := blob.ParseS3URL(c.ScaleOut.BlobURL)
		if err != nil {
			return nil, nil, fmt.Errorf("blob store: %w", err)
		}
		s3 := c.ScaleOut.S3
		st, err := blob.OpenS3(ctx, blob.S3Config{Bucket: bucket, Prefix: prefix, Endpoint: s3.Endpoint, Region: s3.Region,
			AccessKeyID: s3.AccessKeyID, SecretAccessKey: s3.SecretAccessKey, PathStyle: s3.PathStyle})
		if err != nil {
			return nil, nil, err
		}
		return st, nopCloser{}, nil
	case "postgres":
		url := c.ScaleOut.BlobURL
		if !sqlstore.IsPostgres(url) {
			url = c.DatabaseURL
		}
		if !sqlstore.IsPostgres(url) {
			return nil, nil, errors.New("blob store postgres: the database is not PostgreSQL; set TRAMONTANE_DATABASE_URL or a postgres:// TRAMONTANE_BLOB_URL")
		}
		p, err := blob.OpenPostgres(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		return p, p, nil
	}
	l, err := blob.NewLocal(filepath.Join(c.DataDir, "files"))
	return l, nopCloser{}, err
}

// warnUnmigratedBlobs logs when blobs go to PostgreSQL or S3 but the data
// dir still holds blobs of the local store (an install from before, or one
// moved from SQLite): those are not read until migrate-blobs copies them.
func warnUnmigratedBlobs(c config.Config, logger *slog.Logger) {
	kind := BlobKind(c)
	if kind == "local" {
		return
	}
	entries, err := os.ReadDir(filepath.Join(c.DataDir, "files"))
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "tmp" {
			to := kind
			if kind == "s3" {
				to = c.ScaleOut.BlobURL
			}
			logger.Warn("the data dir holds file blobs, but blobs are kept in "+kind+": files stored before are not served until they are copied; run: tramontane migrate-blobs --from local --to "+to+" (or set TRAMONTANE_BLOB_URL=local to keep them on disk)",
				"dir", filepath.Join(c.DataDir, "files"))
			return
		}
	}
}

// errUnsharedLimits is the answer to a limited request on PostgreSQL
// without a shared rate-limit store.
var errUnsharedLimits = apierr.New(apierr.Unavailable,
	"this API key or workspace has rate limits, but the server runs on PostgreSQL (where several instances may share the database) without a shared rate-limit store: "+
		"set TRAMONTANE_REDIS_URL on every instance, or TRAMONTANE_RATE_LIMIT_LOCAL=true if this is the only instance")

// newLimiter builds the rate limiter: in process on SQLite (one server) or
// with TRAMONTANE_RATE_LIMIT_LOCAL, in Redis with TRAMONTANE_REDIS_URL. On
// PostgreSQL without either, configured limits stop the start, and keys
// with their own limits are refused with 503 naming the fix: limits are
// never silently multiplied by the number of instances.
func newLimiter(ctx context.Context, c config.Config, limits ratelimit.Config, logger *slog.Logger) (*ratelimit.Limiter, io.Closer, error) {
	so := c.ScaleOut
	if so.RedisURL != "" {
		ratelimit.SetRedisLogger(logger)
		r, err := ratelimit.NewRedis(so.RedisURL, time.Second)
		if err != nil {
			return nil, nil, fmt.Errorf("rate limits: TRAMONTANE_REDIS_URL: %w", err)
		}
		if err := r.Ping(ctx); err != nil {
			logger.Warn("rate limits: Redis does not answer at start", "err", err, "fail_open", so.RateLimitFailOpen)
		}
		l := ratelimit.NewWithState(limits, nil, r)
		var last atomic.Int64
		l.SetFailOpen(so.RateLimitFailOpen, func(err error) {
			if now := time.Now().Unix(); now-last.Swap(now) >= 10 { // at most one line per 10s
				logger.Error("rate limits: Redis unreachable", "err", err, "fail_open", so.RateLimitFailOpen)
			}
		})
		return l, r, nil
	}
	if !sqlstore.IsPostgres(c.DatabaseURL) || so.RateLimitLocal {
		return ratelimit.New(limits, nil), nopCloser{}, nil
	}
	if limitsConfigured(limits) {
		return nil, nil, errors.New("rate limits are configured and the store is PostgreSQL, where several instances may share the database, but no shared rate-limit store is set: " +
			"set TRAMONTANE_REDIS_URL (Redis) on every instance, or TRAMONTANE_RATE_LIMIT_LOCAL=true if this is the only instance")
	}
	return ratelimit.NewWithState(limits, nil, ratelimit.Unshared{Err: errUnsharedLimits}), nopCloser{}, nil
}

func limitsConfigured(c ratelimit.Config) bool {
	if c.Default.RPS > 0 || c.Default.TPM > 0 {
		return true
	}
	for _, l := range c.Workspaces {
		if l.RPS > 0 || l.TPM > 0 {
			return true
		}
	}
	for _, l := range c.Tiers {
		if l.RPS > 0 || l.TPM > 0 {
			return true
		}
	}
	return false
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// joinCluster makes the instance reachable by the others sharing its
// PostgreSQL database, and wraps the code_interpreter connector so that a
// conversation's calls run on the instance holding its Python session
// (internal/cluster). On SQLite (one server) it does nothing.
func (a *App) joinCluster(ctx context.Context, conns engine.Connectors) error {
	if !sqlstore.IsPostgres(a.Config.DatabaseURL) {
		return nil
	}
	secret, err := a.Store.Secret(ctx, "cluster_key", func() string {
		var k [32]byte
		_, _ = rand.Read(k[:])
		return hex.EncodeToString(k[:])
	})
	if err != nil {
		return fmt.Errorf("cluster key: %w", err)
	}
	key, err := hex.DecodeString(secret)
	if err != nil {
		return fmt.Errorf("cluster key: %w", err)
	}
	node, err := cluster.Open(ctx, a.Config.DatabaseURL, key)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, node)
	a.node = node
	if u := a.Config.ScaleOut.InstanceURL; u != "" {
		node.SetURL(strings.TrimRight(u, "/"))
	}
	if local, ok := conns["code_interpreter"].(cluster.LocalCode); ok {
		code := cluster.NewCode(node, local, a.Logger)
		conns["code_interpreter"] = code
		a.internal = code.Handler()
	}
	return nil
}

// HTTPHandler is the handler to serve: the API, plus the internal
// endpoints of the cluster on PostgreSQL.
func (a *App) HTTPHandler() http.Handler {
	if a.internal == nil {
		return a.Handler
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+cluster.CodePath, a.internal)
	mux.Handle("/", a.Handler)
	return mux
}

// SetInstanceURL sets the URL at which the other instances reach this one,
// unless TRAMONTANE_INSTANCE_URL set it. Serve calls it with the address
// it listens on.
func (a *App) SetInstanceURL(u string) {
	if a.node != nil && a.Config.ScaleOut.InstanceURL == "" {
		a.node.SetURL(u)
	}
}

// instanceURL derives this instance's URL from its listen address: a
// wildcard address becomes the host name.
func instanceURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		} else {
			host = "127.0.0.1"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}
