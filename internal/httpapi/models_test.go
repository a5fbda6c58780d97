package httpapi_test

import (
	"net/http/httptest"
	"testing"

	"github.com/tramontane/tramontane/internal/config"
)

func checkCard(t testing.TB, c obj) {
	t.Helper()
	if c["type"] != "base" || c["object"] != "model" {
		t.Errorf("card type %v object %v, want base/model", c["type"], c["object"])
	}
	if _, ok := c["id"].(string); !ok {
		t.Errorf("card id %v", c["id"])
	}
	caps, ok := c["capabilities"].(obj)
	if !ok {
		t.Fatalf("capabilities must be an object: %v", c)
	}
	for k, v := range caps {
		if _, ok := v.(bool); !ok {
			t.Errorf("capability %s = %v is not a bool", k, v)
		}
	}
	// O!null keys (API.md §10a.7): created and aliases are never null.
	if _, ok := c["created"].(float64); !ok {
		t.Errorf("created %v must be an int", c["created"])
	}
	if _, ok := c["aliases"].([]any); !ok {
		t.Errorf("aliases %v must be an array", c["aliases"])
	}
}

func TestModels(t *testing.T) {
	card := func(id string, ctx float64) func(*testing.T, *env, *httptest.ResponseRecorder) {
		return func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			c := decode[obj](t, rec)
			checkCard(t, c)
			if c["id"] != id || c["max_context_length"] != ctx {
				t.Errorf("card %v", c)
			}
		}
	}
	runScenarios(t, []scenario{
		{Name: "list", Method: "GET", URL: "/v1/models", NoSeed: true, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				l := decode[obj](t, rec)
				data, _ := l["data"].([]any)
				if l["object"] != "list" || len(data) != 2 {
					t.Fatalf("list %v", l)
				}
				for _, c := range data {
					checkCard(t, c.(obj))
				}
			}},
		{Name: "list with SDK filters", Method: "GET", URL: "/v1/models?provider=mistral&model=m1", NoSeed: true, Status: 200},
		{Name: "no models configured", Method: "GET", URL: "/v1/models", NoSeed: true, Status: 200,
			Config:   func(c *config.Config) { c.Raw = nil },
			Contains: []string{`"data":[]`}},
		{Name: "get", Method: "GET", URL: "/v1/models/m1", NoSeed: true, Status: 200, Check: card("m1", 32768),
			Contains: []string{`"description":"first model"`, `"aliases":["m1-latest"]`}},
		{Name: "get by alias", Method: "GET", URL: "/v1/models/m1-latest", NoSeed: true, Status: 200, Check: card("m1", 32768)},
		{Name: "get with context length", Method: "GET", URL: "/v1/models/m2", NoSeed: true, Status: 200, Check: card("m2", 4096)},
		{Name: "get unknown", Method: "GET", URL: "/v1/models/mistral-large-latest", NoSeed: true, Status: 404},
		{Name: "health needs no key", Method: "GET", URL: "/healthz", As: asNone, NoSeed: true, Status: 200, Contains: []string{`"status":"ok"`}},
		{Name: "health ignores a bad key", Method: "GET", URL: "/healthz", As: "Bearer nope", NoSeed: true, Status: 200},
	})
}
