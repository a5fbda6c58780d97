package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ScaleOut holds the settings of several instances sharing one PostgreSQL
// database: where blobs live, the shared rate-limit store, and how the
// instances reach each other.
type ScaleOut struct {
	// BlobURL selects the blob store: "local" (the data dir's files/),
	// "postgres" (the store's database) or a postgres:// URL (another
	// database). Empty: postgres when the store is PostgreSQL, else local.
	BlobURL string `yaml:"blob_url"`
	// RedisURL, when set, makes rate limits shared by every instance
	// using the same Redis.
	RedisURL string `yaml:"redis_url"`
	// RateLimitFailOpen admits requests when Redis cannot be reached
	// (default: refuse them with 503).
	RateLimitFailOpen bool `yaml:"rate_limit_fail_open"`
	// RateLimitLocal accepts per-instance rate limits on PostgreSQL
	// without Redis (only right for a single instance).
	RateLimitLocal bool `yaml:"rate_limit_local"`
	// InstanceURL is the base URL at which the other instances reach this
	// one (code_interpreter sessions are forwarded to their owner). Empty:
	// derived from the listen address.
	InstanceURL string `yaml:"instance_url"`
	// ForwardTimeout bounds a forwarded code_interpreter call (beyond the
	// tool's own timeout).
	ForwardTimeout time.Duration `yaml:"forward_timeout"`
}

// loadScaleOut applies the environment to c.ScaleOut.
func (c *Config) loadScaleOut() []error {
	var errs []error
	s := &c.ScaleOut
	env := func(dst *string, name string) {
		if v := os.Getenv(name); v != "" {
			*dst = v
		}
	}
	boolean := func(dst *bool, name string) {
		if v := os.Getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
				return
			}
			*dst = b
		}
	}
	env(&s.BlobURL, "TRAMONTANE_BLOB_URL")
	env(&s.RedisURL, "TRAMONTANE_REDIS_URL")
	env(&s.InstanceURL, "TRAMONTANE_INSTANCE_URL")
	boolean(&s.RateLimitFailOpen, "TRAMONTANE_RATE_LIMIT_FAIL_OPEN")
	boolean(&s.RateLimitLocal, "TRAMONTANE_RATE_LIMIT_LOCAL")
	if err := CheckBlobURL(s.BlobURL); err != nil {
		errs = append(errs, fmt.Errorf("TRAMONTANE_BLOB_URL: %w", err))
	}
	if s.InstanceURL != "" && !strings.HasPrefix(s.InstanceURL, "http://") && !strings.HasPrefix(s.InstanceURL, "https://") {
		errs = append(errs, fmt.Errorf("TRAMONTANE_INSTANCE_URL: %q is not an http(s) URL", s.InstanceURL))
	}
	return errs
}

// CheckBlobURL reports a blob store setting that names no store: want ""
// (automatic), local, postgres or a postgres:// URL.
func CheckBlobURL(b string) error {
	switch {
	case b == "", b == "local", b == "postgres", strings.HasPrefix(b, "postgres://"), strings.HasPrefix(b, "postgresql://"):
		return nil
	case strings.HasPrefix(b, "s3://"):
		return fmt.Errorf("%q: S3 blob stores are not supported yet; use postgres (the default on PostgreSQL)", b)
	}
	return fmt.Errorf("%q: want local, postgres or a postgres:// URL", b)
}
