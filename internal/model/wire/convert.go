package wire

import (
	"encoding/json"
	"strings"

	"github.com/tramontane/tramontane/internal/model"
)

// emptySchema is sent when a tool has no parameters: several servers
// require the key.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// EncodeRequest builds the wire request for req in dialect d.
func EncodeRequest(req *model.Request, d Dialect, stream bool) *ChatRequest {
	cr := &ChatRequest{
		Model:             req.Model,
		Temperature:       req.Temperature,
		TopP:              req.TopP,
		PresencePenalty:   req.PresencePenalty,
		FrequencyPenalty:  req.FrequencyPenalty,
		MaxTokens:         req.MaxTokens,
		Stop:              StringList(req.Stop),
		ResponseFormat:    req.ResponseFormat,
		ParallelToolCalls: req.ParallelToolCalls,
		Stream:            stream,
	}
	if d == Mistral {
		cr.RandomSeed = req.RandomSeed
	} else {
		cr.Seed = req.RandomSeed
		if stream {
			cr.StreamOptions = &StreamOptions{IncludeUsage: true}
		}
	}
	last := len(req.Messages) - 1
	for i, m := range req.Messages {
		wm := EncodeMessage(m)
		// Only a final assistant message can be a prefix, and only
		// Mistral understands it.
		wm.Prefix = d == Mistral && m.Prefix && i == last && m.Role == model.RoleAssistant
		cr.Messages = append(cr.Messages, wm)
	}
	for _, t := range req.Tools {
		params := t.Parameters
		if len(params) == 0 {
			params = emptySchema
		}
		cr.Tools = append(cr.Tools, Tool{Type: "function", Function: Function{
			Name: t.Name, Description: t.Description, Parameters: params, Strict: t.Strict,
		}})
	}
	// Some servers (vLLM) reject tool_choice without tools.
	if len(req.Tools) > 0 {
		cr.ToolChoice = encodeToolChoice(req.ToolChoice, d)
	}
	return cr
}

func encodeToolChoice(choice string, d Dialect) json.RawMessage {
	switch choice {
	case "":
		return nil
	case model.ToolChoiceAuto, model.ToolChoiceNone:
	case model.ToolChoiceAny, model.ToolChoiceRequired:
		if d == OpenAI {
			choice = model.ToolChoiceRequired
		}
	default:
		b, _ := json.Marshal(map[string]any{
			"type": "function", "function": map[string]string{"name": choice},
		})
		return b
	}
	b, _ := json.Marshal(choice)
	return b
}

// EncodeMessage converts one message (without dialect specifics).
func EncodeMessage(m model.Message) Message {
	wm := Message{Role: m.Role, ToolCallID: m.ToolCallID}
	c := &Content{Text: m.Content}
	for _, p := range m.Parts {
		switch p.Type {
		case "image_url":
			c.Parts = append(c.Parts, ContentPart{Type: "image_url", ImageURL: &ImageURL{URL: p.ImageURL}})
		default:
			c.Parts = append(c.Parts, ContentPart{Type: "text", Text: p.Text})
		}
	}
	wm.Content = c
	if m.Role == model.RoleTool {
		wm.Name = m.Name
	}
	for _, tc := range m.ToolCalls {
		args := tc.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		wm.ToolCalls = append(wm.ToolCalls, ToolCall{
			ID: tc.ID, Type: "function", Function: FunctionCall{Name: tc.Name, Arguments: Arguments(args)},
		})
	}
	return wm
}

// DecodeRequest converts a received wire request (either dialect) to the
// neutral request. The fake upstream uses it.
func DecodeRequest(cr *ChatRequest) *model.Request {
	req := &model.Request{
		Model:             cr.Model,
		Temperature:       cr.Temperature,
		TopP:              cr.TopP,
		PresencePenalty:   cr.PresencePenalty,
		FrequencyPenalty:  cr.FrequencyPenalty,
		MaxTokens:         cr.MaxTokens,
		RandomSeed:        cr.RandomSeed,
		Stop:              []string(cr.Stop),
		ResponseFormat:    cr.ResponseFormat,
		ParallelToolCalls: cr.ParallelToolCalls,
		ToolChoice:        decodeToolChoice(cr.ToolChoice),
	}
	if req.RandomSeed == nil {
		req.RandomSeed = cr.Seed
	}
	for _, m := range cr.Messages {
		req.Messages = append(req.Messages, m.ToModel())
	}
	for _, t := range cr.Tools {
		req.Tools = append(req.Tools, model.ToolDef{
			Name: t.Function.Name, Description: t.Function.Description,
			Parameters: t.Function.Parameters, Strict: t.Function.Strict,
		})
	}
	return req
}

func decodeToolChoice(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Function.Name
	}
	return ""
}

// ToModel converts a wire message (request message or response message)
// to the neutral shape. Thinking parts are dropped.
func (m *Message) ToModel() model.Message {
	out := model.Message{Role: m.Role, ToolCallID: m.ToolCallID, Name: m.Name, Prefix: m.Prefix}
	if m.Content != nil {
		out.Content = m.Content.Text
		for _, p := range m.Content.Parts {
			switch p.Type {
			case "text":
				out.Parts = append(out.Parts, model.Part{Type: "text", Text: p.Text})
			case "image_url":
				if p.ImageURL != nil {
					out.Parts = append(out.Parts, model.Part{Type: "image_url", ImageURL: p.ImageURL.URL})
				}
			}
		}
		// A response's text-only list collapses to plain content.
		if onlyText(out.Parts) {
			out.Content = m.Content.PlainText()
			out.Parts = nil
		}
	}
	for _, tc := range m.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, model.ToolCall{
			ID: tc.ID, Name: tc.Function.Name, Arguments: string(tc.Function.Arguments),
		})
	}
	return out
}

func onlyText(parts []model.Part) bool {
	for _, p := range parts {
		if p.Type != "text" {
			return false
		}
	}
	return true
}

// ResponseToModel converts a non-streaming response. Tool calls without an
// id get a fresh one.
func ResponseToModel(cr *ChatResponse) model.Response {
	var r model.Response
	r.Message.Role = model.RoleAssistant
	if len(cr.Choices) > 0 {
		c := cr.Choices[0]
		if c.Message != nil {
			r.Message = c.Message.ToModel()
			r.Message.Role = model.RoleAssistant
			r.Message.Prefix = false
		}
		if c.FinishReason != nil {
			r.FinishReason = *c.FinishReason
		}
	}
	for i := range r.Message.ToolCalls {
		tc := &r.Message.ToolCalls[i]
		if tc.ID == "" {
			tc.ID = model.NewToolCallID()
		}
		if strings.TrimSpace(tc.Arguments) == "" {
			tc.Arguments = "{}"
		}
	}
	if len(r.Message.ToolCalls) > 0 && (r.FinishReason == "" || r.FinishReason == model.FinishStop) {
		r.FinishReason = model.FinishToolCalls
	}
	if r.FinishReason == "" {
		r.FinishReason = model.FinishStop
	}
	if cr.Usage != nil {
		r.Usage = cr.Usage.ToModel()
	}
	return r
}

// ToModel converts usage, filling a missing total.
func (u *Usage) ToModel() model.Usage {
	mu := model.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if mu.TotalTokens == 0 {
		mu.TotalTokens = mu.PromptTokens + mu.CompletionTokens
	}
	return mu
}

// DeltaState tracks tool-call indices across the chunks of one stream, for
// servers that omit "index" on tool-call deltas.
type DeltaState struct {
	next   int
	lastID string
	last   int
	seen   bool
}

// ChunkToModel converts one streamed chunk. Tool-call deltas without an
// index are numbered: a new id starts a new call, no id continues the
// previous one.
func (st *DeltaState) ChunkToModel(cr *ChatResponse) model.Chunk {
	var out model.Chunk
	if cr.Usage != nil {
		u := cr.Usage.ToModel()
		out.Usage = &u
	}
	if len(cr.Choices) == 0 {
		return out
	}
	c := cr.Choices[0]
	if c.FinishReason != nil {
		out.FinishReason = *c.FinishReason
	}
	d := c.Delta
	if d == nil {
		d = c.Message // some servers stream "message" instead of "delta"
	}
	if d == nil {
		return out
	}
	out.Content = d.Content.PlainText()
	for _, tc := range d.ToolCalls {
		idx := st.index(tc)
		out.ToolCalls = append(out.ToolCalls, model.ToolCallDelta{
			Index: idx, ID: tc.ID, Name: tc.Function.Name, Arguments: string(tc.Function.Arguments),
		})
	}
	return out
}

func (st *DeltaState) index(tc ToolCall) int {
	if tc.Index != nil {
		i := *tc.Index
		if i >= st.next {
			st.next = i + 1
		}
		st.last, st.lastID, st.seen = i, tc.ID, true
		return i
	}
	if st.seen && (tc.ID == "" || tc.ID == st.lastID) {
		return st.last
	}
	i := st.next
	st.next++
	st.last, st.lastID, st.seen = i, tc.ID, true
	return i
}

// EncodeResponse builds a non-streaming response for r.
func EncodeResponse(r model.Response, id, modelName string, created int64) ChatResponse {
	m := EncodeMessage(r.Message)
	m.Role = model.RoleAssistant
	finish := r.FinishReason
	u := Usage(r.Usage)
	return ChatResponse{
		ID: id, Object: "chat.completion", Created: created, Model: modelName,
		Choices: []Choice{{Index: 0, Message: &m, FinishReason: &finish}},
		Usage:   &u,
	}
}

// EncodeChunk builds one streamed chunk for c. The first chunk of a stream
// carries the assistant role. Usage is included only when withUsage.
func EncodeChunk(c model.Chunk, id, modelName string, created int64, first, withUsage bool) ChatResponse {
	d := &Message{}
	if first {
		d.Role = model.RoleAssistant
	}
	if c.Content != "" || first {
		d.Content = &Content{Text: c.Content}
	}
	for _, tc := range c.ToolCalls {
		idx := tc.Index
		call := ToolCall{Index: &idx, ID: tc.ID, Function: FunctionCall{Name: tc.Name, Arguments: Arguments(tc.Arguments)}}
		if tc.ID != "" {
			call.Type = "function"
		}
		d.ToolCalls = append(d.ToolCalls, call)
	}
	ch := Choice{Index: 0, Delta: d}
	if c.FinishReason != "" {
		f := c.FinishReason
		ch.FinishReason = &f
	}
	out := ChatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: modelName, Choices: []Choice{ch}}
	if withUsage && c.Usage != nil {
		u := Usage(*c.Usage)
		out.Usage = &u
	}
	return out
}
