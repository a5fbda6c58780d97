package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
)

// FIM through an OpenAI-compatible provider (/v1/completions with a
// suffix) and a Mistral one (/v1/fim/completions); a scripted model has no
// FIM endpoint and gets a 400.
func TestFIMCompletions(t *testing.T) {
	up := fakeupstream.New(fakeupstream.Options{})
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	script := t.TempDir() + "/s.yaml"
	if err := os.WriteFile(script, []byte("default: {reply: hi}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf(`providers:
  - {name: oa, type: openai, base_url: %[1]s/v1, max_retries: 0}
  - {name: mi, type: mistral, base_url: %[1]s, api_key: k, max_retries: 0}
  - {name: sc, type: scripted, script: %[2]s}
models:
  - {name: coder, provider: oa}
  - {name: codestral-latest, provider: mi}
  - {name: offline, provider: sc}
`, srv.URL, script)
	e := newEnv(t, func(c *config.Config) { c.Raw = []byte(raw) })
	for _, m := range []string{"coder", "codestral-latest"} {
		res := e.callJSON("POST", "/v1/fim/completions", asA, `{"model":"`+m+`","prompt":"def add(a, b):","suffix":"return c","max_tokens":8}`, 200).(map[string]any)
		msg := res["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
		if msg["content"] != "fim(b):|return)" || res["model"] != m || res["usage"].(map[string]any)["total_tokens"].(float64) <= 0 {
			t.Errorf("%s: %v", m, res)
		}
	}
	var paths []string
	for _, r := range up.Requests() {
		paths = append(paths, r.Path)
	}
	if got := strings.Join(paths, ","); got != "/v1/completions,/v1/fim/completions" {
		t.Errorf("upstream paths = %s", got)
	}
	rec := e.request("POST", "/v1/fim/completions", asA, strings.NewReader(`{"model":"coder","prompt":"x = ","stream":true}`), map[string]string{"Content-Type": "application/json"})
	d := readStream(t, rec.Body.String())
	if len(d) != 3 || d[2] != "[DONE]" || !strings.Contains(d[0], `"content":"fim(=|)"`) || !strings.Contains(d[1], `"finish_reason":"stop"`) {
		t.Errorf("stream = %v", d)
	}
	if body := string(e.call("POST", "/v1/fim/completions", asA, `{"model":"offline","prompt":"x"}`, 400)); !strings.Contains(body, "fill-in-the-middle") {
		t.Errorf("scripted: %s", body)
	}
	e.call("POST", "/v1/fim/completions", asA, `{"model":"coder"}`, 422)
	e.call("POST", "/v1/fim/completions", asNone, `{"model":"coder","prompt":"x"}`, 401)
}
