package providers

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/openai"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

func TestEndToEndRouting(t *testing.T) {
	script, _ := scripted.Parse([]byte(`default: {reply: "from {{model}}"}`))
	fake := fakeupstream.New(fakeupstream.Options{Script: script, APIKey: "up-key"})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir := t.TempDir()
	scriptPath := filepath.Join(dir, "ci.yaml")
	if err := os.WriteFile(scriptPath, []byte(`default: {reply: "scripted says hi"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "models.yaml")
	cfg := `
providers:
  - {name: local, type: openai, base_url: "` + srv.URL + `/v1", api_key_env: LOCAL_KEY, stream_tools: off}
  - {name: ci, type: scripted, script: ci.yaml}
models:
  - {name: mistral-medium-latest, provider: local, upstream_model: qwen3:8b}
  - {name: test-model, provider: ci}
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	mc, err := model.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LOCAL_KEY": "up-key"}
	r, err := NewRouter(mc, Options{
		UpstreamURL: srv.URL, UpstreamAPIKey: "up-key",
		MistralAPIKey: "up-key", MistralBaseURL: srv.URL,
		Getenv: func(k string) string { return env[k] },
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"mistral-medium-latest": "from qwen3:8b",             // configured route, renamed upstream
		"test-model":            "scripted says hi",          // scripted provider
		"llama3.2":              "from llama3.2",             // fallback, name passed through
		"mistral-large-latest":  "from mistral-large-latest", // Mistral shortcut (pointed at the fake)
	} {
		p, up, err := r.Resolve(name)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", name, err)
		}
		s, err := p.Chat(context.Background(), &model.Request{Model: up,
			Messages: []model.Message{{Role: model.RoleUser, Content: "hi"}}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp, err := model.Collect(s)
		if err != nil || resp.Message.Content != want {
			t.Errorf("%s: got %q %v, want %q", name, resp.Message.Content, err, want)
		}
	}
	if p, _, _ := r.Resolve("test-model"); p.Name() != "scripted" {
		t.Errorf("scripted provider named %q", p.Name())
	}
	if p, _, _ := r.Resolve("mistral-large-latest"); p.Name() != "mistral" {
		t.Errorf("mistral provider named %q", p.Name())
	}
	if p, _, _ := r.Resolve("mistral-embed"); p == nil {
		t.Error("mistral-embed not routed")
	} else if _, ok := p.(model.Embedder); !ok {
		t.Error("the Mistral provider must implement Embedder")
	}
}

func TestBuildErrors(t *testing.T) {
	getenv := func(string) string { return "" }
	if _, err := Build(model.ProviderConfig{Name: "m", Type: "mistral", APIKeyEnv: "NOPE"}, getenv, nil); err == nil {
		t.Error("mistral without key accepted")
	}
	if _, err := Build(model.ProviderConfig{Name: "s", Type: "scripted", Script: "/does/not/exist.yaml"}, getenv, nil); err == nil {
		t.Error("missing script accepted")
	}
	if _, err := Build(model.ProviderConfig{Name: "o", Type: "openai", BaseURL: "not a url"}, getenv, nil); err == nil {
		t.Error("bad base_url accepted")
	}
	retries := 0
	p, err := Build(model.ProviderConfig{Name: "o", Type: "openai", BaseURL: "http://127.0.0.1:1", MaxRetries: &retries}, getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*openai.Client); !ok {
		t.Errorf("openai provider is %T", p)
	}
}

func TestUnroutedWithoutShortcuts(t *testing.T) {
	r, err := NewRouter(model.Config{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Resolve("mistral-small-latest"); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("err = %v", err)
	}
	if len(r.Models()) != 0 {
		t.Error("models listed without routes")
	}
}
