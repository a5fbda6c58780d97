package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

func TestFiles(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	f, err := c.Files.Upload(ctx, client.FileUpload{Name: "notes.txt", Content: strings.NewReader("hello files"), Purpose: "ocr"})
	if err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Bytes != 11 || f.Filename != "notes.txt" || f.Purpose != "ocr" || f.CreatedAt == 0 {
		t.Fatalf("uploaded = %+v", f)
	}
	list, err := c.Files.List(ctx, nil)
	if err != nil || len(list.Data) != 1 || list.Data[0].ID != f.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if g, err := c.Files.Get(ctx, f.ID); err != nil || g.Filename != "notes.txt" {
		t.Fatalf("get = %+v, %v", g, err)
	}
	rc, err := c.Files.Download(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello files" {
		t.Fatalf("downloaded %q", b)
	}
	u, err := c.Files.SignedURL(ctx, f.ID, 1)
	if err != nil || !strings.HasPrefix(u, "http") {
		t.Fatalf("signed url %q, %v", u, err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello files" {
		t.Fatalf("signed download: %d %q", resp.StatusCode, b)
	}
	if err := c.Files.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Files.Get(ctx, f.ID); client.StatusOf(err) != 404 {
		t.Fatalf("get after delete: %v", err)
	}
}

// A seekable upload body is sent again when the first attempt is refused
// with 429.
func TestUploadRetriesSeekableBody(t *testing.T) {
	s := newServer(t)
	c := s.client(client.WithAPIKey(s.keyWith(t, 1)))
	ctx := context.Background()
	if _, err := c.Models.List(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f, err := c.Files.Upload(ctx, client.FileUpload{Name: "a.txt", Content: bytes.NewReader([]byte("again"))})
	if err != nil || f.Bytes != 5 {
		t.Fatalf("upload after 429 = %+v, %v", f, err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("the upload was not refused first (took %v)", time.Since(start))
	}
}

func TestLibrariesAndDocuments(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	lib, err := c.Libraries.Create(ctx, client.LibraryRequest{Name: "handbook", Description: "HR"})
	if err != nil || lib.ID == "" || lib.Name != "handbook" || lib.Description != "HR" {
		t.Fatalf("create = %+v, %v", lib, err)
	}
	if lib, err = c.Libraries.Update(ctx, lib.ID, client.LibraryRequest{Name: "handbook-2"}); err != nil || lib.Name != "handbook-2" {
		t.Fatalf("update = %+v, %v", lib, err)
	}
	libs, err := c.Libraries.List(ctx, nil)
	if err != nil || len(libs) != 1 {
		t.Fatalf("list = %+v, %v", libs, err)
	}
	doc, err := c.Documents.Upload(ctx, lib.ID, "leave.md", strings.NewReader("# Leave\n\nTwenty-five days a year."))
	if err != nil || doc.ID == "" || doc.Name != "leave.md" || doc.LibraryID != lib.ID {
		t.Fatalf("upload = %+v, %v", doc, err)
	}
	docs, err := c.Documents.List(ctx, lib.ID, nil)
	if err != nil || len(docs.Data) != 1 || docs.Pagination.TotalItems != 1 {
		t.Fatalf("documents = %+v, %v", docs, err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if d, err := c.Documents.Update(ctx, lib.ID, doc.ID, client.DocumentUpdate{Name: "leave-policy.md", ExpiresAt: &exp}); err != nil || d.Name != "leave-policy.md" {
		t.Fatalf("update doc = %+v, %v", d, err)
	}
	// The server's workers process the document (BM25 only: no
	// embeddings model here); then its text is served.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := c.Documents.Status(ctx, lib.ID, doc.ID)
		if err != nil || st.DocumentID != doc.ID {
			t.Fatalf("status = %+v, %v", st, err)
		}
		if st.ProcessStatus == "done" {
			break
		}
		if st.ProcessStatus == "error" || time.Now().After(deadline) {
			t.Fatalf("processing: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if text, err := c.Documents.TextContent(ctx, lib.ID, doc.ID); err != nil || !strings.Contains(text, "Twenty-five days a year.") {
		t.Fatalf("text = %q, %v", text, err)
	}
	if d, err := c.Documents.Get(ctx, lib.ID, doc.ID); err != nil || d.Name != "leave-policy.md" || d.ProcessStatus != "done" || d.Size == 0 {
		t.Fatalf("get = %+v, %v", d, err)
	}
	if u, err := c.Documents.SignedURL(ctx, lib.ID, doc.ID); err != nil || !strings.HasPrefix(u, "http") {
		t.Fatalf("signed url = %q, %v", u, err)
	}
	if err := c.Documents.Reprocess(ctx, lib.ID, doc.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Documents.Delete(ctx, lib.ID, doc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Documents.Get(ctx, lib.ID, doc.ID); client.StatusOf(err) != 404 {
		t.Fatalf("get deleted doc: %v", err)
	}
	// Share with another workspace: it sees the library, then no more.
	other, _, err := s.App.Auth.Create(ctx, auth.CreateOptions{Workspace: "other", Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := c.Libraries.Share(ctx, lib.ID, client.ShareRequest{Level: "Viewer", ShareWithUUID: other.WorkspaceID, ShareWithType: "Workspace"})
	if err != nil || sh.Role != "Viewer" || sh.ShareWithUUID != other.WorkspaceID {
		t.Fatalf("share = %+v, %v", sh, err)
	}
	acc, err := c.Libraries.Accesses(ctx, lib.ID)
	if err != nil || len(acc) != 2 || acc[0].Role != "Owner" {
		t.Fatalf("accesses = %+v, %v", acc, err)
	}
	if err := c.Libraries.Unshare(ctx, lib.ID, client.ShareRequest{ShareWithUUID: other.WorkspaceID, ShareWithType: "Workspace"}); err != nil {
		t.Fatal(err)
	}
	if acc, _ = c.Libraries.Accesses(ctx, lib.ID); len(acc) != 1 {
		t.Fatalf("accesses after unshare = %+v", acc)
	}
	if err := c.Libraries.Delete(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Libraries.Get(ctx, lib.ID); client.StatusOf(err) != 404 {
		t.Fatalf("get deleted library: %v", err)
	}
}

func TestModels(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ms, err := c.Models.List(context.Background())
	if err != nil || len(ms) != 1 || ms[0].ID != model || ms[0].Type == "" {
		t.Fatalf("models = %+v, %v", ms, err)
	}
	m, err := c.Models.Get(context.Background(), model)
	if err != nil || m.ID != model {
		t.Fatalf("get = %+v, %v", m, err)
	}
	if _, err := c.Models.Get(context.Background(), "nope"); client.StatusOf(err) != 404 {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestEmbeddings(t *testing.T) {
	s := newServer(t)
	c := s.client()
	r, err := c.Embeddings.Create(context.Background(), client.EmbeddingRequest{Model: model, Inputs: []string{"cold wind", "warm sea"}})
	if err != nil || len(r.Data) != 2 || r.Data[1].Index != 1 || r.Usage.TotalTokens == 0 {
		t.Fatalf("embeddings = %+v, %v", r, err)
	}
	// The scripted model's vectors are deterministic hashes of the words.
	if !slices.Equal(r.Data[0].Embedding, scripted.HashEmbedding("cold wind", scripted.DefaultEmbedDim)) {
		t.Fatalf("vector of %q differs from the scripted model's", "cold wind")
	}
	r, err = c.Embeddings.Create(context.Background(), client.EmbeddingRequest{Model: model, Inputs: []string{"x"}, OutputDimension: 8})
	if err != nil || len(r.Data[0].Embedding) != 8 {
		t.Fatalf("output_dimension: %+v, %v", r, err)
	}
}
