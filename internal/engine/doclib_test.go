package engine_test

// End to end through HTTP: a library is created and filled through the
// Libraries API, the ingestion worker processes the document, and an agent
// holding {type: "document_library", library_ids: [...]} searches it; the
// scripted model calls document_library(query), then cites [1]
// (API.md §7.1, §8; docs/libraries.md).

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/client"
)

const doclibScript = `
rules:
  - tool: document_library
    match: "Passages from the document libraries"
    reply: "The tramontane blows from the north-west [1]. Done."
  - tool: document_library
    reply: "no passages: {{tool_result}}"
  - match: "re:^find (.+)$"
    tool_calls:
      - {name: document_library, arguments: {query: "{{1}}"}}
default:
  reply: "ok: {{input}}"
`

const doclibText = "# Winds\n\nThe tramontane is a cold north-west wind; locals call it zephyrine-free air.\n\n" +
	"## Zephyrine\n\nZephyrine gusts sweep the Languedoc plains every winter.\n"

// uploadDocument uploads text as name into a library with key (through
// the client) and returns the document's id.
func (e *tenv) uploadDocument(libID, name, text, key string) string {
	e.t.Helper()
	d, err := e.api(key).Documents.Upload(e.t.Context(), libID, name, strings.NewReader(text))
	if err != nil {
		e.t.Fatalf("upload: %v", err)
	}
	if d.ID == "" || d.Name != name || d.ProcessStatus == "" {
		e.t.Fatalf("upload answered %+v", d)
	}
	return d.ID
}

// waitProcessed polls the document's status until it is done.
func (e *tenv) waitProcessed(libID, docID string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := e.api("").Documents.Status(e.t.Context(), libID, docID)
		if err != nil || st.DocumentID != docID {
			e.t.Fatalf("status answered %+v, %v", st, err)
		}
		switch st.ProcessStatus {
		case "done":
			if st.ProcessingStatus != "Completed" {
				e.t.Errorf("processing_status = %q with process_status done", st.ProcessingStatus)
			}
			return
		case "error":
			e.t.Fatalf("document failed: %+v", st)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("document not processed in time: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkDocRef checks a tool_reference chunk citing the document and
// fetches its signed link (without an API key) from the test server.
func (e *tenv) checkDocRef(ch map[string]any, docID, name, text string) {
	e.t.Helper()
	if ch["type"] != "tool_reference" || ch["tool"] != "document_library" || ch["title"] != name {
		e.t.Fatalf("reference = %v, want tool document_library, title %q", ch, name)
	}
	if d, ok := ch["description"]; ok && d != nil {
		if _, ok := d.(string); !ok {
			e.t.Errorf("description = %v", d)
		}
	}
	raw, _ := ch["url"].(string)
	u, err := url.Parse(raw)
	if err != nil || u.Path != "/documents/signed/"+docID || u.Query().Get("signature") == "" || u.Query().Get("expires") == "" {
		e.t.Fatalf("url %q is not the document's signed link", raw)
	}
	// The link is written with the server's public URL; the test server
	// has another address, so only path and query are replayed (raw HTTP:
	// a signed link is fetched without an API key, not through the API).
	resp, err := http.Get(e.srv.URL + u.Path + "?" + u.RawQuery)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != text {
		e.t.Errorf("signed link: HTTP %d %q, want the document", resp.StatusCode, body)
	}
}

// docInfo is a document_library tool.execution's info.
type docInfo struct {
	Query   string `json:"query"`
	Mode    string `json:"mode"`
	Error   string `json:"error"`
	Results []struct {
		ChunkID    any      `json:"chunk_id"`
		DocumentID string   `json:"document_id"`
		Score      *float64 `json:"score"`
	} `json:"results"`
	Missing []string `json:"missing_library_ids"`
}

func decodeInfo(t *testing.T, v any) docInfo {
	t.Helper()
	b, _ := json.Marshal(v)
	var in docInfo
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("info %s: %v", b, err)
	}
	return in
}

func TestDocumentLibraryConnector(t *testing.T) {
	e := newEnv(t, doclibScript)

	// A library and a document, through the Libraries API.
	lib, err := e.api("").Libraries.Create(t.Context(), client.LibraryRequest{Name: "handbook", Description: "winds"})
	if err != nil || lib.ID == "" {
		t.Fatalf("create library: %+v, %v", lib, err)
	}
	docID := e.uploadDocument(lib.ID, "winds.md", doclibText, e.keyA)
	e.waitProcessed(lib.ID, docID)

	agentID := e.createAgent(`{"model":"m1","name":"librarian","instructions":"Answer from the documents.",
		"tools":[{"type":"document_library","library_ids":["` + lib.ID + `"]}]}`)

	// Non-streaming.
	cr := e.start(`{"agent_id":"` + agentID + `","inputs":"find zephyrine tramontane","stream":false}`)
	wantTypes(t, "outputs", cr.Outputs, "tool.execution", "message.output")
	ex := cr.Outputs[0]
	if ex.str("name") != "document_library" || ex.str("agent_id") != agentID {
		t.Errorf("tool.execution = %v", ex)
	}
	if !sameJSON([]byte(ex.str("arguments")), []byte(`{"query":"zephyrine tramontane"}`)) {
		t.Errorf("arguments = %q", ex.str("arguments"))
	}
	info := decodeInfo(t, ex["info"])
	if info.Query != "zephyrine tramontane" || info.Error != "" || len(info.Results) == 0 {
		t.Fatalf("info = %+v", info)
	}
	for i, res := range info.Results {
		if res.ChunkID == nil || res.DocumentID != docID || res.Score == nil {
			t.Errorf("result %d = %+v, want chunk_id, document_id %s and score", i, res, docID)
		}
		if i > 0 && *res.Score > *info.Results[i-1].Score {
			t.Errorf("results not best first: %+v", info.Results)
		}
	}

	msg := cr.Outputs[1]
	chunks, ok := msg["content"].([]any)
	if !ok {
		t.Fatalf("message content is not a chunk list: %v", msg["content"])
	}
	var kinds []string
	var refs []map[string]any
	for _, c := range chunks {
		m, _ := c.(map[string]any)
		kinds = append(kinds, m["type"].(string))
		if m["type"] == "tool_reference" {
			refs = append(refs, m)
		}
	}
	if strings.Join(kinds, ",") != "text,tool_reference,text" {
		t.Errorf("content chunk types = %v", kinds)
	}
	if len(refs) != 1 {
		t.Fatalf("references = %v", refs)
	}
	e.checkDocRef(refs[0], docID, "winds.md", doclibText)
	if got := contentText(msg); !strings.Contains(got, "The tramontane blows from the north-west") || !strings.Contains(got, "Done.") {
		t.Errorf("answer text = %q", got)
	}
	if cr.Usage.Connectors["document_library"] != 1 {
		t.Errorf("usage.connectors = %v", cr.Usage.Connectors)
	}
	if cr.Usage.ConnectorTokens == nil || *cr.Usage.ConnectorTokens <= 0 {
		t.Errorf("connector_tokens = %v", cr.Usage.ConnectorTokens)
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)

	// What the model was given: the document_library function, then the
	// numbered passages.
	reqs := e.chats()
	if len(reqs) != 2 {
		t.Fatalf("%d upstream requests, want 2", len(reqs))
	}
	if got := toolNames(reqs[0]); strings.Join(got, ",") != "document_library" {
		t.Errorf("offered tools = %v", got)
	}
	msgs := reqs[1].Messages
	lastMsg := msgs[len(msgs)-1]
	if lastMsg.Role != "tool" || lastMsg.Content == nil || !strings.Contains(lastMsg.Content.Text, "[1] winds.md") ||
		!strings.Contains(lastMsg.Content.Text, "Zephyrine gusts") {
		t.Errorf("tool result given to the model = %+v", lastMsg)
	}

	// Streaming: the citation travels as a tool_reference chunk in a
	// message.output.delta.
	events := e.stream("/v1/conversations", `{"agent_id":"`+agentID+`","inputs":"find zephyrine","stream":true}`)
	u := lastDone(t, events)
	if u.Connectors["document_library"] != 1 {
		t.Errorf("streamed usage.connectors = %v", u.Connectors)
	}
	var streamed []map[string]any
	var started, done bool
	for _, ev := range events {
		switch ev.Name {
		case "tool.execution.started":
			started = ev.str("name") == "document_library"
		case "tool.execution.done":
			in := decodeInfo(t, ev.Data["info"])
			done = len(in.Results) > 0 && in.Results[0].DocumentID == docID
		case "message.output.delta":
			if m, ok := ev.Data["content"].(map[string]any); ok && m["type"] == "tool_reference" {
				streamed = append(streamed, m)
			}
		}
	}
	if !started || !done {
		t.Errorf("tool.execution events missing or wrong: %v", eventNames(events))
	}
	if len(streamed) != 1 {
		t.Fatalf("streamed references = %v", streamed)
	}
	e.checkDocRef(streamed[0], docID, "winds.md", doclibText)

	// Another workspace cannot search the library: the tool fails, the run
	// goes on.
	r := e.do(t.Context(), "POST", "/v1/conversations", `{"model":"m1","inputs":"find zephyrine","stream":false,
		"tools":[{"type":"document_library","library_ids":["`+lib.ID+`"]}]}`, e.keyB)
	if r.Status != 200 {
		t.Fatalf("workspace beta: %s", r)
	}
	other := decodeResponse(t, r.Body)
	wantTypes(t, "beta outputs", other.Outputs, "tool.execution", "message.output")
	if in := decodeInfo(t, other.Outputs[0]["info"]); in.Error == "" || len(in.Results) != 0 {
		t.Errorf("beta searched alpha's library: info %+v", in)
	}
	if got := contentText(other.Outputs[1]); !strings.HasPrefix(got, "no passages: ") {
		t.Errorf("beta answer = %q", got)
	}
}
