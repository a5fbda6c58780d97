package blob

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultS3PartSize is the part size of S3 multipart uploads: the memory
// one upload holds while it streams (S3 allows parts of 5 MiB and more,
// and 10,000 parts: objects up to 80 GB).
const DefaultS3PartSize = 8 << 20

// s3OpenTimeout bounds the check OpenS3 makes.
const s3OpenTimeout = 15 * time.Second

// S3Config locates an S3-compatible bucket and says how to sign requests.
type S3Config struct {
	// Bucket and Prefix: where blobs go (Prefix may be empty; a '/' is
	// added between it and the keys).
	Bucket, Prefix string
	// Endpoint is the server's URL or host:port. Empty: AWS S3 (from the
	// region). A host:port without a scheme means https.
	Endpoint string
	// Region: empty lets the client ask the server.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken, when set, sign every
	// request. Empty: the AWS chain (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, the shared credentials file, then the
	// instance's IAM role).
	AccessKeyID, SecretAccessKey, SessionToken string
	// PathStyle: "path" (bucket in the path, what most self-hosted stores
	// want), "virtual" (bucket in the host name) or "" (the client decides
	// per endpoint).
	PathStyle string
	// PartSize of multipart uploads; 0: DefaultS3PartSize.
	PartSize int64
	// OpenTimeout bounds the check OpenS3 makes; 0: 15 s.
	OpenTimeout time.Duration
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseS3URL splits s3://bucket/prefix into its bucket and prefix, checking
// the bucket name as S3 does.
func ParseS3URL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3://bucket/prefix URL", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return "", "", fmt.Errorf("%q: %q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", u, bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if strings.Contains(prefix, "//") || strings.ContainsAny(prefix, "?#\\\x00") {
		return "", "", fmt.Errorf("%q: bad key prefix %q", u, prefix)
	}
	return bucket, prefix, nil
}

// S3 keeps blobs as objects of an S3-compatible bucket (AWS S3, MinIO,
// Garage, SeaweedFS, Ceph RGW, Versity). A Put of unknown length streams
// as a multipart upload, one part in memory at a time; S3 makes an object
// visible only once complete, so readers never see a partial blob, and a
// failed upload is aborted.
type S3 struct {
	c        *minio.Client
	bucket   string
	prefix   string // "" or ends with '/'
	partSize int64
}

// OpenS3 connects to the bucket cfg names and checks that it exists and
// that the credentials may read it.
func OpenS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if !bucketName.MatchString(cfg.Bucket) {
		return nil, fmt.Errorf("blob.OpenS3: %q is not an S3 bucket name", cfg.Bucket)
	}
	host, secure, err := s3Endpoint(cfg.Endpoint, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("blob.OpenS3: %w", err)
	}
	lookup := minio.BucketLookupAuto
	switch cfg.PathStyle {
	case "path":
		lookup = minio.BucketLookupPath
	case "virtual":
		lookup = minio.BucketLookupDNS
	case "", "auto":
	default:
		return nil, fmt.Errorf("blob.OpenS3: path style %q: want path, virtual or auto", cfg.PathStyle)
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        s3Credentials(cfg),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("blob.OpenS3: %w", err)
	}
	// Bounded: a server that does not answer must not hold the start.
	timeout := cfg.OpenTimeout
	if timeout <= 0 {
		timeout = s3OpenTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := c.BucketExists(cctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob.OpenS3: bucket %s at %s: %w", cfg.Bucket, host, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob.OpenS3: bucket %s does not exist at %s; create it first", cfg.Bucket, host)
	}
	s := &S3{c: c, bucket: cfg.Bucket, partSize: cfg.PartSize}
	if cfg.Prefix != "" {
		s.prefix = strings.Trim(cfg.Prefix, "/") + "/"
	}
	if s.partSize <= 0 {
		s.partSize = DefaultS3PartSize
	}
	return s, nil
}

// s3Endpoint returns the host[:port] to reach and whether it is https.
func s3Endpoint(endpoint, region string) (string, bool, error) {
	if endpoint == "" {
		if region == "" || region == "us-east-1" {
			return "s3.amazonaws.com", true, nil
		}
		return "s3." + region + ".amazonaws.com", true, nil
	}
	if !strings.Contains(endpoint, "://") {
		return endpoint, true, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return "", false, fmt.Errorf("endpoint %q: want http(s)://host[:port] or host[:port]", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// s3Credentials returns the static keys of cfg, or else the AWS chain.
func s3Credentials(cfg S3Config) *credentials.Credentials {
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		return credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	}
	file := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if file == "" {
		if home, err := os.UserHomeDir(); err == nil {
			file = filepath.Join(home, ".aws", "credentials")
		}
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{Filename: file, Profile: os.Getenv("AWS_PROFILE")},
		&credentials.IAM{},
	})
}

// Put streams r into key as one object (a multipart upload beyond one
// part).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, max int64) (PutResult, error) {
	if err := CheckKey(key); err != nil {
		return PutResult{}, err
	}
	m := newMeter()
	br := bounded(r, max, m)
	_, err := s.c.PutObject(ctx, s.bucket, s.prefix+key, br, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    uint64(s.partSize),
	})
	if max > 0 && m.n > max {
		return PutResult{}, ErrTooLarge
	}
	if err != nil {
		return PutResult{}, fmt.Errorf("blob: s3 put %s: %w", key, err)
	}
	return m.result(), nil
}

// Open returns a reader of key's object. Reads after a Seek are ranged
// GETs, so serving a range does not fetch the whole object.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 open %s: %w", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if isS3NotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("blob: s3 open %s: %w", key, err)
	}
	return obj, nil
}

func isS3NotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == "NotFound" || minio.ToErrorResponse(err).StatusCode == http.StatusNotFound
}

// Delete removes key's object; a missing object is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil && !isS3NotFound(err) {
		return fmt.Errorf("blob: s3 delete %s: %w", key, err)
	}
	return nil
}

// List calls fn with the key of every object under the prefix that is a
// blob key (objects of other applications under it are skipped).
func (s *S3) List(parent context.Context, fn func(key string) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel() // stops the listing if fn fails
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("blob: s3 list: %w", obj.Err)
		}
		key := strings.TrimPrefix(obj.Key, s.prefix)
		if CheckKey(key) != nil {
			continue
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("blob: s3 list: %w", err)
	}
	return nil
}
