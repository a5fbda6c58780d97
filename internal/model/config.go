package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Provider types accepted in [ProviderConfig.Type].
const (
	TypeOpenAI   = "openai"
	TypeMistral  = "mistral"
	TypeScripted = "scripted"
)

// Values of [ProviderConfig.StreamTools].
const (
	StreamToolsAuto = "auto" // stream; on an error status, retry without streaming and remember
	StreamToolsOn   = "on"   // always stream, even with tools
	StreamToolsOff  = "off"  // never stream when tools are offered
)

// Config is the routing section of the configuration file:
//
//	providers:
//	  - name: local
//	    type: openai              # openai | mistral | scripted
//	    base_url: http://127.0.0.1:11434/v1
//	    api_key_env: LOCAL_KEY    # or api_key: ...
//	    timeout: 120s
//	    max_retries: 2            # 0..2: at most 3 attempts in all
//	    stream_tools: auto        # auto | on | off
//	  - name: ci
//	    type: scripted
//	    script: ./testdata/script.yaml
//	models:
//	  - name: mistral-medium-latest   # the public name clients send
//	    provider: local
//	    upstream_model: qwen3:8b      # default: the public name
//	    aliases: [medium]
//	    capabilities: [function_calling, vision]
//	    max_context_length: 32768
type Config struct {
	Providers []ProviderConfig `yaml:"providers" json:"providers"`
	Models    []ModelConfig    `yaml:"models" json:"models"`
}

// ProviderConfig describes one upstream.
type ProviderConfig struct {
	Name string `yaml:"name" json:"name"`
	// Type is "openai", "mistral" or "scripted".
	Type    string `yaml:"type" json:"type"`
	BaseURL string `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	// APIKey is the key itself; prefer APIKeyEnv, the name of an
	// environment variable holding it.
	APIKey    string `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	APIKeyEnv string `yaml:"api_key_env,omitempty" json:"api_key_env,omitempty"`
	// Script is the script file of a "scripted" provider.
	Script string `yaml:"script,omitempty" json:"script,omitempty"`
	// Timeout bounds one call, streaming included ("90s", or seconds).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// IdleTimeout fails a call when the upstream sends no byte for this
	// long, before its headers or mid-stream (default 60s).
	IdleTimeout Duration `yaml:"idle_timeout,omitempty" json:"idle_timeout,omitempty"`
	// MaxRetries is the number of retries after the first attempt (nil:
	// 2; at most 2).
	MaxRetries *int `yaml:"max_retries,omitempty" json:"max_retries,omitempty"`
	// StreamTools is "auto" (default), "on" or "off".
	StreamTools string `yaml:"stream_tools,omitempty" json:"stream_tools,omitempty"`
	// Fallback makes this provider serve every model name that no route
	// matches, passing the name through unchanged. At most one.
	Fallback bool `yaml:"fallback,omitempty" json:"fallback,omitempty"`
}

// Key returns the provider's API key: APIKey, else the value of the
// environment variable APIKeyEnv looked up with getenv (os.Getenv if nil).
func (p *ProviderConfig) Key(getenv func(string) string) string {
	if p.APIKey != "" || p.APIKeyEnv == "" {
		return p.APIKey
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv(p.APIKeyEnv)
}

// String describes the provider without its key.
func (p ProviderConfig) String() string {
	return fmt.Sprintf("%s (%s %s)", p.Name, p.Type, p.BaseURL)
}

// ModelConfig routes one public model name.
type ModelConfig struct {
	// Name is the public name clients send.
	Name     string `yaml:"name" json:"name"`
	Provider string `yaml:"provider" json:"provider"`
	// UpstreamModel is the name sent upstream (default: Name).
	UpstreamModel string   `yaml:"upstream_model,omitempty" json:"upstream_model,omitempty"`
	Aliases       []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	// Capabilities lists ModelCard capability keys that are true
	// (function_calling, vision, reasoning, ...). Omitted: completion_chat
	// and function_calling. completion_chat is implied unless the list
	// contains "embedding" (an embeddings-only model).
	Capabilities     []string `yaml:"capabilities,omitempty" json:"capabilities,omitempty"`
	MaxContextLength int      `yaml:"max_context_length,omitempty" json:"max_context_length,omitempty"`
	Description      string   `yaml:"description,omitempty" json:"description,omitempty"`
}

// Duration is a time.Duration read from YAML or JSON as a Go duration
// string ("90s", "2m") or a number of seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return Duration(f * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. \"90s\" or a number of seconds)", s)
	}
	return Duration(v), nil
}

// UnmarshalYAML accepts "90s" or 90.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalJSON accepts "90s" or 90.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// LoadConfig reads a routing config from a YAML or JSON file. A relative
// scripted-provider script path is resolved against the file's directory.
// A file with a top-level "model:" key holding the routing section is
// accepted too, so the section can live in a larger config file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("model config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("model config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		if p.Script != "" && !filepath.IsAbs(p.Script) {
			p.Script = filepath.Join(dir, p.Script)
		}
	}
	return cfg, nil
}

// ParseConfig parses a routing config from YAML or JSON text. Unknown keys
// are rejected so that typos surface.
func ParseConfig(data []byte) (Config, error) {
	var wrapped struct {
		Model *Config `yaml:"model"`
	}
	if err := yaml.Unmarshal(data, &wrapped); err == nil && wrapped.Model != nil {
		return *wrapped.Model, nil
	}
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks names, types and references, and fills defaults
// (upstream_model, stream_tools). Errors name the offending entry.
func (c *Config) Validate() error {
	provs := map[string]*ProviderConfig{}
	fallbacks := 0
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.Name == "" {
			return fmt.Errorf("providers[%d]: name is required", i)
		}
		if provs[p.Name] != nil {
			return fmt.Errorf("providers[%d]: duplicate provider name %q", i, p.Name)
		}
		provs[p.Name] = p
		switch p.Type {
		case TypeOpenAI:
			if p.BaseURL == "" {
				return fmt.Errorf("provider %q: base_url is required for type openai", p.Name)
			}
		case TypeMistral:
		case TypeScripted:
			if p.Script == "" {
				return fmt.Errorf("provider %q: script is required for type scripted", p.Name)
			}
		default:
			return fmt.Errorf("provider %q: unknown type %q (want openai, mistral or scripted)", p.Name, p.Type)
		}
		switch p.StreamTools {
		case "":
			p.StreamTools = StreamToolsAuto
		case StreamToolsAuto, StreamToolsOn, StreamToolsOff:
		default:
			return fmt.Errorf("provider %q: stream_tools must be auto, on or off, not %q", p.Name, p.StreamTools)
		}
		if p.MaxRetries != nil && (*p.MaxRetries < 0 || *p.MaxRetries > 2) {
			return fmt.Errorf("provider %q: max_retries must be between 0 and 2", p.Name)
		}
		if p.IdleTimeout < 0 {
			return fmt.Errorf("provider %q: idle_timeout must not be negative", p.Name)
		}
		if p.Timeout < 0 {
			return fmt.Errorf("provider %q: timeout must not be negative", p.Name)
		}
		if p.Fallback {
			fallbacks++
		}
	}
	if fallbacks > 1 {
		return fmt.Errorf("providers: at most one provider may set fallback: true")
	}
	names := map[string]string{}
	for i := range c.Models {
		m := &c.Models[i]
		if m.Name == "" {
			return fmt.Errorf("models[%d]: name is required", i)
		}
		if provs[m.Provider] == nil {
			return fmt.Errorf("model %q: unknown provider %q", m.Name, m.Provider)
		}
		if m.UpstreamModel == "" {
			m.UpstreamModel = m.Name
		}
		for _, n := range append([]string{m.Name}, m.Aliases...) {
			if prev, dup := names[n]; dup {
				return fmt.Errorf("model %q: name %q is already used by model %q", m.Name, n, prev)
			}
			names[n] = m.Name
		}
		if m.MaxContextLength < 0 {
			return fmt.Errorf("model %q: max_context_length must not be negative", m.Name)
		}
	}
	return nil
}
