package model

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// fakeProvider records the config it was built from.
type fakeProvider struct{ pc ProviderConfig }

func (f *fakeProvider) Chat(context.Context, *Request) (Stream, error) { return ChunkStream(nil), nil }
func (f *fakeProvider) Name() string                                   { return f.pc.Name }

func build(pc ProviderConfig) (Provider, error) { return &fakeProvider{pc: pc}, nil }

const sampleConfig = `
providers:
  - name: local
    type: openai
    base_url: http://127.0.0.1:11434/v1
    api_key_env: LOCAL_KEY
    timeout: 90s
    max_retries: 1
  - name: ci
    type: scripted
    script: script.yaml
models:
  - name: mistral-medium-latest
    provider: local
    upstream_model: qwen3:8b
    aliases: [medium]
    capabilities: [function_calling, vision]
    max_context_length: 32768
  - name: test-model
    provider: ci
`

func TestParseAndLoadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "models.yaml")
	if err := os.WriteFile(path, []byte(sampleConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Providers) != 2 || len(cfg.Models) != 2 {
		t.Fatalf("cfg = %+v", cfg)
	}
	if cfg.Providers[0].Timeout.D() != 90*time.Second || *cfg.Providers[0].MaxRetries != 1 {
		t.Errorf("provider 0 = %+v", cfg.Providers[0])
	}
	if cfg.Providers[1].Script != filepath.Join(dir, "script.yaml") {
		t.Errorf("script path not resolved: %q", cfg.Providers[1].Script)
	}
	if k := cfg.Providers[0].Key(func(k string) string { return "v:" + k }); k != "v:LOCAL_KEY" {
		t.Errorf("Key = %q", k)
	}
	// JSON, and the wrapped form.
	if _, err := ParseConfig([]byte(`{"providers":[{"name":"a","type":"openai","base_url":"http://x","timeout":30}]}`)); err != nil {
		t.Errorf("json: %v", err)
	}
	w, err := ParseConfig([]byte("model:\n  providers: [{name: a, type: openai, base_url: 'http://x'}]\n"))
	if err != nil || len(w.Providers) != 1 {
		t.Errorf("wrapped: %+v %v", w, err)
	}
	if _, err := ParseConfig([]byte("providers: [{name: a, typo: 1}]")); err == nil {
		t.Error("unknown key accepted")
	}
}

func TestValidate(t *testing.T) {
	bad := []string{
		`providers: [{name: a, type: nope}]`,
		`providers: [{name: a, type: openai}]`,
		`providers: [{name: a, type: scripted}]`,
		`providers: [{name: a, type: mistral}, {name: a, type: mistral}]`,
		`providers: [{name: a, type: mistral, stream_tools: maybe}]`,
		`providers: [{name: a, type: mistral, max_retries: 5}]`,
		`{providers: [{name: a, type: mistral}], models: [{name: m, provider: b}]}`,
		`{providers: [{name: a, type: mistral}], models: [{name: m, provider: a}, {name: n, provider: a, aliases: [m]}]}`,
		`providers: [{name: a, type: mistral, fallback: true}, {name: b, type: mistral, fallback: true}]`,
	}
	for _, src := range bad {
		cfg, err := ParseConfig([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate accepted %s", src)
		}
	}
}

func TestRouterRouting(t *testing.T) {
	cfg, err := ParseConfig([]byte(sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRouter(cfg, RouterOptions{Build: build})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{
		"mistral-medium-latest": {"local", "qwen3:8b"},
		"medium":                {"local", "qwen3:8b"},
		"test-model":            {"ci", "test-model"},
	} {
		p, up, err := r.Resolve(name)
		if err != nil || p.Name() != want[0] || up != want[1] {
			t.Errorf("Resolve(%q) = %v %q %v, want %v", name, p, up, err, want)
		}
	}
	_, _, err = r.Resolve("mistral-large-latest")
	if !apierr.Is(err, apierr.Invalid) {
		t.Fatalf("unrouted: err = %v", err)
	}
	msg := apierr.As(err).Message
	for _, hint := range []string{"mistral-large-latest", "TRAMONTANE_UPSTREAM_URL", "MISTRAL_API_KEY", "config"} {
		if !strings.Contains(msg, hint) {
			t.Errorf("unrouted message %q lacks %q", msg, hint)
		}
	}
	if apierr.As(err).Kind.Status() != 400 {
		t.Errorf("status = %d", apierr.As(err).Kind.Status())
	}
	models := r.Models()
	if len(models) != 2 || models[0].ID != "mistral-medium-latest" || models[0].MaxContextLength != 32768 ||
		!models[0].Capabilities["vision"] || !models[0].Capabilities["completion_chat"] ||
		models[0].Aliases[0] != "medium" || models[0].Created == 0 {
		t.Errorf("Models() = %+v", models)
	}
	if !models[1].Capabilities["function_calling"] {
		t.Errorf("default capabilities = %v", models[1].Capabilities)
	}
	if info, ok := r.Info("medium"); !ok || info.ID != "mistral-medium-latest" {
		t.Errorf("Info(medium) = %+v %v", info, ok)
	}
	if r.HasFallback() {
		t.Error("HasFallback without fallback")
	}
}

func TestRouterFallback(t *testing.T) {
	cfg, _ := ParseConfig([]byte(sampleConfig))
	r, err := NewRouter(cfg, RouterOptions{Build: build, FallbackURL: "http://127.0.0.1:9/v1", FallbackAPIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	p, up, err := r.Resolve("llama3.2:3b")
	if err != nil || p.Name() != "upstream" || up != "llama3.2:3b" {
		t.Fatalf("fallback: %v %q %v", p, up, err)
	}
	fp := p.(*fakeProvider)
	if fp.pc.BaseURL != "http://127.0.0.1:9/v1" || fp.pc.APIKey != "k" || fp.pc.Type != TypeOpenAI {
		t.Errorf("fallback config = %+v", fp.pc)
	}
	// Configured routes still win.
	if p, up, _ := r.Resolve("medium"); p.Name() != "local" || up != "qwen3:8b" {
		t.Errorf("configured route lost: %v %q", p, up)
	}
	// Mistral names go to the fallback when there is no Mistral key.
	if p, _, _ := r.Resolve("mistral-large-latest"); p.Name() != "upstream" {
		t.Errorf("mistral name without key → %v", p.Name())
	}
	if len(r.Models()) != 2 || !r.HasFallback() {
		t.Errorf("fallback names must not be listed: %+v", r.Models())
	}
	// Conflicts with a configured fallback are reported.
	cfg2, _ := ParseConfig([]byte(`providers: [{name: x, type: openai, base_url: "http://x", fallback: true}]`))
	if _, err := NewRouter(cfg2, RouterOptions{Build: build, FallbackURL: "http://y"}); err == nil {
		t.Error("two fallbacks accepted")
	}
}

func TestRouterMistralNames(t *testing.T) {
	cfg, _ := ParseConfig([]byte(sampleConfig))
	r, err := NewRouter(cfg, RouterOptions{Build: build, MistralAPIKey: "secret", FallbackURL: "http://fallback"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mistral-large-latest", "codestral-latest", "mistral-small-2506", "mistral-embed", "open-mistral-nemo"} {
		p, up, err := r.Resolve(name)
		if err != nil || p.Name() != "mistral" || up != name {
			t.Errorf("Resolve(%q) = %v %q %v", name, p, up, err)
		}
	}
	mp, _, _ := r.Resolve("mistral-large-latest")
	if pc := mp.(*fakeProvider).pc; pc.APIKey != "secret" || pc.Type != TypeMistral {
		t.Errorf("mistral provider config = %+v", pc)
	}
	// A configured route shadows the well-known name.
	if p, up, _ := r.Resolve("mistral-medium-latest"); p.Name() != "local" || up != "qwen3:8b" {
		t.Errorf("configured name lost to Mistral: %v %q", p.Name(), up)
	}
	// Non-Mistral names still reach the fallback.
	if p, _, _ := r.Resolve("gpt-oss:20b"); p.Name() != "upstream" {
		t.Errorf("fallback lost: %v", p.Name())
	}
	models := r.Models()
	seen := map[string]ModelInfo{}
	for _, m := range models {
		if _, dup := seen[m.ID]; dup {
			t.Errorf("duplicate model %q", m.ID)
		}
		seen[m.ID] = m
	}
	if m := seen["mistral-large-latest"]; m.OwnedBy != "mistralai" || !m.Capabilities["function_calling"] {
		t.Errorf("mistral-large-latest = %+v", m)
	}
	if m := seen["mistral-embed"]; m.Capabilities["completion_chat"] {
		t.Errorf("mistral-embed must not be a chat model: %+v", m.Capabilities)
	}
	if seen["mistral-medium-latest"].Provider != "local" {
		t.Errorf("listing shows the shadowed Mistral entry")
	}
}

func TestRouterMistralKeyFillsConfiguredProvider(t *testing.T) {
	cfg, _ := ParseConfig([]byte(`{providers: [{name: mistral, type: mistral}], models: [{name: my-model, provider: mistral, upstream_model: mistral-small-latest}]}`))
	r, err := NewRouter(cfg, RouterOptions{Build: build, MistralAPIKey: "k2"})
	if err != nil {
		t.Fatal(err)
	}
	p, up, err := r.Resolve("my-model")
	if err != nil || up != "mistral-small-latest" || p.(*fakeProvider).pc.APIKey != "k2" {
		t.Errorf("got %v %q %v", p, up, err)
	}
	if p2, _, _ := r.Resolve("codestral-latest"); p2 != p {
		t.Error("well-known names should use the configured mistral provider")
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	for in, want := range map[string]time.Duration{`"2m"`: 2 * time.Minute, `45`: 45 * time.Second, `"1.5"`: 1500 * time.Millisecond} {
		if err := d.UnmarshalJSON([]byte(in)); err != nil || d.D() != want {
			t.Errorf("%s → %v %v", in, d.D(), err)
		}
	}
	if err := d.UnmarshalJSON([]byte(`"soon"`)); err == nil {
		t.Error("bad duration accepted")
	}
}
