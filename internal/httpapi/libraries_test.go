package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/httpapi"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/tool/doclib"
)

// chatOnly is a provider without an embeddings endpoint.
type chatOnly struct{}

func (chatOnly) Chat(context.Context, *model.Request) (model.Stream, error) { return nil, nil }
func (chatOnly) Name() string                                               { return "chat-only" }

// fakeRouter routes "embed" to the scripted provider (hashed embeddings)
// and "chat" to a provider that cannot embed.
type fakeRouter struct{}

func (fakeRouter) Resolve(name string) (model.Provider, string, error) {
	switch name {
	case "embed":
		return scripted.New(nil), "embed-upstream", nil
	case "chat":
		return chatOnly{}, "chat", nil
	}
	return nil, "", apierr.Invalidf("model %q is not routed to any upstream", name)
}

// libEnv is the real stack with the libraries feature wired (as
// internal/app will do) and a third workspace, gamma.
type libEnv struct {
	*env
	lib  *library.Service
	keyC string
	wsC  string
}

func newLibEnv(t *testing.T) *libEnv {
	t.Helper()
	e := newEnv(t)
	// This env ingests by hand with its own library service and blobs: the
	// app's workers must not claim its documents.
	e.app.StopWorkers()
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := doclib.Wire(context.Background(), doclib.WireOptions{Store: e.app.Store, Blobs: blobs, Router: fakeRouter{},
		EmbeddingsModel: "embed", MaxUploadBytes: testMaxUpload, PublicURL: "http://tramontane.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.h = httpapi.New(httpapi.Deps{Store: e.app.Store, Auth: e.app.Auth, Libraries: w.Library, ModelRouter: fakeRouter{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: testMaxBody})
	kc, secretC, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Workspace: "gamma", Name: "key-c"})
	if err != nil {
		t.Fatal(err)
	}
	return &libEnv{env: e, lib: w.Library, keyC: "Bearer " + secretC, wsC: kc.WorkspaceID}
}

// process runs ingestion until every document has left todo/in_progress.
func (e *libEnv) process() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		did, err := e.lib.ProcessNext(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if !did {
			return
		}
	}
	e.t.Fatal("ingestion did not finish")
}

func (e *libEnv) uploadDoc(who, lib, filename, content string) *httptest.ResponseRecorder {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("purpose", "ignored")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
	h.Set("Content-Type", "application/octet-stream")
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write([]byte(content))
	_ = mw.Close()
	return e.request("POST", "/v1/libraries/"+lib+"/documents", who, &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
}

func (e *libEnv) uploadID(who, lib, filename, content string) string {
	e.t.Helper()
	rec := e.uploadDoc(who, lib, filename, content)
	if rec.Code != 200 {
		e.t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
	}
	checkContract(e.t, rec)
	return decode[map[string]any](e.t, rec)["id"].(string)
}

func (e *libEnv) obj(method, target, who, body string, want int) map[string]any {
	e.t.Helper()
	v, _ := e.callJSON(method, target, who, body, want).(map[string]any)
	return v
}

func hasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks required key %q: %v", what, k, m)
		}
	}
}

func TestLibrariesCRUD(t *testing.T) {
	e := newLibEnv(t)
	l := e.obj("POST", "/v1/libraries", asA, `{"name":"Handbook","description":"HR policies"}`, 201)
	hasKeys(t, "library", l, "id", "name", "created_at", "updated_at", "owner_id", "owner_type", "total_size", "nb_documents", "chunk_size")
	if l["owner_id"] != e.wsA || l["owner_type"] != "Workspace" || l["chunk_size"] != nil || l["nb_documents"] != 0.0 {
		t.Fatalf("created = %v", l)
	}
	id := l["id"].(string)
	e.obj("POST", "/v1/libraries", asA, `{"name":"Second","chunk_size":256}`, 201)
	list := e.obj("GET", "/v1/libraries?page_size=1", asA, "", 200)
	p := list["pagination"].(map[string]any)
	if p["total_items"] != 2.0 || p["total_pages"] != 2.0 || p["has_more"] != true || list["next_page_token"] != "1" || len(list["data"].([]any)) != 1 {
		t.Fatalf("list = %v", list)
	}
	list = e.obj("GET", "/v1/libraries?search=hand", asA, "", 200)
	if d := list["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != id {
		t.Fatalf("search = %v", list)
	}
	if got := e.obj("GET", "/v1/libraries/"+id, asA, "", 200); got["description"] != "HR policies" {
		t.Fatalf("get = %v", got)
	}
	if got := e.obj("PATCH", "/v1/libraries/"+id, asA, `{"name":"Staff handbook"}`, 200); got["name"] != "Staff handbook" || got["description"] != "HR policies" {
		t.Fatalf("patch = %v", got)
	}
	if got := e.obj("PUT", "/v1/libraries/"+id, asA, `{"description":null}`, 200); got["description"] != nil || got["name"] != "Staff handbook" {
		t.Fatalf("put = %v", got)
	}
	e.call("POST", "/v1/libraries", asA, `{"description":"no name"}`, 422)
	checkLoc(t, e.call("POST", "/v1/libraries", asA, `{"name":"x","chunk_size":3}`, 422), []any{"body", "chunk_size"})
	checkLoc(t, e.call("POST", "/v1/libraries", asA, `{"name":5}`, 422), []any{"body", "name"})
	e.call("POST", "/v1/libraries", asA, `{"name":`, 400)
	e.call("GET", "/v1/libraries/"+id, asNone, "", 401)
	// Another workspace: 404 everywhere.
	for _, r := range [][2]string{{"GET", ""}, {"GET", "/documents"}, {"PATCH", ""}, {"DELETE", ""}, {"GET", "/share"}} {
		body := ""
		if r[0] == "PATCH" {
			body = `{"name":"x"}`
		}
		e.call(r[0], "/v1/libraries/"+id+r[1], asB, body, 404)
	}
	if rec := e.uploadDoc(asB, id, "a.txt", "x"); rec.Code != 404 {
		t.Fatalf("foreign upload: %d", rec.Code)
	}
	if d := e.obj("GET", "/v1/libraries", asB, "", 200)["data"].([]any); len(d) != 0 {
		t.Fatalf("beta lists alpha's libraries: %v", d)
	}
	if got := e.obj("DELETE", "/v1/libraries/"+id, asA, "", 200); got["id"] != id {
		t.Fatalf("delete = %v", got)
	}
	e.call("GET", "/v1/libraries/"+id, asA, "", 404)
	e.call("GET", "/v1/libraries/not-a-uuid", asA, "", 404)
}

func TestDocumentsLifecycle(t *testing.T) {
	e := newLibEnv(t)
	lib := e.obj("POST", "/v1/libraries", asA, `{"name":"Docs"}`, 201)["id"].(string)
	base := "/v1/libraries/" + lib + "/documents/"
	rec := e.uploadDoc(asA, lib, "guide.md", "# Boats\n\nSailing boats need wind.\n\n## Engines\n\nMotor boats need fuel.")
	if rec.Code != 200 {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
	}
	checkContract(t, rec)
	doc := decode[map[string]any](t, rec)
	hasKeys(t, "document", doc, "id", "library_id", "name", "hash", "mime_type", "extension", "size", "created_at",
		"process_status", "processing_status", "uploaded_by_id", "uploaded_by_type", "tokens_processing_total")
	if doc["process_status"] != "todo" || doc["processing_status"] != "Running" || doc["extension"] != "md" || doc["mime_type"] != "text/markdown" || doc["uploaded_by_id"] != e.wsA {
		t.Fatalf("uploaded = %v", doc)
	}
	id := doc["id"].(string)
	bad := e.uploadID(asA, lib, "scan.pdf", "%PDF-1.4 broken")
	e.call("GET", base+id+"/text_content", asA, "", 409)
	e.process()

	got := e.obj("GET", base+id, asA, "", 200)
	if got["process_status"] != "done" || got["processing_status"] != "Completed" || got["tokens_processing_total"].(float64) < 10 || got["last_processed_at"] == nil {
		t.Fatalf("processed = %v", got)
	}
	st := e.obj("GET", base+bad+"/status", asA, "", 200)
	if st["document_id"] != bad || st["process_status"] != "error" || st["processing_status"] != "Failed" || !strings.Contains(st["process_status_reason"].(string), "malformed") {
		t.Fatalf("status = %v", st)
	}
	text := e.obj("GET", base+id+"/text_content?page_start=1&page_end=1", asA, "", 200)["text"].(string)
	if !strings.Contains(text, "Sailing boats need wind.") || !strings.Contains(text, "Engines") {
		t.Fatalf("text = %q", text)
	}
	e.call("GET", base+id+"/text_content?page_start=3&page_end=2", asA, "", 422)
	lst := e.obj("GET", "/v1/libraries/"+lib, asA, "", 200)
	if lst["nb_documents"] != 2.0 || lst["total_size"].(float64) < 60 {
		t.Fatalf("library stats = %v", lst)
	}

	// Signed links are bare JSON strings that work without a key.
	var link string
	if err := json.Unmarshal(e.call("GET", base+id+"/signed-url", asA, "", 200), &link); err != nil || !strings.HasPrefix(link, "http://example.com/documents/signed/"+id+"?") {
		t.Fatalf("signed-url = %q %v", link, err)
	}
	u, _ := url.Parse(link)
	r := e.request("GET", u.RequestURI(), asNone, nil, nil)
	if r.Code != 200 || !strings.Contains(r.Body.String(), "Sailing boats") || r.Header().Get("Content-Disposition") == "" {
		t.Fatalf("signed content: %d %s", r.Code, r.Body.String())
	}
	if r = e.request("GET", strings.Replace(u.RequestURI(), "signature=", "signature=x", 1), asNone, nil, nil); r.Code != 401 {
		t.Fatalf("tampered link: %d", r.Code)
	}
	if err := json.Unmarshal(e.call("GET", base+id+"/extracted-text-signed-url", asA, "", 200), &link); err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(link)
	if r = e.request("GET", u.RequestURI(), asNone, nil, nil); r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/plain") || !strings.Contains(r.Body.String(), "Motor boats need fuel.") {
		t.Fatalf("signed text: %d %q", r.Code, r.Body.String())
	}

	upd := e.obj("PATCH", base+id, asA, `{"name":"boats.md","attributes":{"topic":"sea","year":2024},"expires_at":"2999-01-01T00:00:00Z"}`, 200)
	if upd["name"] != "boats.md" || upd["attributes"].(map[string]any)["topic"] != "sea" || upd["expires_at"] != "2999-01-01T00:00:00Z" {
		t.Fatalf("patch = %v", upd)
	}
	if upd = e.obj("PUT", base+id, asA, `{"expires_at":null}`, 200); upd["expires_at"] != nil || upd["name"] != "boats.md" {
		t.Fatalf("put = %v", upd)
	}
	checkLoc(t, e.call("PATCH", base+id, asA, `{"attributes":{"a":{"b":1}}}`, 422), []any{"body", "attributes", "a"})
	filter := url.QueryEscape(`{"field":"topic","op":"eq","value":"sea"}`)
	docs := e.obj("GET", "/v1/libraries/"+lib+"/documents?filters_attributes="+filter, asA, "", 200)
	if d := docs["data"].([]any); len(d) != 1 || docs["pagination"].(map[string]any)["total_items"] != 1.0 {
		t.Fatalf("filtered list = %v", docs)
	}
	docs = e.obj("GET", "/v1/libraries/"+lib+"/documents?sort_by=name&sort_order=asc&page_size=1", asA, "", 200)
	if d := docs["data"].([]any); len(d) != 1 || d[0].(map[string]any)["name"] != "boats.md" {
		t.Fatalf("sorted list = %v", docs)
	}
	e.call("GET", "/v1/libraries/"+lib+"/documents?sort_by=colour", asA, "", 422)
	e.call("GET", "/v1/libraries/"+lib+"/documents?filters_attributes=%7B", asA, "", 422)

	e.call("POST", base+id+"/reprocess", asA, "", 204)
	if got = e.obj("GET", base+id, asA, "", 200); got["process_status"] != "todo" {
		t.Fatalf("after reprocess = %v", got["process_status"])
	}
	e.process()
	e.call("DELETE", base+id, asA, "", 204)
	e.call("GET", base+id, asA, "", 404)
	e.call("DELETE", base+id, asA, "", 404)
	if r = e.request("GET", u.RequestURI(), asNone, nil, nil); r.Code != 404 {
		t.Fatalf("signed link of a deleted document: %d", r.Code)
	}
}

func TestDocumentUploadErrors(t *testing.T) {
	e := newLibEnv(t)
	lib := e.obj("POST", "/v1/libraries", asA, `{"name":"Docs"}`, 201)["id"].(string)
	path := "/v1/libraries/" + lib + "/documents"
	if r := e.request("POST", path, asA, strings.NewReader(`{}`), map[string]string{"Content-Type": "application/json"}); r.Code != 415 {
		t.Fatalf("json upload: %d", r.Code)
	}
	body, ct := multipartBody(t, "", nil, map[string]string{"purpose": "x"})
	r := e.request("POST", path, asA, body, map[string]string{"Content-Type": ct})
	if r.Code != 422 {
		t.Fatalf("no file part: %d %s", r.Code, r.Body.String())
	}
	checkContract(t, r)
	if r = e.uploadDoc(asA, lib, "big.txt", strings.Repeat("x", testMaxUpload+1)); r.Code != 413 {
		t.Fatalf("oversized: %d %s", r.Code, r.Body.String())
	}
	if got := e.obj("GET", "/v1/libraries/"+lib, asA, "", 200); got["nb_documents"] != 0.0 {
		t.Fatalf("a failed upload left a document: %v", got)
	}
}

func TestLibrarySharingRoles(t *testing.T) {
	e := newLibEnv(t)
	lib := e.obj("POST", "/v1/libraries", asA, `{"name":"Shared"}`, 201)["id"].(string)
	doc := e.uploadID(asA, lib, "a.txt", "Shared knowledge about tides.")
	e.process()
	share := "/v1/libraries/" + lib + "/share"
	base := "/v1/libraries/" + lib + "/documents/"

	sh := e.obj("PUT", share, asA, `{"level":"Viewer","share_with_uuid":"`+e.wsB+`","share_with_type":"Workspace"}`, 200)
	hasKeys(t, "sharing", sh, "library_id", "org_id", "role", "share_with_type", "share_with_uuid")
	if sh["role"] != "Viewer" || sh["share_with_uuid"] != e.wsB || sh["org_id"] != e.lib.OrgID() {
		t.Fatalf("sharing = %v", sh)
	}
	// The viewer reads...
	e.call("GET", "/v1/libraries/"+lib, asB, "", 200)
	e.call("GET", base+doc, asB, "", 200)
	e.call("GET", base+doc+"/text_content", asB, "", 200)
	e.call("GET", base+doc+"/signed-url", asB, "", 200)
	if d := e.obj("GET", "/v1/libraries", asB, "", 200)["data"].([]any); len(d) != 1 {
		t.Fatalf("viewer's list = %v", d)
	}
	if d := e.obj("GET", "/v1/libraries?filter_owned_by_me=true", asB, "", 200)["data"].([]any); len(d) != 0 {
		t.Fatalf("owned-only list = %v", d)
	}
	acc := e.obj("GET", share, asB, "", 200)["data"].([]any)
	if len(acc) != 2 || acc[0].(map[string]any)["role"] != "Owner" {
		t.Fatalf("accesses = %v", acc)
	}
	// ...and writes nothing: 403.
	if r := e.uploadDoc(asB, lib, "b.txt", "x"); r.Code != 403 {
		t.Fatalf("viewer upload: %d", r.Code)
	} else {
		checkContract(t, r)
	}
	e.call("PATCH", base+doc, asB, `{"name":"x"}`, 403)
	e.call("DELETE", base+doc, asB, "", 403)
	e.call("POST", base+doc+"/reprocess", asB, "", 403)
	e.call("PATCH", "/v1/libraries/"+lib, asB, `{"name":"x"}`, 403)
	e.call("DELETE", "/v1/libraries/"+lib, asB, "", 403)
	e.call("PUT", share, asB, `{"level":"Editor","share_with_uuid":"`+e.wsC+`","share_with_type":"Workspace"}`, 403)
	// Gamma has no access at all.
	e.call("GET", "/v1/libraries/"+lib, e.keyC, "", 404)

	// Editor: uploads, edits; still cannot share or delete the library.
	e.obj("PUT", share, asA, `{"level":"Editor","share_with_uuid":"`+e.wsB+`","share_with_type":"Workspace"}`, 200)
	e.uploadID(asB, lib, "b.txt", "Editor upload.")
	e.call("PATCH", base+doc, asB, `{"name":"renamed.txt"}`, 200)
	e.call("PATCH", "/v1/libraries/"+lib, asB, `{"name":"Renamed"}`, 200)
	e.call("DELETE", "/v1/libraries/"+lib, asB, "", 403)
	e.call("DELETE", share, asB, `{"share_with_uuid":"`+e.wsB+`","share_with_type":"Workspace"}`, 403)

	checkLoc(t, e.call("PUT", share, asA, `{"level":"Admin","share_with_uuid":"`+e.wsB+`","share_with_type":"Workspace"}`, 422), []any{"body", "level"})
	checkLoc(t, e.call("PUT", share, asA, `{"level":"Viewer","share_with_uuid":"nope","share_with_type":"Workspace"}`, 422), []any{"body", "share_with_uuid"})
	e.call("PUT", share, asA, `{"level":"Viewer","share_with_uuid":"`+e.wsB+`","share_with_type":"User"}`, 422)
	// Org-wide: gamma reads.
	e.obj("PUT", share, asA, `{"level":"Viewer","share_with_uuid":"`+e.lib.OrgID()+`","share_with_type":"Org"}`, 200)
	e.call("GET", "/v1/libraries/"+lib, e.keyC, "", 200)
	del := e.obj("DELETE", share, asA, `{"org_id":null,"share_with_uuid":"`+e.wsB+`","share_with_type":"Workspace"}`, 200)
	if del["role"] != "Editor" || del["share_with_uuid"] != e.wsB {
		t.Fatalf("unshare = %v", del)
	}
	e.call("DELETE", share, asA, `{"share_with_uuid":"`+e.wsB+`","share_with_type":"Workspace"}`, 404)
	e.call("DELETE", share, asA, `{"share_with_uuid":"`+e.lib.OrgID()+`","share_with_type":"Org"}`, 200)
	e.call("GET", "/v1/libraries/"+lib, asB, "", 404)
	e.call("GET", base+doc, e.keyC, "", 404)
}

func TestEmbeddingsEndpoint(t *testing.T) {
	e := newLibEnv(t)
	res := e.obj("POST", "/v1/embeddings", asA, `{"model":"embed","input":["the cat sat","a dog ran far"]}`, 200)
	hasKeys(t, "embeddings", res, "id", "object", "model", "usage", "data")
	data := res["data"].([]any)
	if res["object"] != "list" || res["model"] != "embed" || len(data) != 2 || !strings.HasPrefix(res["id"].(string), "embd-") {
		t.Fatalf("response = %v", res)
	}
	first := data[1].(map[string]any)
	if first["object"] != "embedding" || first["index"] != 1.0 || len(first["embedding"].([]any)) != scripted.DefaultEmbedDim {
		t.Fatalf("item = %v", first)
	}
	if u := res["usage"].(map[string]any); u["prompt_tokens"] != 7.0 || u["total_tokens"] != 7.0 {
		t.Fatalf("usage = %v", u)
	}
	one := e.obj("POST", "/v1/embeddings", asA, `{"model":"embed","input":"single","output_dimension":8,"encoding_format":"base64"}`, 200)
	b64 := one["data"].([]any)[0].(map[string]any)["embedding"].(string)
	if raw, err := base64.StdEncoding.DecodeString(b64); err != nil || len(raw) != 32 {
		t.Fatalf("base64 embedding: %d bytes, %v", len(raw), err)
	}
	i8 := e.obj("POST", "/v1/embeddings", asA, `{"model":"embed","input":"single","output_dtype":"int8"}`, 200)
	for _, v := range i8["data"].([]any)[0].(map[string]any)["embedding"].([]any) {
		if f := v.(float64); f < -128 || f > 127 || f != float64(int(f)) {
			t.Fatalf("int8 value %v", f)
		}
	}
	bin := e.obj("POST", "/v1/embeddings", asA, `{"model":"embed","input":"single","output_dtype":"ubinary"}`, 200)
	if n := len(bin["data"].([]any)[0].(map[string]any)["embedding"].([]any)); n != scripted.DefaultEmbedDim/8 {
		t.Fatalf("ubinary length %d", n)
	}
	checkLoc(t, e.call("POST", "/v1/embeddings", asA, `{"input":"x"}`, 422), []any{"body", "model"})
	checkLoc(t, e.call("POST", "/v1/embeddings", asA, `{"model":"embed","input":[]}`, 422), []any{"body", "input"})
	checkLoc(t, e.call("POST", "/v1/embeddings", asA, `{"model":"embed","input":[1,2]}`, 422), []any{"body", "input"})
	checkLoc(t, e.call("POST", "/v1/embeddings", asA, `{"model":"embed","input":"x","output_dtype":"int4"}`, 422), []any{"body", "output_dtype"})
	checkLoc(t, e.call("POST", "/v1/embeddings", asA, `{"model":"embed","input":"x","output_dimension":100000}`, 422), []any{"body", "output_dimension"})
	e.call("POST", "/v1/embeddings", asA, `{"model":"nope","input":"x"}`, 400)
	e.call("POST", "/v1/embeddings", asA, `{"model":"chat","input":"x"}`, 400)
	e.call("POST", "/v1/embeddings", asNone, `{"model":"embed","input":"x"}`, 401)
}

// TestLibrariesDisabled: without a library service the routes say so.
func TestLibrariesDisabled(t *testing.T) {
	e := newEnv(t)
	e.h = httpapi.New(httpapi.Deps{Store: e.app.Store, Auth: e.app.Auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.call("GET", "/v1/libraries", asA, "", 503)
	e.call("POST", "/v1/embeddings", asA, `{"model":"embed","input":"x"}`, 503)
}
