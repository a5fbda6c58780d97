package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/blob/blobtest"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/testsvc"
	"gopkg.in/yaml.v3"
)

// instance is one Tramontane instance of a scale-out test: its own data
// dir, the shared PostgreSQL database (and Redis, if given).
type instance struct {
	app *App
	url string
	srv *httptest.Server
}

const scaleOutConfig = `providers: [{name: s, type: scripted, script: ./script.yaml}]
models: [{name: echo-model, provider: s}]
`

func newInstance(t *testing.T, dbURL, redisURL, extraConfig, bootstrap string) (*instance, error) {
	t.Helper()
	return newScriptedInstance(t, dbURL, redisURL, extraConfig, bootstrap, "default:\n  reply: noted\n")
}

// newScriptedInstance starts an instance whose model follows script.
func newScriptedInstance(t *testing.T, dbURL, redisURL, extraConfig, bootstrap, script string) (*instance, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "script.yaml"), []byte(script), 0o600)
	cfgFile := filepath.Join(dir, "tramontane.yaml")
	os.WriteFile(cfgFile, []byte(scaleOutConfig+extraConfig), 0o600)
	c := config.Defaults()
	c.ConfigFile = cfgFile
	c.Raw, _ = os.ReadFile(cfgFile)
	if err := yaml.Unmarshal(c.Raw, &c); err != nil { // the settings of extraConfig
		t.Fatal(err)
	}
	c.DataDir, c.Addr, c.BootstrapKey, c.DatabaseURL = dir, "127.0.0.1:0", bootstrap, dbURL
	c.ScaleOut.RedisURL = redisURL
	a, err := New(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(a.HTTPHandler())
	a.SetInstanceURL(srv.URL)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &instance{app: a, url: srv.URL, srv: srv}, nil
}

func mustInstance(t *testing.T, dbURL, redisURL, extra, bootstrap string) *instance {
	t.Helper()
	in, err := newInstance(t, dbURL, redisURL, extra, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func call(t *testing.T, method, url, key, ctype string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Authorization", "Bearer "+key)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func testKey() string { return "tr-scaleout-" + strings.ReplaceAll(uuid.NewString(), "-", "") }

// A file uploaded through one instance downloads through another, and
// deleting it through the other removes its content for all: blobs in
// PostgreSQL (the default there), and in a real S3-compatible server.
func TestScaleOutFilesAcrossInstances(t *testing.T) {
	db := blobtest.PostgresURL(t)
	t.Run("postgres", func(t *testing.T) { filesAcrossInstances(t, db, "", "postgres") })
	t.Run("s3", func(t *testing.T) {
		srv := testsvc.S3(t)
		extra := fmt.Sprintf("blob_url: s3://%s/team/blobs\ns3: {endpoint: %q, access_key_id: %q, secret_access_key: %q, path_style: path}\n",
			srv.Bucket, srv.Endpoint, srv.AccessKey, srv.SecretKey)
		a := filesAcrossInstances(t, db, extra, "s3")
		// Nothing is left in the bucket once the file is deleted.
		st, _, err := OpenBlobs(context.Background(), a.app.Config)
		if err != nil {
			t.Fatal(err)
		}
		st.List(context.Background(), func(key string) error {
			t.Errorf("blob %s left in the bucket", key)
			return nil
		})
	})
}

func filesAcrossInstances(t *testing.T, db, extra, kind string) *instance {
	key := testKey()
	a, b := mustInstance(t, db, "", extra, key), mustInstance(t, db, "", extra, key)
	if BlobKind(a.app.Config) != kind {
		t.Fatalf("blob store = %s, want %s", BlobKind(a.app.Config), kind)
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 KB: several chunks
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "data.bin")
	fw.Write(content)
	mw.WriteField("purpose", "ocr")
	mw.Close()
	st, out := call(t, "POST", a.url+"/v1/files", key, mw.FormDataContentType(), &body)
	if st != 200 {
		t.Fatalf("upload: %d %s", st, out)
	}
	var f struct{ ID string }
	json.Unmarshal(out, &f)
	st, got := call(t, "GET", b.url+"/v1/files/"+f.ID+"/content", key, "", nil)
	if st != 200 || !bytes.Equal(got, content) {
		t.Fatalf("download through the other instance: %d, %d bytes (want %d)", st, len(got), len(content))
	}
	if st, out := call(t, "DELETE", b.url+"/v1/files/"+f.ID, key, "", nil); st != 200 {
		t.Fatalf("delete: %d %s", st, out)
	}
	if st, _ := call(t, "GET", a.url+"/v1/files/"+f.ID+"/content", key, "", nil); st != 404 {
		t.Fatalf("content after delete: %d, want 404", st)
	}
	return a
}

// An --rps 1 key gets one request per second across all instances.
func TestScaleOutRateLimitAcrossInstances(t *testing.T) {
	db := blobtest.PostgresURL(t)
	redisURL, _ := testsvc.Redis(t)
	boot := testKey()
	a, b := mustInstance(t, db, redisURL, "", boot), mustInstance(t, db, redisURL, "", boot)
	_, limited, err := a.app.Auth.Create(context.Background(), auth.CreateOptions{Name: "rps1", RPS: 1, Workspace: "so-" + uuid.NewString()[:8]})
	if err != nil {
		t.Fatal(err)
	}
	admitted := 0
	for i := range 6 {
		in := a
		if i%2 == 1 {
			in = b
		}
		st, out := call(t, "GET", in.url+"/v1/models", limited, "", nil)
		switch st {
		case 200:
			admitted++
		case 429:
		default:
			t.Fatalf("request %d: %d %s", i, st, out)
		}
	}
	if admitted < 1 || admitted > 2 {
		t.Fatalf("a burst of 6 on an rps-1 key over 2 instances admitted %d, want 1 (at most 2 across a second boundary)", admitted)
	}
}

// On PostgreSQL without Redis, configured limits stop the start, and a key
// with its own limits is refused with a 503 that names the fix.
func TestPostgresWithoutRedisNeverMultipliesLimits(t *testing.T) {
	db := blobtest.PostgresURL(t)
	_, err := newInstance(t, db, "", "rate_limits:\n  default: {rps: 5}\n", testKey())
	if err == nil || !strings.Contains(err.Error(), "TRAMONTANE_REDIS_URL") {
		t.Fatalf("start with limits and no Redis: %v, want an error naming TRAMONTANE_REDIS_URL", err)
	}
	a := mustInstance(t, db, "", "", testKey())
	_, limited, err := a.app.Auth.Create(context.Background(), auth.CreateOptions{Name: "rps1", RPS: 1, Workspace: "so-" + uuid.NewString()[:8]})
	if err != nil {
		t.Fatal(err)
	}
	st, out := call(t, "GET", a.url+"/v1/models", limited, "", nil)
	if st != 503 || !strings.Contains(string(out), "TRAMONTANE_REDIS_URL") {
		t.Fatalf("limited key without a shared store: %d %s, want 503 naming TRAMONTANE_REDIS_URL", st, out)
	}
	_, free, _ := a.app.Auth.Create(context.Background(), auth.CreateOptions{Name: "free", Workspace: "so-" + uuid.NewString()[:8]})
	if st, out := call(t, "GET", a.url+"/v1/models", free, "", nil); st != 200 {
		t.Fatalf("key without limits: %d %s", st, out)
	}
}

// A write through one instance is seen through another at once: agents
// (versions) and conversations (the history cache).
func TestScaleOutCachesCoherent(t *testing.T) {
	db := blobtest.PostgresURL(t)
	key := testKey()
	a, b := mustInstance(t, db, "", "", key), mustInstance(t, db, "", "", key)
	js := "application/json"
	st, out := call(t, "POST", a.url+"/v1/agents", key, js, strings.NewReader(`{"model":"echo-model","name":"coherent","instructions":"v1"}`))
	if st != 200 {
		t.Fatalf("create agent: %d %s", st, out)
	}
	var ag struct {
		ID           string
		Version      int
		Instructions string
	}
	json.Unmarshal(out, &ag)
	// Warm a's caches, update through b, read through a.
	call(t, "GET", a.url+"/v1/agents/"+ag.ID, key, "", nil)
	if st, out := call(t, "PATCH", b.url+"/v1/agents/"+ag.ID, key, js, strings.NewReader(`{"instructions":"v2"}`)); st != 200 {
		t.Fatalf("update agent: %d %s", st, out)
	}
	_, out = call(t, "GET", a.url+"/v1/agents/"+ag.ID, key, "", nil)
	json.Unmarshal(out, &ag)
	if ag.Instructions != "v2" {
		t.Fatalf("instance a serves instructions %q after b's update", ag.Instructions)
	}

	// A conversation whose turns alternate between the instances.
	st, out = call(t, "POST", a.url+"/v1/conversations", key, js, strings.NewReader(`{"model":"echo-model","inputs":"turn 1","stream":false}`))
	if st != 200 {
		t.Fatalf("start conversation: %d %s", st, out)
	}
	var conv struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal(out, &conv)
	for i, in := range []*instance{b, a, b, a} {
		body := `{"inputs":"turn ` + itoa(i+2) + `","stream":false}`
		if st, out := call(t, "POST", in.url+"/v1/conversations/"+conv.ConversationID, key, js, strings.NewReader(body)); st != 200 {
			t.Fatalf("append %d: %d %s", i+2, st, out)
		}
	}
	for _, in := range []*instance{a, b} {
		_, out = call(t, "GET", in.url+"/v1/conversations/"+conv.ConversationID+"/history", key, "", nil)
		var h struct{ Entries []json.RawMessage }
		json.Unmarshal(out, &h)
		if len(h.Entries) != 10 {
			t.Fatalf("history through %s: %d entries, want 10 (5 turns of input + reply): %s", in.url, len(h.Entries), out)
		}
	}
}
