package scripted

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tramontane/tramontane/internal/model"
)

// Engine answers requests by following a script. It counts rule uses (for
// "times") and is safe for concurrent use.
type Engine struct {
	script *Script
	mu     sync.Mutex
	used   []int
}

// NewEngine makes an engine for s.
func NewEngine(s *Script) *Engine {
	if s == nil {
		s = &Script{}
	}
	return &Engine{script: s, used: make([]int, len(s.Rules))}
}

// Reply is what the script says to answer.
type Reply struct {
	// Rule labels the rule that answered: its name, "rules[i]",
	// "default" or "none".
	Rule string
	// Response is the answer (unused when Error is set).
	Response model.Response
	// Error, when set, fails the call with that HTTP status.
	Error *ErrorSpec
	// Delay is waited before answering.
	Delay time.Duration
	// FailAfterChunks, when positive, breaks the stream after that many
	// chunks.
	FailAfterChunks int
}

// Input is what the rules look at, derived from a request.
type Input struct {
	Text        string   // the latest user or tool message
	Role        string   // "user" or "tool" ("" for an empty request)
	ToolName    string   // for a tool result
	ToolResults []string // the trailing tool results, oldest first
	LastUser    string
	System      string // all system messages, joined by "\n"
	Tools       []string
	Model       string
}

// InputOf extracts the rule input from a request.
func InputOf(req *model.Request) Input {
	in := Input{Model: req.Model}
	for _, t := range req.Tools {
		in.Tools = append(in.Tools, t.Name)
	}
	var sys []string
	for _, m := range req.Messages {
		if m.Role == model.RoleSystem {
			sys = append(sys, m.Text())
		}
	}
	in.System = strings.Join(sys, "\n")
	msgs := req.Messages
	latest := -1
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == model.RoleUser || msgs[i].Role == model.RoleTool {
			latest = i
			break
		}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == model.RoleUser {
			in.LastUser = msgs[i].Text()
			break
		}
	}
	if latest < 0 {
		return in
	}
	m := msgs[latest]
	in.Text, in.Role = m.Text(), m.Role
	if m.Role == model.RoleTool {
		in.ToolName = toolName(msgs, latest)
		start := latest
		for start > 0 && msgs[start-1].Role == model.RoleTool {
			start--
		}
		for _, t := range msgs[start : latest+1] {
			in.ToolResults = append(in.ToolResults, t.Text())
		}
	}
	return in
}

// toolName finds the tool a tool message answers.
func toolName(msgs []model.Message, i int) string {
	if msgs[i].Name != "" {
		return msgs[i].Name
	}
	id := msgs[i].ToolCallID
	for j := i - 1; j >= 0; j-- {
		for _, tc := range msgs[j].ToolCalls {
			if tc.ID == id {
				return tc.Name
			}
		}
	}
	return ""
}

// Respond picks the rule for req and builds the reply.
func (e *Engine) Respond(req *model.Request) *Reply {
	in := InputOf(req)
	for i := range e.script.Rules {
		r := &e.script.Rules[i]
		ok, caps := r.matches(&in)
		if !ok || !e.take(i, r.Times) {
			continue
		}
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("rules[%d]", i)
		}
		return build(r, name, req, &in, caps)
	}
	if e.script.Default != nil {
		return build(e.script.Default, "default", req, &in, nil)
	}
	fallback := &Rule{Reply: fmt.Sprintf("scripted model: no rule matches the input %q", in.Text)}
	return build(fallback, "none", req, &in, nil)
}

// take counts one use of rule i, unless it is used up.
func (e *Engine) take(i, times int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if times > 0 && e.used[i] >= times {
		return false
	}
	e.used[i]++
	return true
}

func (r *Rule) matches(in *Input) (bool, []string) {
	on := r.On
	if len(r.Tool) > 0 {
		on = "tool"
	}
	if on == "user" || on == "tool" {
		if in.Role != on {
			return false, nil
		}
	}
	if len(r.Tool) > 0 && !anyExact(r.Tool, in.ToolName) {
		return false, nil
	}
	if len(r.System) > 0 && !anyFind(r.System, in.System) {
		return false, nil
	}
	if len(r.Model) > 0 && !anyFind(r.Model, in.Model) {
		return false, nil
	}
	for _, p := range r.Offered {
		found := false
		for _, t := range in.Tools {
			if p.Exact(t) {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	if len(r.Match) == 0 {
		return true, nil
	}
	for _, p := range r.Match {
		if ok, caps := p.Find(in.Text); ok {
			return true, caps
		}
	}
	return false, nil
}

func anyFind(ps Patterns, s string) bool {
	for _, p := range ps {
		if ok, _ := p.Find(s); ok {
			return true
		}
	}
	return false
}

func anyExact(ps Patterns, s string) bool {
	for _, p := range ps {
		if p.Exact(s) {
			return true
		}
	}
	return false
}

var templateRE = regexp.MustCompile(`\{\{\s*([a-z_0-9]+)\s*\}\}`)

// substituter returns the template function for one request.
func substituter(in *Input, caps []string) func(string) string {
	lastResult := ""
	if n := len(in.ToolResults); n > 0 {
		lastResult = in.ToolResults[n-1]
	}
	vars := map[string]string{
		"input":        in.Text,
		"last_user":    in.LastUser,
		"tool_result":  lastResult,
		"tool_results": strings.Join(in.ToolResults, "\n"),
		"tool_name":    in.ToolName,
		"model":        in.Model,
		"system":       in.System,
		"tools":        strings.Join(in.Tools, ", "),
	}
	for i, c := range caps {
		if i > 0 {
			vars[strconv.Itoa(i)] = c
		}
	}
	return func(s string) string {
		return templateRE.ReplaceAllStringFunc(s, func(m string) string {
			key := templateRE.FindStringSubmatch(m)[1]
			if v, ok := vars[key]; ok {
				return v
			}
			return m
		})
	}
}

func build(r *Rule, name string, req *model.Request, in *Input, caps []string) *Reply {
	rep := &Reply{
		Rule:            name,
		Delay:           time.Duration(r.DelayMS) * time.Millisecond,
		FailAfterChunks: r.FailAfterChunks,
	}
	if r.Error != nil {
		rep.Error = r.Error
		return rep
	}
	subst := substituter(in, caps)
	msg := model.Message{Role: model.RoleAssistant, Content: subst(r.Reply)}
	for i, c := range r.ToolCalls {
		args, err := encodeArgs(c.Arguments, subst)
		if err != nil {
			args = "{}"
		}
		id := c.ID
		if id == "" {
			id = callID(req, name, i)
		}
		msg.ToolCalls = append(msg.ToolCalls, model.ToolCall{ID: id, Name: subst(c.Name), Arguments: args})
	}
	if r.Handoff != "" {
		tool := model.HandoffToolName(r.Handoff)
		if offered(in.Tools, tool) {
			msg.ToolCalls = append(msg.ToolCalls, model.ToolCall{
				ID: callID(req, name, len(msg.ToolCalls)), Name: tool, Arguments: "{}",
			})
		} else {
			note := fmt.Sprintf("scripted model: cannot hand off to %q: the tool %s is not offered (offered: %s)",
				r.Handoff, tool, orNone(in.Tools))
			msg.Content = strings.TrimSpace(msg.Content + "\n" + note)
		}
	}
	finish := model.FinishStop
	if len(msg.ToolCalls) > 0 {
		finish = model.FinishToolCalls
	}
	if r.FinishReason != "" {
		finish = r.FinishReason
	}
	rep.Response = model.Response{Message: msg, FinishReason: finish, Usage: usage(req, &msg)}
	return rep
}

func offered(tools []string, name string) bool {
	for _, t := range tools {
		if t == name {
			return true
		}
	}
	return false
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// callID is a deterministic 9-character id for call i of the answer to req.
func callID(req *model.Request, rule string, i int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%d|", rule, len(req.Messages), i)
	if n := len(req.Messages); n > 0 {
		h.Write([]byte(req.Messages[n-1].Text()))
	}
	d := h.Sum(nil)
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [9]byte
	for k := range b {
		b[k] = alphabet[int(d[k])%len(alphabet)]
	}
	return string(b[:])
}

// usage counts words: the request's messages (and their calls) for the
// prompt, the reply and its calls for the completion.
func usage(req *model.Request, msg *model.Message) model.Usage {
	var u model.Usage
	for i := range req.Messages {
		u.PromptTokens += messageTokens(&req.Messages[i])
	}
	u.CompletionTokens = messageTokens(msg)
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func messageTokens(m *model.Message) int {
	n := model.CountTokens(m.Text())
	for _, tc := range m.ToolCalls {
		n += model.CountTokens(tc.Name) + model.CountTokens(tc.Arguments)
	}
	return n
}

// argFragment is the size of the argument fragments in a stream.
const argFragment = 8

// Chunks splits the reply into stream deltas: one chunk per word of the
// text, each call's id and name first and its arguments in fragments, and
// a last chunk with the finish reason and usage.
func (r *Reply) Chunks() []model.Chunk {
	var out []model.Chunk
	for _, w := range model.SplitWords(r.Response.Message.Content) {
		out = append(out, model.Chunk{Content: w})
	}
	for i, tc := range r.Response.Message.ToolCalls {
		out = append(out, model.Chunk{ToolCalls: []model.ToolCallDelta{{Index: i, ID: tc.ID, Name: tc.Name}}})
		args := tc.Arguments
		for len(args) > 0 {
			n := min(argFragment, len(args))
			for n < len(args) && !utf8.RuneStart(args[n]) {
				n++ // never split a character
			}
			out = append(out, model.Chunk{ToolCalls: []model.ToolCallDelta{{Index: i, Arguments: args[:n]}}})
			args = args[n:]
		}
	}
	u := r.Response.Usage
	out = append(out, model.Chunk{FinishReason: r.Response.FinishReason, Usage: &u})
	return out
}
