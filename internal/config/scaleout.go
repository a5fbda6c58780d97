package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/blob"
)

// ScaleOut holds the settings of several instances sharing one PostgreSQL
// database: where blobs live, the shared rate-limit store, and how the
// instances reach each other.
type ScaleOut struct {
	// BlobURL selects the blob store: "local" (the data dir's files/),
	// "postgres" (the store's database), a postgres:// URL (another
	// database) or s3://bucket/prefix (an S3-compatible store, see S3).
	// Empty: postgres when the store is PostgreSQL, else local.
	BlobURL string `yaml:"blob_url"`
	// S3 says how to reach an s3:// BlobURL's bucket.
	S3 S3 `yaml:"s3"`
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

// S3 holds the endpoint and credentials of an S3-compatible blob store.
// Unset fields fall back to the AWS environment variables (AWS_ENDPOINT_URL_S3
// or AWS_ENDPOINT_URL, AWS_REGION or AWS_DEFAULT_REGION), and unset keys to
// the AWS credential chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the
// shared credentials file, the instance's IAM role).
type S3 struct {
	// Endpoint is the server's URL, e.g. http://minio:9000. Empty: AWS S3.
	Endpoint string `yaml:"endpoint"`
	// Region of the bucket; empty: asked of the server.
	Region string `yaml:"region"`
	// AccessKeyID and SecretAccessKey sign the requests.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// PathStyle: path (bucket in the URL path; most self-hosted stores),
	// virtual (bucket in the host name) or auto (default).
	PathStyle string `yaml:"path_style"`
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
	env(&s.S3.Endpoint, "AWS_ENDPOINT_URL")
	env(&s.S3.Endpoint, "AWS_ENDPOINT_URL_S3")
	env(&s.S3.Endpoint, "TRAMONTANE_S3_ENDPOINT")
	env(&s.S3.Region, "AWS_DEFAULT_REGION")
	env(&s.S3.Region, "AWS_REGION")
	env(&s.S3.Region, "TRAMONTANE_S3_REGION")
	env(&s.S3.AccessKeyID, "TRAMONTANE_S3_ACCESS_KEY_ID")
	env(&s.S3.SecretAccessKey, "TRAMONTANE_S3_SECRET_ACCESS_KEY")
	env(&s.S3.PathStyle, "TRAMONTANE_S3_PATH_STYLE")
	boolean(&s.RateLimitFailOpen, "TRAMONTANE_RATE_LIMIT_FAIL_OPEN")
	boolean(&s.RateLimitLocal, "TRAMONTANE_RATE_LIMIT_LOCAL")
	if err := CheckBlobURL(s.BlobURL); err != nil {
		errs = append(errs, fmt.Errorf("TRAMONTANE_BLOB_URL: %w", err))
	}
	switch s.S3.PathStyle {
	case "", "auto", "path", "virtual":
	default:
		errs = append(errs, fmt.Errorf("TRAMONTANE_S3_PATH_STYLE: %q: want path, virtual or auto", s.S3.PathStyle))
	}
	if (s.S3.AccessKeyID == "") != (s.S3.SecretAccessKey == "") {
		errs = append(errs, errors.New("TRAMONTANE_S3_ACCESS_KEY_ID and TRAMONTANE_S3_SECRET_ACCESS_KEY: set both or neither (neither: the AWS credential chain)"))
	}
	if s.InstanceURL != "" && !strings.HasPrefix(s.InstanceURL, "http://") && !strings.HasPrefix(s.InstanceURL, "https://") {
		errs = append(errs, fmt.Errorf("TRAMONTANE_INSTANCE_URL: %q is not an http(s) URL", s.InstanceURL))
	}
	return errs
}

// CheckBlobURL reports a blob store setting that names no store: want ""
// (automatic), local, postgres, a postgres:// URL or s3://bucket/prefix.
func CheckBlobURL(b string) error {
	switch {
	case b == "", b == "local", b == "postgres", strings.HasPrefix(b, "postgres://"), strings.HasPrefix(b, "postgresql://"):
		return nil
	case strings.HasPrefix(b, "s3://"):
		_, _, err := blob.ParseS3URL(b)
		return err
	}
	return fmt.Errorf("%q: want local, postgres, a postgres:// URL or s3://bucket/prefix", b)
}
