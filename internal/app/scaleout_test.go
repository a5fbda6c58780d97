package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/client"
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

// client returns a client of the instance with key, without retries
// (the rate-limit tests count refusals).
func (in *instance) client(key string) *client.Client {
	return client.New(client.WithBaseURL(in.url), client.WithAPIKey(key), client.WithRetry(client.RetryPolicy{}))
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
	ctx := t.Context()
	ca, cb := a.client(key), b.client(key)
	f, err := ca.Files.Upload(ctx, client.FileUpload{Name: "data.bin", Purpose: "ocr", Content: bytes.NewReader(content)})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	rc, err := cb.Files.Download(ctx, f.ID)
	if err != nil {
		t.Fatalf("download through the other instance: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("download through the other instance: %v, %d bytes (want %d)", err, len(got), len(content))
	}
	if err := cb.Files.Delete(ctx, f.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := ca.Files.Download(ctx, f.ID); client.StatusOf(err) != 404 {
		t.Fatalf("content after delete: %v, want a 404", err)
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
		_, err := in.client(limited).Models.List(t.Context())
		switch client.StatusOf(err) {
		case 0:
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			admitted++
		case 429:
		default:
			t.Fatalf("request %d: %v", i, err)
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
	_, err = a.client(limited).Models.List(t.Context())
	if client.StatusOf(err) != 503 || !strings.Contains(err.Error(), "TRAMONTANE_REDIS_URL") {
		t.Fatalf("limited key without a shared store: %v, want 503 naming TRAMONTANE_REDIS_URL", err)
	}
	_, free, _ := a.app.Auth.Create(context.Background(), auth.CreateOptions{Name: "free", Workspace: "so-" + uuid.NewString()[:8]})
	if _, err := a.client(free).Models.List(t.Context()); err != nil {
		t.Fatalf("key without limits: %v", err)
	}
}

// A write through one instance is seen through another at once: agents
// (versions) and conversations (the history cache).
func TestScaleOutCachesCoherent(t *testing.T) {
	db := blobtest.PostgresURL(t)
	key := testKey()
	a, b := mustInstance(t, db, "", "", key), mustInstance(t, db, "", "", key)
	ctx := t.Context()
	ca, cb := a.client(key), b.client(key)
	ag, err := ca.Agents.Create(ctx, client.AgentCreateRequest{Model: "echo-model", Name: "coherent", Instructions: "v1"})
	if err != nil {
		t.Fatalf("create agent: %v", err)
	}
	// Warm a's caches, update through b, read through a.
	if _, err := ca.Agents.Get(ctx, ag.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Agents.Update(ctx, ag.ID, client.AgentUpdateRequest{Instructions: client.Ptr("v2")}); err != nil {
		t.Fatalf("update agent: %v", err)
	}
	if ag, err = ca.Agents.Get(ctx, ag.ID); err != nil || ag.Instructions != "v2" {
		t.Fatalf("instance a serves instructions %q (%v) after b's update", ag.Instructions, err)
	}

	// A conversation whose turns alternate between the instances.
	conv, err := ca.Conversations.Start(ctx, client.ConversationRequest{Model: "echo-model", Inputs: client.UserMessage("turn 1")})
	if err != nil {
		t.Fatalf("start conversation: %v", err)
	}
	for i, in := range []*instance{b, a, b, a} {
		if _, err := in.client(key).Conversations.Append(ctx, conv.ConversationID, client.AppendRequest{Inputs: client.UserMessage("turn " + itoa(i+2))}); err != nil {
			t.Fatalf("append %d: %v", i+2, err)
		}
	}
	for _, in := range []*instance{a, b} {
		h, err := in.client(key).Conversations.History(ctx, conv.ConversationID)
		if err != nil || len(h.Entries) != 10 {
			t.Fatalf("history through %s: %v, %d entries, want 10 (5 turns of input + reply)", in.url, err, len(h.Entries))
		}
	}
}
