package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestScaleOutSettings(t *testing.T) {
	t.Setenv("TRAMONTANE_CONFIG", "")
	t.Setenv("TRAMONTANE_BLOB_URL", "postgres")
	t.Setenv("TRAMONTANE_REDIS_URL", "redis://:hunter2@redis:6379/0")
	t.Setenv("TRAMONTANE_RATE_LIMIT_FAIL_OPEN", "true")
	t.Setenv("TRAMONTANE_INSTANCE_URL", "http://10.0.0.1:8080")
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	so := c.ScaleOut
	if so.BlobURL != "postgres" || so.RedisURL == "" || !so.RateLimitFailOpen || so.RateLimitLocal || so.InstanceURL != "http://10.0.0.1:8080" {
		t.Fatalf("ScaleOut = %+v", so)
	}
	if r := c.Redacted().ScaleOut.RedisURL; strings.Contains(r, "hunter2") {
		t.Fatalf("redacted Redis URL shows the password: %s", r)
	}
	for env, val := range map[string]string{
		"TRAMONTANE_BLOB_URL":             "s3://Bad_Bucket/prefix",
		"TRAMONTANE_S3_PATH_STYLE":        "sideways",
		"TRAMONTANE_S3_ACCESS_KEY_ID":     "only-the-id",
		"TRAMONTANE_RATE_LIMIT_FAIL_OPEN": "sometimes",
		"TRAMONTANE_INSTANCE_URL":         "10.0.0.1:8080",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, val)
			if _, err := Load(nil); err == nil || !strings.Contains(err.Error(), env) {
				t.Fatalf("%s=%s: %v, want an error naming it", env, val, err)
			}
		})
	}
}

// The S3 settings come from the file, the AWS variables, then Tramontane's
// own (strongest); the secret never shows in the redacted config.
func TestS3Settings(t *testing.T) {
	clearEnv(t)
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION",
		"TRAMONTANE_S3_ENDPOINT", "TRAMONTANE_S3_REGION", "TRAMONTANE_S3_ACCESS_KEY_ID", "TRAMONTANE_S3_SECRET_ACCESS_KEY",
		"TRAMONTANE_S3_PATH_STYLE", "TRAMONTANE_BLOB_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, `blob_url: s3://team-blobs/tramontane
s3:
  endpoint: http://minio.internal:9000
  region: eu-west-3
  access_key_id: AKIAFILE
  secret_access_key: file-secret-value
  path_style: path
`))
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := S3{Endpoint: "http://minio.internal:9000", Region: "eu-west-3", AccessKeyID: "AKIAFILE", SecretAccessKey: "file-secret-value", PathStyle: "path"}
	if c.ScaleOut.BlobURL != "s3://team-blobs/tramontane" || c.ScaleOut.S3 != want {
		t.Fatalf("from the file: %q %+v", c.ScaleOut.BlobURL, c.ScaleOut.S3)
	}
	if r := fmt.Sprintf("%+v", c.Redacted()); strings.Contains(r, "file-secret-value") {
		t.Fatalf("the redacted config shows the S3 secret: %s", r)
	}
	t.Setenv("AWS_REGION", "us-east-2")
	t.Setenv("AWS_ENDPOINT_URL", "https://s3.example.net")
	if c, _ = Load(nil); c.ScaleOut.S3.Region != "us-east-2" || c.ScaleOut.S3.Endpoint != "https://s3.example.net" {
		t.Fatalf("AWS variables: %+v", c.ScaleOut.S3)
	}
	t.Setenv("TRAMONTANE_S3_REGION", "eu-north-1")
	t.Setenv("AWS_ENDPOINT_URL_S3", "https://s3-only.example.net")
	if c, _ = Load(nil); c.ScaleOut.S3.Region != "eu-north-1" || c.ScaleOut.S3.Endpoint != "https://s3-only.example.net" {
		t.Fatalf("Tramontane's variables win: %+v", c.ScaleOut.S3)
	}
}
