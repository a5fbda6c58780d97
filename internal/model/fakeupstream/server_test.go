package fakeupstream

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/model/wire"
)

func newServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Script == nil {
		s, err := scripted.Parse([]byte(`default: {reply: "echo {{input}}"}`))
		if err != nil {
			t.Fatal(err)
		}
		opts.Script = s
	}
	fs := New(opts)
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv.URL
}

func post(t *testing.T, url, body string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestChatNonStreaming(t *testing.T) {
	_, url := newServer(t, Options{})
	resp := post(t, url+"/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}]}`)
	var cr wire.ChatResponse
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
		t.Fatal(err)
	}
	if cr.Object != "chat.completion" || cr.Model != "x" || cr.Choices[0].Message.Content.Text != "echo hi" ||
		*cr.Choices[0].FinishReason != "stop" || cr.Usage == nil {
		t.Errorf("response = %+v", cr)
	}
}

func TestChatStreamingFormat(t *testing.T) {
	_, url := newServer(t, Options{})
	resp := post(t, url+"/chat/completions", // the /v1 prefix is optional
		`{"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}`)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	if lines[len(lines)-1] != "data: [DONE]" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	var first, usage wire.ChatResponse
	json.Unmarshal([]byte(strings.TrimPrefix(lines[0], "data: ")), &first)
	json.Unmarshal([]byte(strings.TrimPrefix(lines[len(lines)-2], "data: ")), &usage)
	if first.Choices[0].Delta.Role != "assistant" || first.Object != "chat.completion.chunk" {
		t.Errorf("first chunk %s", lines[0])
	}
	if usage.Usage == nil || len(usage.Choices) != 0 || !strings.Contains(lines[len(lines)-2], `"choices":[]`) {
		t.Errorf("usage chunk %s", lines[len(lines)-2])
	}
}

func TestBreakStreamWithTools(t *testing.T) {
	_, url := newServer(t, Options{BreakStreamWithTools: true})
	body := `{"model":"x","stream":%s,"messages":[{"role":"user","content":"hi"}],
	  "tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}`
	if resp := post(t, url+"/v1/chat/completions", strings.Replace(body, "%s", "true", 1)); resp.StatusCode != 400 {
		t.Errorf("stream+tools: %d", resp.StatusCode)
	}
	if resp := post(t, url+"/v1/chat/completions", strings.Replace(body, "%s", "false", 1)); resp.StatusCode != 200 {
		t.Errorf("tools without stream: %d", resp.StatusCode)
	}
}

func TestRecordingAndAuth(t *testing.T) {
	fs, url := newServer(t, Options{APIKey: "k"})
	if resp := post(t, url+"/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 401 {
		t.Errorf("no key: %d", resp.StatusCode)
	}
	post(t, url+"/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer k")
	resp, err := http.Get(url + "/_requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var recs []Recorded
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Authorized || !recs[1].Authorized || recs[1].Path != "/v1/chat/completions" {
		t.Fatalf("recorded %+v", recs)
	}
	raw, _ := json.Marshal(recs)
	if bytes.Contains(raw, []byte("Bearer k")) {
		t.Error("the key was recorded")
	}
	if got := fs.ChatRequests(); len(got) != 2 || got[1].Messages[0].Content.Text != "hi" {
		t.Errorf("ChatRequests = %+v", got)
	}
	req, _ := http.NewRequest(http.MethodDelete, url+"/_requests", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v", err)
	}
	if len(fs.Requests()) != 0 {
		t.Error("requests not cleared")
	}
}

func TestImages(t *testing.T) {
	_, url := newServer(t, Options{Images: true})
	resp := post(t, url+"/v1/images/generations", `{"prompt":"a red fox","n":2}`)
	var ir wire.ImagesResponse
	if err := json.NewDecoder(resp.Body).Decode(&ir); err != nil {
		t.Fatal(err)
	}
	if len(ir.Data) != 2 {
		t.Fatalf("images = %d", len(ir.Data))
	}
	raw, err := base64.StdEncoding.DecodeString(ir.Data[0].B64JSON)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() != 8 {
		t.Errorf("not a PNG: %v", err)
	}
	_, plain := newServer(t, Options{})
	if resp := post(t, plain+"/v1/images/generations", `{"prompt":"x"}`); resp.StatusCode != 404 {
		t.Errorf("images served without -images: %d", resp.StatusCode)
	}
}

func TestEmbeddingsEndpoint(t *testing.T) {
	_, url := newServer(t, Options{EmbeddingsDim: 32})
	resp := post(t, url+"/v1/embeddings", `{"model":"e","input":"one string"}`)
	var er wire.EmbeddingsResponse
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &er); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if er.Object != "list" || len(er.Data) != 1 || len(er.Data[0].Embedding) != 32 || er.Usage.PromptTokens != 2 {
		t.Errorf("response = %s", body)
	}
}

func TestModelsEndpoint(t *testing.T) {
	_, url := newServer(t, Options{})
	resp, err := http.Get(url + "/v1/models")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("models: %v", err)
	}
	resp.Body.Close()
}
