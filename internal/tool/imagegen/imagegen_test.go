package imagegen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// tinyPNG is a valid 2x2 PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// saved records what the fake SaveFile received.
type saved struct {
	mu                        sync.Mutex
	workspace, name, mimeType string
	data                      []byte
	err                       error
}

func (s *saved) save(_ context.Context, workspace, filename, mimeType string, r io.Reader) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	s.workspace, s.name, s.mimeType, s.data = workspace, filename, mimeType, data
	return "3f2b0c1e-1111-4222-8333-444455556666", nil
}

// fakeImages is an OpenAI-compatible images server. answer builds the
// response for a request body.
func fakeImages(t *testing.T, answer func(w http.ResponseWriter, req map[string]any)) (*httptest.Server, *[]map[string]any) {
	t.Helper()
	var mu sync.Mutex
	var got []map[string]any
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/images/generations", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer img-key" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Invalid API key","type":"invalid_request_error"}}`)
			return
		}
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		answer(w, req)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &got
}

func call(args string) engine.ToolCall {
	return engine.ToolCall{Workspace: "ws-1", ConversationID: "conv-1", Tool: agent.Tool{Type: ToolName}, Arguments: args}
}

func TestGenerateB64(t *testing.T) {
	pic := tinyPNG(t)
	srv, got := fakeImages(t, func(w http.ResponseWriter, req map[string]any) {
		json.NewEncoder(w).Encode(map[string]any{"created": 1, "data": []map[string]string{
			{"b64_json": base64.StdEncoding.EncodeToString(pic), "revised_prompt": "a red dot, refined"}}})
	})
	for _, base := range []string{srv.URL, srv.URL + "/v1", srv.URL + "/v1/"} {
		var s saved
		c, err := New(Config{BaseURL: base, APIKey: "img-key", Model: "flux-schnell", Size: "512x512"}, s.save)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Execute(context.Background(), call(`{"prompt":"a red dot"}`))
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if s.workspace != "ws-1" || s.name != "image_generated_0.png" || s.mimeType != "image/png" || !bytes.Equal(s.data, pic) {
			t.Errorf("saved %q %q %q %d bytes", s.workspace, s.name, s.mimeType, len(s.data))
		}
		if len(res.Chunks) != 1 || string(res.Chunks[0]) != `{"file_id":"3f2b0c1e-1111-4222-8333-444455556666","file_name":"image_generated_0","file_type":"png","tool":"image_generation","type":"tool_file"}` {
			t.Errorf("chunks = %s", res.Chunks)
		}
		info, _ := json.Marshal(res.Info)
		if string(info) != `{"file_id":"3f2b0c1e-1111-4222-8333-444455556666","prompt":"a red dot","revised_prompt":"a red dot, refined"}` {
			t.Errorf("info = %s", info)
		}
		if !strings.Contains(res.ForModel, "generated") || !strings.Contains(res.ForModel, "shown to the user") || len(res.References) != 0 {
			t.Errorf("ForModel = %q", res.ForModel)
		}
	}
	req := (*got)[0]
	want := map[string]any{"model": "flux-schnell", "prompt": "a red dot", "n": float64(1), "size": "512x512", "response_format": "b64_json"}
	if fmt.Sprint(req) != fmt.Sprint(want) {
		t.Errorf("request = %v", req)
	}
	if len(*got) != 3 {
		t.Errorf("%d requests", len(*got))
	}
}

func TestGPTImageOmitsResponseFormat(t *testing.T) {
	pic := tinyPNG(t)
	srv, got := fakeImages(t, func(w http.ResponseWriter, req map[string]any) {
		if _, ok := req["response_format"]; ok {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"Unknown parameter: 'response_format'."}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"data": []map[string]string{{"b64_json": "data:image/png;base64," + base64.RawStdEncoding.EncodeToString(pic)}}})
	})
	var s saved
	c, _ := New(Config{BaseURL: srv.URL, APIKey: "img-key", Model: "gpt-image-1"}, s.save)
	if _, err := c.Execute(context.Background(), call(`"a bare prompt"`)); err != nil {
		t.Fatal(err)
	}
	if (*got)[0]["size"] != DefaultSize || !bytes.Equal(s.data, pic) {
		t.Errorf("request %v, %d bytes saved", (*got)[0], len(s.data))
	}
}

func TestGenerateURL(t *testing.T) {
	pic := tinyPNG(t)
	var mu sync.Mutex
	answerURL := ""
	srv, _ := fakeImages(t, func(w http.ResponseWriter, req map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"data": []map[string]string{{"url": answerURL}}})
	})
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(pic) }))
	defer files.Close()
	_, filesPort, _ := net.SplitHostPort(files.Listener.Addr().String())
	resolver := fetch.ResolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	set := func(u string) { mu.Lock(); answerURL = u; mu.Unlock() }

	// On the backend's own host the URL is fetched like the API itself,
	// not through the policy (which would refuse loopback): the fake
	// answers the GET with 405.
	set(srv.URL + "/v1/images/generations")
	var s saved
	c, _ := New(Config{BaseURL: srv.URL, APIKey: "img-key"}, s.save, WithResolver(resolver))
	if _, err := c.Execute(context.Background(), call(`{"prompt":"p"}`)); err == nil || !strings.Contains(err.Error(), "HTTP 405") {
		t.Errorf("same-host URL err = %v (want the backend's own 405)", err)
	}
	// Elsewhere, through the SSRF-safe fetcher: refused on loopback...
	set("http://cdn.images.example:" + filesPort + "/out.png")
	if _, err := c.Execute(context.Background(), call(`{"prompt":"p"}`)); !errors.Is(err, fetch.ErrBlocked) {
		t.Errorf("private URL err = %v, want ErrBlocked", err)
	}
	// ...unless private destinations are allowed.
	c, _ = New(Config{BaseURL: srv.URL, APIKey: "img-key", AllowPrivate: true}, s.save, WithResolver(resolver))
	if _, err := c.Execute(context.Background(), call(`{"prompt":"p"}`)); err != nil || !bytes.Equal(s.data, pic) {
		t.Fatalf("allowed URL: %v", err)
	}
	// A same-host URL that serves the image.
	same := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			json.NewEncoder(w).Encode(map[string]any{"data": []map[string]string{{"url": "http://" + r.Host + "/generated-images/x.png"}}})
			return
		}
		w.Write(pic)
	}))
	defer same.Close()
	s = saved{}
	c, _ = New(Config{BaseURL: same.URL}, s.save)
	if _, err := c.Execute(context.Background(), call(`{"prompt":"p"}`)); err != nil || !bytes.Equal(s.data, pic) {
		t.Fatalf("same-host image: %v", err)
	}
}

func TestBackendErrors(t *testing.T) {
	pic := tinyPNG(t)
	mode := ""
	var mu sync.Mutex
	srv, _ := fakeImages(t, func(w http.ResponseWriter, req map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		switch mode {
		case "400":
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"Your prompt was rejected by the safety system."}}`)
		case "500":
			w.WriteHeader(500)
			fmt.Fprint(w, `upstream exploded`)
		case "empty":
			fmt.Fprint(w, `{"data":[]}`)
		case "nothing":
			fmt.Fprint(w, `{"data":[{}]}`)
		case "badb64":
			fmt.Fprint(w, `{"data":[{"b64_json":"***"}]}`)
		case "text":
			json.NewEncoder(w).Encode(map[string]any{"data": []map[string]string{{"b64_json": base64.StdEncoding.EncodeToString([]byte("<html>no</html>"))}}})
		case "garbage":
			fmt.Fprint(w, `not json`)
		default:
			json.NewEncoder(w).Encode(map[string]any{"data": []map[string]string{{"b64_json": base64.StdEncoding.EncodeToString(pic)}}})
		}
	})
	var s saved
	c, _ := New(Config{BaseURL: srv.URL, APIKey: "img-key"}, s.save)
	for m, want := range map[string]string{
		"400":     "HTTP 400: Your prompt was rejected by the safety system.",
		"500":     "HTTP 500: upstream exploded",
		"empty":   "no image",
		"nothing": "neither b64_json nor url",
		"badb64":  "invalid base64",
		"text":    "not an image",
		"garbage": "unreadable",
	} {
		mu.Lock()
		mode = m
		mu.Unlock()
		_, err := c.Execute(context.Background(), call(`{"prompt":"p"}`))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", m, err, want)
		}
	}
	mu.Lock()
	mode = ""
	mu.Unlock()
	bad, _ := New(Config{BaseURL: srv.URL, APIKey: "wrong"}, s.save)
	if _, err := bad.Execute(context.Background(), call(`{"prompt":"p"}`)); err == nil || strings.Contains(err.Error(), "wrong") ||
		!strings.Contains(err.Error(), "Invalid API key") {
		t.Errorf("bad key err = %v", err)
	}
	small, _ := New(Config{BaseURL: srv.URL, APIKey: "img-key", MaxImageBytes: 10}, s.save)
	if _, err := small.Execute(context.Background(), call(`{"prompt":"p"}`)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("size cap err = %v", err)
	}
	s.err = errors.New("disk full")
	if _, err := c.Execute(context.Background(), call(`{"prompt":"p"}`)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("save err = %v", err)
	}
	for _, args := range []string{``, `{}`, `{"prompt":" "}`, `[]`} {
		if _, err := c.Execute(context.Background(), call(args)); err == nil {
			t.Errorf("args %q accepted", args)
		}
	}
	down, _ := New(Config{BaseURL: "http://127.0.0.1:1"}, s.save)
	if _, err := down.Execute(context.Background(), call(`{"prompt":"p"}`)); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("down err = %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	var s saved
	c, _ := New(Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond}, s.save)
	if _, err := c.Execute(context.Background(), call(`{"prompt":"p"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

type backendFunc func(context.Context, string) (*Image, error)

func (f backendFunc) Generate(ctx context.Context, p string) (*Image, error) { return f(ctx, p) }

func TestWithBackendAndDefinition(t *testing.T) {
	jpeg := &Image{Data: []byte("\xff\xd8\xff\xe0fakejpeg"), MIMEType: "image/jpeg"}
	var s saved
	c, err := New(Config{}, s.save, WithBackend(backendFunc(func(context.Context, string) (*Image, error) { return jpeg, nil })))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background(), call(`{"prompt":"p"}`))
	if err != nil || s.name != "image_generated_0.jpg" || !strings.Contains(string(res.Chunks[0]), `"file_type":"jpg"`) {
		t.Fatalf("jpeg: %v %q %s", err, s.name, res.Chunks)
	}
	d := c.Definition(agent.Tool{Type: ToolName})
	var schema struct {
		Properties map[string]struct{ Type string }
		Required   []string
	}
	if d.Name != ToolName || json.Unmarshal(d.Parameters, &schema) != nil || schema.Properties["prompt"].Type != "string" || schema.Required[0] != "prompt" {
		t.Errorf("definition %+v", d)
	}
	if _, err := New(Config{BaseURL: "http://x"}, nil); err == nil {
		t.Error("nil saver accepted")
	}
	if _, err := New(Config{}, s.save); err == nil {
		t.Error("missing base_url accepted")
	}
}

func TestLoadConfig(t *testing.T) {
	raw := []byte("image_generation:\n  base_url: http://file-host:8080\n  model: sd\n  size: 256x256\n  timeout: 30s\n")
	env := map[string]string{"TRAMONTANE_IMAGES_URL": "http://127.0.0.1:8080/v1", "TRAMONTANE_IMAGES_API_KEY": "k"}
	c, err := Load(raw, func(k string) string { return env[k] })
	if err != nil || !c.Enabled() || c.BaseURL != "http://127.0.0.1:8080/v1" || c.APIKey != "k" || c.Model != "sd" || c.Size != "256x256" || c.Timeout != 30*time.Second {
		t.Fatalf("config = %+v, %v", c, err)
	}
	if c, err := Load(nil, func(string) string { return "" }); err != nil || c.Enabled() {
		t.Errorf("empty: %+v %v", c, err)
	}
	for _, bad := range []string{"image_generation: {base_url: 'ftp://x'}", "image_generation: {base_url: 'http://x', colour: red}"} {
		if _, err := Load([]byte(bad), func(string) string { return "" }); err == nil {
			t.Errorf("Load(%s) accepted", bad)
		}
	}
	if (&OpenAI{BaseURL: "http://h/v1/"}).Endpoint() != "http://h/v1/images/generations" ||
		(&OpenAI{BaseURL: "http://h/api"}).Endpoint() != "http://h/api/v1/images/generations" {
		t.Error("endpoint")
	}
}
