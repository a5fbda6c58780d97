package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clearEnv unsets every variable Load reads, for the test's duration.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"TRAMONTANE_CONFIG", "TRAMONTANE_ADDR", "TRAMONTANE_DATA_DIR", "TRAMONTANE_DATABASE_URL",
		"TRAMONTANE_PUBLIC_URL", "TRAMONTANE_MAX_BODY_BYTES", "TRAMONTANE_MAX_UPLOAD_BYTES", "TRAMONTANE_SHUTDOWN_TIMEOUT",
		"TRAMONTANE_LOG_LEVEL", "TRAMONTANE_LOG_FORMAT", "TRAMONTANE_UPSTREAM_URL", "TRAMONTANE_BOOTSTRAP_KEY",
		"TRAMONTANE_UPSTREAM_API_KEY", "MISTRAL_API_KEY", "TRAMONTANE_RUN_LEASE", "TRAMONTANE_PING_INTERVAL",
		"TRAMONTANE_BODY_IDLE_TIMEOUT", "TRAMONTANE_MAX_CONNS_PER_CLIENT"} {
		t.Setenv(k, "")
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tramontane.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func flags(t *testing.T, args ...string) *Flags {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	f := RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if c.Addr != "127.0.0.1:8080" || c.MaxBodyBytes != 10<<20 || c.MaxUploadBytes != 512<<20 ||
		c.ShutdownTimeout != 30*time.Second || c.LogLevel != "info" || c.LogFormat != "json" {
		t.Errorf("defaults: %+v", c)
	}
	if !filepath.IsAbs(c.DataDir) || filepath.Base(c.DataDir) != d.DataDir {
		t.Errorf("data dir %q is not the absolute default", c.DataDir)
	}
	if c.ConfigFile != "" || c.Raw != nil || c.BootstrapKey != "" {
		t.Errorf("no file, no secrets expected: %+v", c)
	}
}

// TestPrecedence: defaults < file < environment < flags, field by field.
func TestPrecedence(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, `
addr: file:1
data_dir: /tmp/from-file
public_url: https://file.example
max_body_bytes: 2048
max_upload_bytes: 4096
shutdown_timeout: 5s
log_level: debug
log_format: text
bootstrap_key: file-bootstrap-key
models:
  - name: m
`)
	t.Setenv("TRAMONTANE_CONFIG", file)
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "file:1" || c.DataDir != "/tmp/from-file" || c.PublicURL != "https://file.example" ||
		c.MaxBodyBytes != 2048 || c.MaxUploadBytes != 4096 || c.ShutdownTimeout != 5*time.Second ||
		c.LogLevel != "debug" || c.LogFormat != "text" || c.BootstrapKey != "file-bootstrap-key" {
		t.Errorf("file over defaults: %+v", c)
	}
	if c.ConfigFile != file || !strings.Contains(string(c.Raw), "models:") {
		t.Errorf("ConfigFile %q / Raw %q", c.ConfigFile, c.Raw)
	}

	t.Setenv("TRAMONTANE_ADDR", "env:2")
	t.Setenv("TRAMONTANE_MAX_BODY_BYTES", "1MiB")
	t.Setenv("TRAMONTANE_SHUTDOWN_TIMEOUT", "1m")
	t.Setenv("TRAMONTANE_BOOTSTRAP_KEY", "env-bootstrap-key")
	t.Setenv("TRAMONTANE_UPSTREAM_API_KEY", "up-key")
	t.Setenv("MISTRAL_API_KEY", "mistral-key")
	c, err = Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "env:2" || c.MaxBodyBytes != 1<<20 || c.ShutdownTimeout != time.Minute || c.BootstrapKey != "env-bootstrap-key" ||
		c.UpstreamAPIKey != "up-key" || c.MistralAPIKey != "mistral-key" {
		t.Errorf("env over file: %+v", c)
	}
	if c.LogLevel != "debug" || c.MaxUploadBytes != 4096 {
		t.Errorf("file values the env does not set must stay: %+v", c)
	}

	other := writeFile(t, "log_level: warn\n")
	c, err = Load(flags(t, "--addr", "flag:3", "--max-body-bytes", "512KB", "--config", other, "--log-format", "json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "flag:3" || c.MaxBodyBytes != 512<<10 || c.ConfigFile != other || c.LogLevel != "warn" || c.LogFormat != "json" {
		t.Errorf("flags over env (and --config over TRAMONTANE_CONFIG): %+v", c)
	}
	if c.ShutdownTimeout != time.Minute {
		t.Errorf("env values no flag sets must stay: %v", c.ShutdownTimeout)
	}
	// Unset flags do not override anything.
	c, err = Load(flags(t))
	if err != nil || c.Addr != "env:2" {
		t.Errorf("empty flags: %q %v", c.Addr, err)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T){
		"missing file":     func(t *testing.T) { t.Setenv("TRAMONTANE_CONFIG", filepath.Join(t.TempDir(), "none.yaml")) },
		"bad YAML":         func(t *testing.T) { t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "addr: [unclosed\n")) },
		"bad size":         func(t *testing.T) { t.Setenv("TRAMONTANE_MAX_BODY_BYTES", "lots") },
		"zero size":        func(t *testing.T) { t.Setenv("TRAMONTANE_MAX_UPLOAD_BYTES", "0") },
		"negative size":    func(t *testing.T) { t.Setenv("TRAMONTANE_MAX_UPLOAD_BYTES", "-1MiB") },
		"bad duration":     func(t *testing.T) { t.Setenv("TRAMONTANE_SHUTDOWN_TIMEOUT", "forever") },
		"negative timeout": func(t *testing.T) { t.Setenv("TRAMONTANE_SHUTDOWN_TIMEOUT", "-1s") },
		"bad log format":   func(t *testing.T) { t.Setenv("TRAMONTANE_LOG_FORMAT", "xml") },
		"bad run lease":    func(t *testing.T) { t.Setenv("TRAMONTANE_RUN_LEASE", "soon") },
		"tiny run lease":   func(t *testing.T) { t.Setenv("TRAMONTANE_RUN_LEASE", "10ms") },
		"bad body timeout": func(t *testing.T) { t.Setenv("TRAMONTANE_BODY_IDLE_TIMEOUT", "-5s") },
		"bad conn cap":     func(t *testing.T) { t.Setenv("TRAMONTANE_MAX_CONNS_PER_CLIENT", "many") },
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			setup(t)
			if _, err := Load(nil); err == nil {
				t.Errorf("no error")
			}
		})
	}
	t.Run("errors are joined", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("TRAMONTANE_MAX_BODY_BYTES", "x")
		t.Setenv("TRAMONTANE_LOG_FORMAT", "xml")
		_, err := Load(nil)
		if err == nil || !strings.Contains(err.Error(), "MAX_BODY_BYTES") || !strings.Contains(err.Error(), "xml") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"1048576": 1 << 20, "0": 0, "10MiB": 10 << 20, "10mib": 10 << 20, " 10 MiB ": 10 << 20, "512KB": 512 << 10,
		"512KiB": 512 << 10, "1G": 1 << 30, "2GiB": 2 << 30, "3GB": 3 << 30, "7M": 7 << 20, "8K": 8 << 10, "100B": 100,
	}
	for in, want := range good {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5MiB", "ten", "10 TB", "0x10", "1e6"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

// KNOWN ISSUE (reported, not fixed): the config file's sizes are plain
// integers; "max_upload_bytes: 10MiB" in YAML fails to load, although the
// same value works in the environment and on the command line.
func TestSizesInFile(t *testing.T) {
	clearEnv(t)
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "max_upload_bytes: 1048576\n"))
	if c, err := Load(nil); err != nil || c.MaxUploadBytes != 1<<20 {
		t.Errorf("integer size in file: %d %v", c.MaxUploadBytes, err)
	}
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "max_upload_bytes: 10MiB\nmax_body_bytes: 512KB\n"))
	if c, err := Load(nil); err != nil || c.MaxUploadBytes != 10<<20 || c.MaxBodyBytes != 512<<10 {
		t.Errorf("sizes with units in file: %d %d %v", c.MaxUploadBytes, c.MaxBodyBytes, err)
	}
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "max_upload_bytes: lots\n"))
	if _, err := Load(nil); err == nil {
		t.Error("a bad size in the file was accepted")
	}
}

func TestRedacted(t *testing.T) {
	c := Defaults()
	c.BootstrapKey = "boot-secret-value"
	c.UpstreamAPIKey = "upstream-secret-value"
	c.MistralAPIKey = "mistral-secret-value"
	c.DatabaseURL = "postgres://tram:db-secret-value@db.internal:5432/tram?sslmode=require"
	c.Raw = []byte("providers: [{api_key: raw-secret-value}]")
	r := c.Redacted()
	text := fmt.Sprintf("%+v %v %#v", r, r, r)
	for _, secret := range []string{"boot-secret-value", "upstream-secret-value", "mistral-secret-value", "db-secret-value", "raw-secret-value"} {
		if strings.Contains(text, secret) {
			t.Errorf("Redacted() still shows %q", secret)
		}
	}
	if r.BootstrapKey != "[redacted]" || r.DatabaseURL != "postgres://tram:[redacted]@db.internal:5432/tram?sslmode=require" || r.Raw != nil {
		t.Errorf("redacted: %+v", r)
	}
	if c.BootstrapKey != "boot-secret-value" || c.Raw == nil {
		t.Errorf("Redacted modified the original")
	}
	// Empty secrets stay empty, so the log shows what is not configured.
	if e := Defaults().Redacted(); e.BootstrapKey != "" || e.MistralAPIKey != "" || e.DatabaseURL != "" {
		t.Errorf("empty secrets: %+v", e)
	}
	for in, want := range map[string]string{
		"postgres://u:p@ss@h/db":     "postgres://u:[redacted]@h/db",
		"postgres://user@h/db":       "postgres://user@h/db",
		"postgresql://h/db":          "postgresql://h/db",
		"/var/lib/tramontane/db.sql": "/var/lib/tramontane/db.sql",
	} {
		c := Defaults()
		c.DatabaseURL = in
		if got := c.Redacted().DatabaseURL; got != want {
			t.Errorf("redact %q = %q, want %q", in, got, want)
		}
	}
}

func TestSection(t *testing.T) {
	raw := []byte("addr: x\nweb_search:\n  engine: searxng\n  max_results: 3\ncode_interpreter:\n  nope: 1\n")
	var ws struct {
		Engine     string `yaml:"engine"`
		MaxResults int    `yaml:"max_results"`
	}
	if ok, err := Section(raw, "web_search", &ws); !ok || err != nil || ws.Engine != "searxng" || ws.MaxResults != 3 {
		t.Fatalf("Section: %v %v %+v", ok, err, ws)
	}
	var other struct{}
	if ok, err := Section(raw, "rate_limits", &other); ok || err != nil {
		t.Fatalf("absent section: %v %v", ok, err)
	}
	var strict struct {
		Known int `yaml:"known"`
	}
	if _, err := Section(raw, "code_interpreter", &strict); err == nil || !strings.Contains(err.Error(), "code_interpreter:") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	if _, err := Section([]byte("models: [unclosed"), "models", &strict); err == nil {
		t.Fatal("malformed YAML accepted")
	}
	if _, err := Section(raw, "unlisted", &strict); err == nil || !strings.Contains(err.Error(), "config.Sections") {
		t.Fatalf("a section missing from config.Sections was read: %v", err)
	}
}

// Unknown top-level keys are rejected like unknown keys inside a section;
// every key a subsystem reads is accepted.
func TestUnknownTopLevelKey(t *testing.T) {
	clearEnv(t)
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "addr: 127.0.0.1:1\nprovider:\n  - name: x\n"))
	_, err := Load(nil)
	if err == nil || !strings.Contains(err.Error(), `unknown top-level key "provider"`) || !strings.Contains(err.Error(), "providers") {
		t.Fatalf("err = %v", err)
	}
	// The scale-out settings are inline fields of Config: their keys are
	// top-level keys of the file.
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "blob_url: local\nredis_url: redis://127.0.0.1:1/0\nrate_limit_local: true\n"))
	if c, err := Load(nil); err != nil || c.ScaleOut.BlobURL != "local" || !c.ScaleOut.RateLimitLocal {
		t.Fatalf("scale-out keys in the file: %+v, %v", c.ScaleOut, err)
	}
	var all strings.Builder
	for _, k := range topLevelKeys() {
		fmt.Fprintf(&all, "%s: null\n", k)
	}
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, all.String()))
	if _, err := Load(nil); err != nil {
		t.Fatalf("known keys refused: %v", err)
	}
}

// TestReliabilitySettings: the reliability settings' defaults, and their
// environment variables and config keys.
func TestReliabilitySettings(t *testing.T) {
	clearEnv(t)
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.RunLease != 20*time.Second || c.Engine.PingInterval != 10*time.Second || c.HTTP.BodyIdleTimeout != 20*time.Second ||
		c.HTTP.BodyMinRate != 1<<10 || c.HTTP.MaxConnsPerClient != 512 {
		t.Errorf("defaults: engine %+v, http %+v", c.Engine, c.HTTP)
	}
	t.Setenv("TRAMONTANE_CONFIG", writeFile(t, "engine: {run_lease: 30s, ping_interval: 5s}\nhttp: {body_idle_timeout: 7s, body_min_rate: 4KiB, max_conns_per_client: 3}\n"))
	t.Setenv("TRAMONTANE_RUN_LEASE", "9s")
	t.Setenv("TRAMONTANE_MAX_CONNS_PER_CLIENT", "0")
	c, err = Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.RunLease != 9*time.Second || c.Engine.PingInterval != 5*time.Second || c.HTTP.BodyIdleTimeout != 7*time.Second ||
		c.HTTP.BodyMinRate != 4<<10 || c.HTTP.MaxConnsPerClient != 0 {
		t.Errorf("file and environment: engine %+v, http %+v", c.Engine, c.HTTP)
	}
}
