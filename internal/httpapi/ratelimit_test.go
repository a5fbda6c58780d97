package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
)

// A key over its requests-per-second limit gets a Mistral-shaped 429 with
// Retry-After and x-ratelimit headers, before any upstream call.
func TestRateLimitRPSBeforeUpstream(t *testing.T) {
	up, routes := convUpstream(t)
	e := newEnv(t, routes)
	_, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: "alpha", Name: "slow", RPS: 1})
	if err != nil {
		t.Fatal(err)
	}
	who := "Bearer " + secret
	body := `{"model":"m1","inputs":"hello","stream":false}`
	first := e.request("POST", "/v1/conversations", who, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if first.Code != 200 || first.Header().Get("x-ratelimit-limit-requests") != "1" {
		t.Fatalf("first: %d %v", first.Code, first.Header())
	}
	calls := len(up.ChatRequests())
	second := e.request("POST", "/v1/conversations", who, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if second.Code != 429 || second.Header().Get("Retry-After") == "" || second.Header().Get("x-ratelimit-remaining-requests") != "0" {
		t.Fatalf("second: %d %v %s", second.Code, second.Header(), second.Body)
	}
	checkErrorBody(t, second.Code, second.Body.Bytes())
	if len(up.ChatRequests()) != calls {
		t.Error("a rate-limited request reached the upstream")
	}
	// Another key of the same workspace has its own bucket.
	e.call("POST", "/v1/conversations", asA, body, 200)
}

// Tokens are charged after each run; once a key's tokens-per-minute budget
// is spent, the next run is refused before any upstream call.
func TestRateLimitTPM(t *testing.T) {
	up, routes := convUpstream(t)
	e := newEnv(t, routes)
	_, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: "alpha", Name: "budget", TPM: 3})
	if err != nil {
		t.Fatal(err)
	}
	who := "Bearer " + secret
	body := `{"model":"m1","inputs":"spend some tokens please","stream":false}`
	e.call("POST", "/v1/conversations", who, body, 200)
	calls := len(up.ChatRequests())
	rec := e.request("POST", "/v1/conversations", who, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "tpm") {
		t.Fatalf("after spending the budget: %d %s", rec.Code, rec.Body)
	}
	if len(up.ChatRequests()) != calls {
		t.Error("a rate-limited request reached the upstream")
	}
}

// Named tiers and workspace limits come from the config file.
func TestRateLimitTierFromConfig(t *testing.T) {
	_, routes := convUpstream(t)
	e := newEnv(t, routes, func(c *config.Config) {
		c.Raw = append(c.Raw, []byte("rate_limits:\n  tiers:\n    tiny: {rps: 1}\n")...)
	})
	_, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: "alpha", Name: "tiered", Tier: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	who := "Bearer " + secret
	e.call("GET", "/v1/models", who, "", 200)
	e.call("GET", "/v1/models", who, "", 429)
}
