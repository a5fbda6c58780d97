package fakeupstream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tramontane/tramontane/internal/model/wire"
)

// ModerationCategories are the categories the fake moderation model
// scores (those of Mistral's moderation model).
var ModerationCategories = []string{
	"sexual", "hate_and_discrimination", "violence_and_threats", "dangerous_and_criminal_content",
	"selfharm", "health", "financial", "law", "pii",
}

// ModerationErrorTrigger in an input makes /moderations fail with a 500.
const ModerationErrorTrigger = "conf-moderation-error"

// moderations serves POST /v1/moderations deterministically: an input
// containing "flag-<category>" (say "flag-violence_and_threats") scores
// 0.9 in that category and is flagged; "conf-unsafe" scores 0.95 in
// violence_and_threats; everything else scores 0.01.
func (s *Server) moderations(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string          `json:"model"`
		Input wire.StringList `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Input) == 0 {
		writeError(w, http.StatusBadRequest, "body must be {model, input: string | string[]}", 0)
		return
	}
	type result struct {
		Flagged        bool               `json:"flagged"`
		Categories     map[string]bool    `json:"categories"`
		CategoryScores map[string]float64 `json:"category_scores"`
	}
	out := struct {
		ID      string      `json:"id"`
		Model   string      `json:"model"`
		Results []result    `json:"results"`
		Usage   *wire.Usage `json:"usage"`
	}{ID: fmt.Sprintf("mod-%d", s.seq.Add(1)), Model: req.Model}
	words := 0
	for _, in := range req.Input {
		low := strings.ToLower(in)
		if strings.Contains(low, ModerationErrorTrigger) {
			writeError(w, http.StatusInternalServerError, "fakeupstream: the moderation backend failed", 0)
			return
		}
		res := result{Categories: map[string]bool{}, CategoryScores: map[string]float64{}}
		for _, c := range ModerationCategories {
			score := 0.01
			if strings.Contains(low, "flag-"+c) || (c == "violence_and_threats" && strings.Contains(low, "conf-unsafe")) {
				score = 0.9
				if c == "violence_and_threats" && strings.Contains(low, "conf-unsafe") {
					score = 0.95
				}
			}
			res.CategoryScores[c] = score
			res.Categories[c] = score >= 0.5
			res.Flagged = res.Flagged || score >= 0.5
		}
		out.Results = append(out.Results, res)
		words += len(strings.Fields(in))
	}
	out.Usage = &wire.Usage{PromptTokens: words, TotalTokens: words}
	writeJSON(w, http.StatusOK, out)
}

// fim serves fill-in-the-middle completions deterministically: the text
// is "fim(<last word of the prompt>|<first word of the suffix>)". POST
// /v1/completions answers OpenAI's shape (choices[].text), POST
// /v1/fim/completions Mistral's (choices[].message).
func (s *Server) fim(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Prompt string `json:"prompt"`
		Suffix string `json:"suffix"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Prompt == "" {
		writeError(w, http.StatusBadRequest, "body must be {model, prompt, suffix?}", 0)
		return
	}
	last, first := "", ""
	if f := strings.Fields(req.Prompt); len(f) > 0 {
		last = f[len(f)-1]
	}
	if f := strings.Fields(req.Suffix); len(f) > 0 {
		first = f[0]
	}
	text := "fim(" + last + "|" + first + ")"
	usage := &wire.Usage{PromptTokens: len(strings.Fields(req.Prompt + " " + req.Suffix)), CompletionTokens: 1}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	id := fmt.Sprintf("cmpl-%d", s.seq.Add(1))
	stop := "stop"
	if strings.HasSuffix(r.URL.Path, "/fim/completions") {
		msg := wire.Message{Role: "assistant", Content: &wire.Content{Text: text}}
		writeJSON(w, http.StatusOK, wire.ChatResponse{ID: id, Object: "chat.completion", Model: req.Model,
			Choices: []wire.Choice{{Message: &msg, FinishReason: &stop}}, Usage: usage})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "text_completion", "model": req.Model,
		"choices": []map[string]any{{"index": 0, "text": text, "finish_reason": stop}}, "usage": usage})
}
