package config

import (
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
		"TRAMONTANE_BLOB_URL":             "s3://bucket/prefix",
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
