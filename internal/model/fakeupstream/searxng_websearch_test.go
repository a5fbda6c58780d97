package fakeupstream_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/tool/websearch"
)

// The fake SearXNG works with the real web_search connector: results are
// deduplicated, pages are fetched and their boilerplate is dropped.
func TestSearXNGWithWebSearchConnector(t *testing.T) {
	srv := httptest.NewServer(fakeupstream.New(fakeupstream.Options{SearXNG: true}))
	t.Cleanup(srv.Close)
	ws, err := websearch.New(websearch.Config{SearXNGURL: srv.URL, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ws.Execute(context.Background(), engine.ToolCall{Arguments: `{"query":"tramontane wind"}`})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.References) != 2 || res.References[0].URL != srv.URL+"/pages/1.html" || res.References[1].Title != "Mistral and tramontane compared" {
		t.Fatalf("references = %+v", res.References)
	}
	for _, want := range []string{"[1] The Tramontane wind", "Tramontane fact one", "[2] Mistral and tramontane compared", "Tramontane fact two"} {
		if !strings.Contains(res.ForModel, want) {
			t.Errorf("the model's text lacks %q:\n%s", want, res.ForModel)
		}
	}
	if strings.Contains(res.ForModel, "boilerplate-") || strings.Contains(res.ForModel, "[12]") {
		t.Errorf("boilerplate or footnote kept:\n%s", res.ForModel)
	}

	// web_search_premium also gets the news page.
	res, err = ws.Premium().Execute(context.Background(), engine.ToolCall{Arguments: `{"query":"tramontane news"}`})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.References) != 3 || !strings.Contains(res.ForModel, "Tramontane news fact") {
		t.Errorf("premium references = %+v", res.References)
	}

	// An engine failure is the tool's error.
	if _, err := ws.Execute(context.Background(), engine.ToolCall{Arguments: `{"query":"x ` + fakeupstream.SearXNGErrorTrigger + `"}`}); err == nil {
		t.Error("engine failure not reported")
	}
}
