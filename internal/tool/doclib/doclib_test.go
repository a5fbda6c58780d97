package doclib

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

type router struct{}

func (router) Resolve(string) (model.Provider, string, error) { return scripted.New(nil), "x", nil }

func setup(t *testing.T, embeddings string) (*Wired, string, string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, _ := blob.NewLocal(dir + "/blobs")
	t.Setenv("TRAMONTANE_EMBEDDINGS_MODEL", "")
	w, err := Wire(ctx, WireOptions{Store: db, Blobs: blobs, Router: router{}, EmbeddingsModel: embeddings,
		PublicURL: "https://docs.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := db.EnsureWorkspace(ctx, "a")
	b, _ := db.EnsureWorkspace(ctx, "b")
	l, err := w.Library.Create(ctx, a.ID, library.CreateInput{Name: "Manuals"})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"pump.md":  "# Pump\n\nThe bilge pump must be tested monthly.\n\n## Filters\n\nClean the pump filter after each use.",
		"sails.md": "# Sails\n\nReef the mainsail when the wind exceeds twenty knots.",
	} {
		if _, err := w.Library.Upload(ctx, a.ID, l.ID, name, "", strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
	}
	for {
		did, err := w.Library.ProcessNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !did {
			break
		}
	}
	return w, a.ID, b.ID, l.ID
}

func TestExecute(t *testing.T) {
	w, a, b, lib := setup(t, "embed")
	c := w.Connector
	def := c.Definition(agent.Tool{Type: ToolName})
	if def.Name != ToolName || !strings.Contains(string(def.Parameters), `"query"`) {
		t.Fatalf("definition = %+v", def)
	}
	call := engine.ToolCall{Workspace: a, Tool: agent.Tool{Type: ToolName, LibraryIDs: []string{lib, "00000000-0000-0000-0000-000000000000"}},
		Arguments: `{"query":"how often to test the bilge pump"}`, RefOffset: 2}
	res, err := c.Execute(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.ForModel, "\n[3] pump.md — Pump\nPump\nThe bilge pump must be tested monthly.") {
		t.Fatalf("ForModel:\n%s", res.ForModel)
	}
	if strings.Contains(res.ForModel, "\n[1] ") || !strings.Contains(res.ForModel, "skipped: 00000000-0000-0000-0000-000000000000") {
		t.Fatalf("numbering or missing note:\n%s", res.ForModel)
	}
	if len(res.References) == 0 || res.References[0].Title != "pump.md" || res.References[0].Tool != ToolName {
		t.Fatalf("references = %+v", res.References)
	}
	u, err := url.Parse(res.References[0].URL)
	if err != nil || u.Host != "docs.example" || !strings.HasPrefix(u.Path, "/documents/signed/") || u.Query().Get("signature") == "" {
		t.Fatalf("reference url = %q", res.References[0].URL)
	}
	if res.ConnectorTokens != (len(res.ForModel)+3)/4 {
		t.Fatalf("connector tokens = %d", res.ConnectorTokens)
	}
	info, _ := json.Marshal(res.Info)
	var parsed struct {
		Query   string `json:"query"`
		Mode    string `json:"mode"`
		Results []struct {
			ChunkID    int64   `json:"chunk_id"`
			DocumentID string  `json:"document_id"`
			Score      float64 `json:"score"`
		} `json:"results"`
	}
	if err := json.Unmarshal(info, &parsed); err != nil || parsed.Query != "how often to test the bilge pump" || parsed.Mode != "hybrid" ||
		len(parsed.Results) != len(res.References) || parsed.Results[0].ChunkID == 0 || parsed.Results[0].Score <= 0 {
		t.Fatalf("info = %s", info)
	}

	// Another workspace cannot search the library.
	call.Workspace = b
	if _, err := c.Execute(context.Background(), call); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("foreign workspace: %v", err)
	}
	for _, args := range []string{`{}`, `not json`, `{"query":"  "}`} {
		call.Workspace, call.Arguments = a, args
		if _, err := c.Execute(context.Background(), call); err == nil {
			t.Errorf("arguments %s accepted", args)
		}
	}
	call.Arguments = `"reef"`
	if res, err := c.Execute(context.Background(), call); err != nil || !strings.Contains(res.ForModel, "sails.md") {
		t.Fatalf("bare string query: %v", err)
	}
	call.Arguments = `{"query":"xylophone"}`
	if res, err := c.Execute(context.Background(), call); err != nil || len(res.References) != 0 && res.Info["mode"] == "bm25" {
		t.Fatalf("no match: %+v %v", res, err)
	}
}

func TestBM25OnlyAndWireErrors(t *testing.T) {
	w, a, _, lib := setup(t, "")
	res, err := w.Connector.Execute(context.Background(), engine.ToolCall{Workspace: a,
		Tool: agent.Tool{Type: ToolName, LibraryIDs: []string{lib}}, Arguments: `{"query":"xylophone quartet"}`})
	if err != nil || res.Info["mode"] != "bm25" || len(res.References) != 0 || !strings.Contains(res.ForModel, "no passage matching") {
		t.Fatalf("bm25, no match: %+v %v", res, err)
	}
	if _, err := Wire(context.Background(), WireOptions{EmbeddingsModel: "embed"}); err == nil {
		t.Fatal("an embeddings model without a router was accepted")
	}
}

func TestStartProcessesUploads(t *testing.T) {
	w, a, _, lib := setup(t, "")
	closer := w.Start(context.Background())
	d, err := w.Library.Upload(context.Background(), a, lib, "late.txt", "", strings.NewReader("processed in the background"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := w.Library.GetDocument(context.Background(), a, lib, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %s", got.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
}
