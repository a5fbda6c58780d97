package model

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// listingProvider is a fake upstream that reports models (or fails).
type listingProvider struct {
	fakeProvider
	models []RemoteModel
	fail   atomic.Bool
	block  chan struct{} // when set, ListModels waits on it or on ctx
	calls  atomic.Int32
}

func (l *listingProvider) ListModels(ctx context.Context) ([]RemoteModel, error) {
	l.calls.Add(1)
	if l.block != nil {
		select {
		case <-l.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if l.fail.Load() {
		return nil, errors.New("connection refused")
	}
	return l.models, nil
}

func catalogFixture(t *testing.T, up *listingProvider) (*Catalog, *time.Time) {
	t.Helper()
	cfg, _ := ParseConfig([]byte(sampleConfig))
	r, err := NewRouter(cfg, RouterOptions{FallbackURL: "http://127.0.0.1:9/v1", Build: func(pc ProviderConfig) (Provider, error) {
		if pc.Name == "upstream" {
			up.pc = pc
			return up, nil
		}
		return &fakeProvider{pc: pc}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCatalog(r, CatalogOptions{TTL: time.Minute, ErrorTTL: 10 * time.Second, Timeout: 50 * time.Millisecond})
	now := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return now }
	return c, &now
}

func ids(infos []ModelInfo) []string {
	var out []string
	for _, in := range infos {
		out = append(out, in.ID)
	}
	return out
}

func TestCatalogListsUpstreamModels(t *testing.T) {
	up := &listingProvider{models: []RemoteModel{
		{ID: "qwen3:8b", OwnedBy: "library"},
		{ID: "medium"}, // an alias of a configured model: already listed
		{ID: "pixtral-local", Capabilities: map[string]bool{"completion_chat": true, "vision": true}, MaxContextLength: 8192},
	}}
	c, now := catalogFixture(t, up)
	got := ids(c.Models(context.Background()))
	want := []string{"mistral-medium-latest", "test-model", "qwen3:8b", "pixtral-local"}
	if len(got) != len(want) {
		t.Fatalf("models = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("models = %v, want %v", got, want)
		}
	}
	in, ok := c.Info(context.Background(), "pixtral-local")
	if !ok || !in.Capabilities["vision"] || in.MaxContextLength != 8192 || in.Provider != "upstream" {
		t.Errorf("reported card = %+v", in)
	}
	if in, _ := c.Info(context.Background(), "qwen3:8b"); in.OwnedBy != "library" || !in.Capabilities["function_calling"] {
		t.Errorf("default capabilities / owner = %+v", in)
	}
	// Cached within the TTL, fetched again after it.
	c.Models(context.Background())
	if n := up.calls.Load(); n != 1 {
		t.Errorf("%d listings within the TTL", n)
	}
	*now = now.Add(2 * time.Minute)
	c.Models(context.Background())
	if n := up.calls.Load(); n != 2 {
		t.Errorf("%d listings after the TTL", n)
	}
}

func TestCatalogUpstreamDown(t *testing.T) {
	up := &listingProvider{models: []RemoteModel{{ID: "qwen3:8b"}}}
	up.fail.Store(true)
	c, now := catalogFixture(t, up)
	if got := ids(c.Models(context.Background())); len(got) != 2 {
		t.Fatalf("with the upstream down the configured models are listed: %v", got)
	}
	// A failure is not retried on every call.
	c.Models(context.Background())
	if n := up.calls.Load(); n != 1 {
		t.Errorf("%d listings while down", n)
	}
	// Any name the fallback would serve is still described.
	if in, ok := c.Info(context.Background(), "anything:7b"); !ok || in.Provider != "upstream" || !in.Capabilities["completion_chat"] {
		t.Errorf("fallback name = %+v %v", in, ok)
	}
	// Back up: listed after the error TTL; a later failure keeps the last good list.
	up.fail.Store(false)
	*now = now.Add(11 * time.Second)
	if got := ids(c.Models(context.Background())); len(got) != 3 {
		t.Fatalf("after recovery: %v", got)
	}
	up.fail.Store(true)
	*now = now.Add(2 * time.Minute)
	if got := ids(c.Models(context.Background())); len(got) != 3 {
		t.Fatalf("a failed refresh dropped the last good list: %v", got)
	}
}

func TestCatalogUpstreamHangs(t *testing.T) {
	up := &listingProvider{block: make(chan struct{})}
	defer close(up.block)
	c, _ := catalogFixture(t, up)
	start := time.Now()
	if got := ids(c.Models(context.Background())); len(got) != 2 {
		t.Fatalf("models = %v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a hanging upstream held the list for %s", d)
	}
}

func TestCatalogUnroutable(t *testing.T) {
	cfg, _ := ParseConfig([]byte(sampleConfig))
	r, err := NewRouter(cfg, RouterOptions{Build: build})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCatalog(r, CatalogOptions{})
	if _, ok := c.Info(context.Background(), "nope"); ok {
		t.Error("an unroutable name is described")
	}
	if in, ok := c.Info(context.Background(), "medium"); !ok || in.ID != "mistral-medium-latest" {
		t.Errorf("alias = %+v", in)
	}
}
