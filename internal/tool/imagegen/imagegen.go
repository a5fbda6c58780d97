// Package imagegen implements the image_generation built-in connector: it
// asks an OpenAI-compatible images backend for a picture, stores it as a
// Files-API file in the conversation's workspace, and attaches it to the
// next message.output as a tool_file chunk.
package imagegen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tramontane/tramontane/internal/config"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// ToolName is the built-in tool this package serves.
const ToolName = "image_generation"

// Defaults used when a Config field is zero.
const (
	DefaultSize          = "1024x1024"
	DefaultTimeout       = 120 * time.Second
	DefaultMaxImageBytes = 20 << 20
)

// SaveFile stores a generated file in a workspace's Files API and returns
// its id (the lead adapts file.Service.Put to it).
type SaveFile func(ctx context.Context, workspace, filename, mimeType string, r io.Reader) (fileID string, err error)

var _ engine.Connector = (*Connector)(nil)

// Config is the image_generation section of the config file.
type Config struct {
	// BaseURL is the OpenAI-compatible server (env TRAMONTANE_IMAGES_URL),
	// with or without a trailing /v1.
	BaseURL string `yaml:"base_url"`
	// APIKey is sent as a Bearer token (env TRAMONTANE_IMAGES_API_KEY).
	APIKey string `yaml:"api_key"`
	// Model is the backend's model name (env TRAMONTANE_IMAGES_MODEL);
	// empty omits it.
	Model string `yaml:"model"`
	// Size is the requested size (default 1024x1024).
	Size string `yaml:"size"`
	// Timeout bounds one generation (default 120s); the engine's tool
	// timeout also applies.
	Timeout time.Duration `yaml:"timeout"`
	// MaxImageBytes caps the image (default 20 MiB).
	MaxImageBytes int64 `yaml:"max_image_bytes"`
	// AllowPrivate lets image URLs on private hosts other than the
	// backend's own be downloaded (see internal/tool/fetch).
	AllowPrivate bool `yaml:"allow_private"`
}

// Load reads the image_generation section of a config file (raw may be
// nil) and overlays the environment through getenv (nil means os.Getenv).
// Use Enabled to know whether a backend is configured.
func Load(raw []byte, getenv func(string) string) (Config, error) {
	var c Config
	if _, err := config.Section(raw, "image_generation", &c); err != nil {
		return c, err
	}
	c = c.WithEnv(getenv)
	if !c.Enabled() {
		return c, nil
	}
	return c, c.Validate()
}

// FromEnv is the configuration given by the environment alone.
func FromEnv() Config { return Config{}.WithEnv(nil) }

// WithEnv returns c with TRAMONTANE_IMAGES_URL, TRAMONTANE_IMAGES_API_KEY
// and TRAMONTANE_IMAGES_MODEL applied over it when set. getenv nil means
// os.Getenv.
func (c Config) WithEnv(getenv func(string) string) Config {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, e := range []struct {
		name string
		dst  *string
	}{{"TRAMONTANE_IMAGES_URL", &c.BaseURL}, {"TRAMONTANE_IMAGES_API_KEY", &c.APIKey}, {"TRAMONTANE_IMAGES_MODEL", &c.Model}} {
		if v := getenv(e.name); v != "" {
			*e.dst = v
		}
	}
	return c
}

// Enabled reports whether a backend is configured.
func (c Config) Enabled() bool { return c.BaseURL != "" }

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("image_generation: base_url (TRAMONTANE_IMAGES_URL) must be an http(s) URL, got %q", c.BaseURL)
	}
	if c.Timeout < 0 || c.MaxImageBytes < 0 {
		return errors.New("image_generation: timeout and max_image_bytes must not be negative")
	}
	return nil
}

// Connector is the image_generation connector.
type Connector struct {
	backend ImageBackend
	save    SaveFile
	timeout time.Duration
}

// Option customises New.
type Option func(*options)

type options struct {
	backend  ImageBackend
	client   *http.Client
	resolver fetch.Resolver
}

// WithBackend uses b instead of the OpenAI-compatible backend of the
// Config (fakes, other backends).
func WithBackend(b ImageBackend) Option { return func(o *options) { o.backend = b } }

// WithHTTPClient sets the client of the backend API calls.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithResolver makes image URL downloads resolve names through r (tests).
func WithResolver(r fetch.Resolver) Option { return func(o *options) { o.resolver = r } }

// New returns the image_generation connector. save stores the images.
func New(cfg Config, save SaveFile, opts ...Option) (*Connector, error) {
	if save == nil {
		return nil, errors.New("image_generation: no file saver")
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.backend == nil {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	if cfg.Size == "" {
		cfg.Size = DefaultSize
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxImageBytes == 0 {
		cfg.MaxImageBytes = DefaultMaxImageBytes
	}
	c := &Connector{backend: o.backend, save: save, timeout: cfg.Timeout}
	if c.backend == nil {
		hc := o.client
		if hc == nil {
			hc = &http.Client{}
		}
		c.backend = &OpenAI{
			BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Model: cfg.Model, Size: cfg.Size, MaxBytes: cfg.MaxImageBytes, Client: hc,
			Fetcher: fetch.New(fetch.Config{AllowPrivate: cfg.AllowPrivate, Timeout: cfg.Timeout, MaxBytes: cfg.MaxImageBytes, Resolver: o.resolver}),
		}
	}
	return c, nil
}

// Definition implements engine.Connector.
func (c *Connector) Definition(agent.Tool) model.ToolDef {
	return model.ToolDef{
		Name:        ToolName,
		Description: "Generate an image from a detailed text description. The image is shown to the user.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"prompt":{"type":"string","description":"Detailed description of the image to generate"}},"required":["prompt"]}`),
	}
}

// Execute implements engine.Connector.
func (c *Connector) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	prompt, err := parsePrompt(call.Arguments)
	if err != nil {
		return nil, err
	}
	gctx, cancel := context.WithTimeout(ctx, c.timeout)
	img, err := c.backend.Generate(gctx, prompt)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("image generation failed: %w", err)
	}
	const name = "image_generated_0"
	ext := img.Ext()
	id, err := c.save(ctx, call.Workspace, name+"."+ext, img.MIMEType, bytes.NewReader(img.Data))
	if err != nil {
		return nil, fmt.Errorf("saving the generated image failed: %w", err)
	}
	chunk, _ := json.Marshal(map[string]string{"type": "tool_file", "tool": ToolName, "file_id": id, "file_name": name, "file_type": ext})
	info := map[string]any{"prompt": prompt, "file_id": id}
	if img.RevisedPrompt != "" {
		info["revised_prompt"] = img.RevisedPrompt
	}
	return &engine.ToolResult{
		Info: info,
		ForModel: fmt.Sprintf("The image was generated and is already shown to the user (file %s.%s, id %s). "+
			"Do not add a link or markdown image for it; briefly tell the user what it shows.", name, ext, id),
		Chunks: []json.RawMessage{chunk},
	}, nil
}

// parsePrompt reads {"prompt": "..."} (a bare JSON string is tolerated).
func parsePrompt(args string) (string, error) {
	var a struct {
		Prompt string `json:"prompt"`
	}
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		var s string
		if json.Unmarshal([]byte(args), &s) != nil {
			return "", errors.New(`invalid arguments: want {"prompt": "..."}`)
		}
		a.Prompt = s
	}
	if a.Prompt = strings.TrimSpace(a.Prompt); a.Prompt == "" {
		return "", errors.New(`missing "prompt"`)
	}
	return a.Prompt, nil
}
