// Package config loads Tramontane's settings. Precedence, lowest first:
// built-in defaults, the config file (TRAMONTANE_CONFIG or --config), the
// environment (TRAMONTANE_*), and command-line flags.
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is every server setting. Secrets (the bootstrap key, upstream API
// keys) are never logged; see Redacted.
type Config struct {
	Addr            string        `yaml:"addr"`
	DataDir         string        `yaml:"data_dir"`
	DatabaseURL     string        `yaml:"database_url"`
	BootstrapKey    string        `yaml:"bootstrap_key"`
	PublicURL       string        `yaml:"public_url"`
	MaxBodyBytes    Size          `yaml:"max_body_bytes"`
	MaxUploadBytes  Size          `yaml:"max_upload_bytes"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	LogLevel        string        `yaml:"log_level"`
	LogFormat       string        `yaml:"log_format"`

	// UpstreamURL and UpstreamAPIKey make an OpenAI-compatible server serve
	// every model name not otherwise routed.
	UpstreamURL    string `yaml:"upstream_url"`
	UpstreamAPIKey string `yaml:"upstream_api_key"`
	// MistralAPIKey routes Mistral's model names to Mistral's API.
	MistralAPIKey string `yaml:"mistral_api_key"`
	// EmbeddingsModel, a routed model name, embeds library chunks for
	// hybrid retrieval; empty means BM25 only.
	EmbeddingsModel string `yaml:"embeddings_model"`

	// Engine tunes the conversation run loop.
	Engine Engine `yaml:"engine"`
	// HTTP protects the listener from slow and greedy clients.
	HTTP HTTP `yaml:"http"`

	// ScaleOut configures several instances on one database (shared
	// blobs, shared rate limits, forwarding between instances).
	ScaleOut ScaleOut `yaml:",inline"`

	// ConfigFile is the file the settings were read from, if any.
	ConfigFile string `yaml:"-"`
	// Raw is the config file's content, for subsystems that read their own
	// sections (model routing, connectors).
	Raw []byte `yaml:"-"`
}

// Engine holds the run loop's limits.
type Engine struct {
	// MaxModelCalls caps model calls in one run.
	MaxModelCalls int `yaml:"max_model_calls"`
	// MaxRepeats stops a run when the model repeats one call this often.
	MaxRepeats int `yaml:"max_repeats"`
	// ToolTimeout bounds one connector execution.
	ToolTimeout time.Duration `yaml:"tool_timeout"`
	// RunLease is how long a run's claim on its conversation lasts unless
	// renewed; a crashed server's conversations are free again after it.
	RunLease time.Duration `yaml:"run_lease"`
	// PingInterval is how long a stream may stay quiet (a slow upstream, a
	// long tool run) before it gets a keep-alive comment.
	PingInterval time.Duration `yaml:"ping_interval"`
}

// HTTP holds the listener's protections against slow and greedy clients.
type HTTP struct {
	// BodyIdleTimeout ends a request whose body sends no byte this long.
	BodyIdleTimeout time.Duration `yaml:"body_idle_timeout"`
	// BodyMinRate is the average rate (bytes per second) a request body
	// must keep after a 10 s grace period.
	BodyMinRate Size `yaml:"body_min_rate"`
	// MaxConnsPerClient caps the connections open at once from one client
	// address (0: no cap).
	MaxConnsPerClient int `yaml:"max_conns_per_client"`
}

// Defaults returns the built-in settings.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "data",
		MaxBodyBytes:    10 << 20,
		MaxUploadBytes:  512 << 20,
		ShutdownTimeout: 30 * time.Second,
		LogLevel:        "info",
		LogFormat:       "json",
		HTTP:            HTTP{BodyIdleTimeout: 20 * time.Second, BodyMinRate: 1 << 10, MaxConnsPerClient: 512},
		Engine:          Engine{MaxModelCalls: 16, MaxRepeats: 3, ToolTimeout: 2 * time.Minute, RunLease: 20 * time.Second, PingInterval: 10 * time.Second},
	}
}

// Flags registers the flags of the serving settings on fs, bound to c's
// fields as seen after the file and environment are applied. Call Load
// afterwards.
type Flags struct {
	fs  *flag.FlagSet
	set map[string]*string
}

var flagNames = []struct{ name, usage string }{
	{"config", "config file (YAML); env TRAMONTANE_CONFIG"},
	{"addr", "listen address; env TRAMONTANE_ADDR (default 127.0.0.1:8080)"},
	{"data-dir", "data directory for SQLite and files; env TRAMONTANE_DATA_DIR (default ./data)"},
	{"database-url", "postgres:// URL selects PostgreSQL, else SQLite; env TRAMONTANE_DATABASE_URL"},
	{"public-url", "external base URL used in signed links; env TRAMONTANE_PUBLIC_URL"},
	{"max-body-bytes", "limit of JSON request bodies; env TRAMONTANE_MAX_BODY_BYTES"},
	{"max-upload-bytes", "limit of uploaded files; env TRAMONTANE_MAX_UPLOAD_BYTES"},
	{"shutdown-timeout", "grace period for in-flight requests on SIGTERM; env TRAMONTANE_SHUTDOWN_TIMEOUT"},
	{"log-level", "debug, info, warn or error; env TRAMONTANE_LOG_LEVEL"},
	{"log-format", "json or text; env TRAMONTANE_LOG_FORMAT"},
	{"upstream-url", "OpenAI-compatible server for unrouted models; env TRAMONTANE_UPSTREAM_URL"},
}

// RegisterFlags adds the server flags to fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, set: map[string]*string{}}
	for _, n := range flagNames {
		f.set[n.name] = fs.String(n.name, "", n.usage)
	}
	return f
}

// RegisterStorageFlags adds only the flags that choose the database and
// the config file (--config, --data-dir, --database-url): what commands
// that work on the store (keys, migrate) need.
func RegisterStorageFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, set: map[string]*string{}}
	for _, n := range flagNames {
		if n.name == "config" || n.name == "data-dir" || n.name == "database-url" {
			f.set[n.name] = fs.String(n.name, "", n.usage)
		}
	}
	return f
}

// Load builds the configuration from defaults, file, environment and flags
// (flags may be nil).
func Load(f *Flags) (Config, error) {
	c := Defaults()
	get := func(flagName, env string) string {
		if f != nil {
			if p := f.set[flagName]; p != nil && *p != "" {
				return *p
			}
		}
		return os.Getenv(env)
	}
	c.ConfigFile = get("config", "TRAMONTANE_CONFIG")
	if c.ConfigFile != "" {
		raw, err := os.ReadFile(c.ConfigFile)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		if err := yaml.Unmarshal(raw, &c); err != nil {
			return c, fmt.Errorf("config file %s: %w", c.ConfigFile, err)
		}
		if err := checkTopLevel(raw); err != nil {
			return c, fmt.Errorf("config file %s: %w", c.ConfigFile, err)
		}
		c.Raw = raw
	}
	str := func(dst *string, flagName, env string) {
		if v := get(flagName, env); v != "" {
			*dst = v
		}
	}
	str(&c.Addr, "addr", "TRAMONTANE_ADDR")
	str(&c.DataDir, "data-dir", "TRAMONTANE_DATA_DIR")
	str(&c.DatabaseURL, "database-url", "TRAMONTANE_DATABASE_URL")
	str(&c.PublicURL, "public-url", "TRAMONTANE_PUBLIC_URL")
	str(&c.LogLevel, "log-level", "TRAMONTANE_LOG_LEVEL")
	str(&c.LogFormat, "log-format", "TRAMONTANE_LOG_FORMAT")
	str(&c.UpstreamURL, "upstream-url", "TRAMONTANE_UPSTREAM_URL")
	if v := os.Getenv("TRAMONTANE_BOOTSTRAP_KEY"); v != "" {
		c.BootstrapKey = v
	}
	if v := os.Getenv("TRAMONTANE_UPSTREAM_API_KEY"); v != "" {
		c.UpstreamAPIKey = v
	}
	if v := os.Getenv("MISTRAL_API_KEY"); v != "" {
		c.MistralAPIKey = v
	}
	if v := os.Getenv("TRAMONTANE_EMBEDDINGS_MODEL"); v != "" {
		c.EmbeddingsModel = v
	}
	var errs []error
	num := func(dst *Size, flagName, env string) {
		if v := get(flagName, env); v != "" {
			n, err := parseSize(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive size", env, v))
				return
			}
			*dst = Size(n)
		}
	}
	num(&c.MaxBodyBytes, "max-body-bytes", "TRAMONTANE_MAX_BODY_BYTES")
	num(&c.MaxUploadBytes, "max-upload-bytes", "TRAMONTANE_MAX_UPLOAD_BYTES")
	if v := get("shutdown-timeout", "TRAMONTANE_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("TRAMONTANE_SHUTDOWN_TIMEOUT: %q is not a duration", v))
		} else {
			c.ShutdownTimeout = d
		}
	}
	if v := os.Getenv("TRAMONTANE_MAX_MODEL_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("TRAMONTANE_MAX_MODEL_CALLS: %q is not a positive integer", v))
		} else {
			c.Engine.MaxModelCalls = n
		}
	}
	errs = append(errs, c.loadScaleOut()...)
	dur := func(dst *time.Duration, env string) {
		if v := os.Getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive duration", env, v))
			} else {
				*dst = d
			}
		}
	}
	dur(&c.Engine.RunLease, "TRAMONTANE_RUN_LEASE")
	dur(&c.Engine.PingInterval, "TRAMONTANE_PING_INTERVAL")
	dur(&c.HTTP.BodyIdleTimeout, "TRAMONTANE_BODY_IDLE_TIMEOUT")
	if v := os.Getenv("TRAMONTANE_MAX_CONNS_PER_CLIENT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("TRAMONTANE_MAX_CONNS_PER_CLIENT: %q is not a count", v))
		} else {
			c.HTTP.MaxConnsPerClient = n
		}
	}
	if c.Engine.RunLease < time.Second {
		errs = append(errs, fmt.Errorf("engine.run_lease %s: must be at least 1s (it is renewed every quarter lease)", c.Engine.RunLease))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log format %q: want json or text", c.LogFormat))
	}
	if c.DataDir != "" {
		if abs, err := filepath.Abs(c.DataDir); err == nil {
			c.DataDir = abs
		}
	}
	return c, errors.Join(errs...)
}

// Size is a byte count; in the config file it may carry a unit ("10MiB").
type Size int64

// UnmarshalYAML reads a number of bytes or a size with a unit.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseSize(n.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a positive size (e.g. 1048576 or 10MiB)", n.Line, n.Value)
	}
	*s = Size(v)
	return nil
}

// parseSize reads "1048576", "10MiB", "512KB", "1G".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// Redacted returns a copy safe to log.
func (c Config) Redacted() Config {
	r := c
	r.Raw = nil
	for _, p := range []*string{&r.BootstrapKey, &r.UpstreamAPIKey, &r.MistralAPIKey, &r.ScaleOut.S3.SecretAccessKey} {
		if *p != "" {
			*p = "[redacted]"
		}
	}
	if r.DatabaseURL != "" {
		r.DatabaseURL = redactURL(r.DatabaseURL)
	}
	r.ScaleOut.RedisURL = redactURL(r.ScaleOut.RedisURL)
	r.ScaleOut.BlobURL = redactURL(r.ScaleOut.BlobURL)
	return r
}

func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	cred := u[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return u[:scheme+3] + user + ":[redacted]" + u[at:]
	}
	return u
}
