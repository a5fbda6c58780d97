package moderation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tramontane/tramontane/internal/apierr"
)

// Guardrail is one element of a "guardrails" list (Mistral's
// GuardrailConfig).
type Guardrail struct {
	// BlockOnError blocks the request (403) when moderation fails.
	BlockOnError bool       `json:"block_on_error"`
	V1           *LLMConfig `json:"moderation_llm_v1,omitempty"`
	V2           *LLMConfig `json:"moderation_llm_v2,omitempty"`
}

// LLMConfig is a moderation_llm_v1 / moderation_llm_v2 setting.
type LLMConfig struct {
	// ModelName is reported back; the configured moderation model runs.
	ModelName string `json:"model_name"`
	// Thresholds are per-category score thresholds in [0, 1].
	Thresholds map[string]*float64 `json:"custom_category_thresholds,omitempty"`
	// IgnoreOther checks only the categories given a threshold.
	IgnoreOther bool `json:"ignore_other_categories"`
	// Action is "block" (default) or "none" (report only).
	Action string `json:"action,omitempty"`
}

// Parse reads and validates guardrail lists (each may be absent or
// null). loc names the first list in errors. Guardrails that configure no
// moderation check nothing and are left out.
func Parse(loc string, lists ...json.RawMessage) ([]Guardrail, error) {
	var out []Guardrail
	for _, raw := range lists {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var gs []Guardrail
		if err := json.Unmarshal(raw, &gs); err != nil {
			return nil, apierr.Field(loc, "list_type", "guardrails must be a list of {block_on_error, moderation_llm_v1 | moderation_llm_v2}: %v", err)
		}
		for i, g := range gs {
			at := fmt.Sprintf("%s.%d", loc, i)
			if g.V1 == nil && g.V2 == nil {
				continue // checks nothing
			}
			for name, c := range map[string]*LLMConfig{"moderation_llm_v1": g.V1, "moderation_llm_v2": g.V2} {
				if c == nil {
					continue
				}
				if c.Action != "" && c.Action != "block" && c.Action != "none" {
					return nil, apierr.Field(at+"."+name+".action", "enum", "action must be block or none")
				}
				for cat, th := range c.Thresholds {
					if th != nil && (*th < 0 || *th > 1) {
						return nil, apierr.Field(at+"."+name+".custom_category_thresholds."+cat, "value_error", "thresholds must be between 0 and 1")
					}
				}
			}
		}
		for _, g := range gs {
			if g.V1 != nil || g.V2 != nil {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// Require refuses guardrails when no moderation provider is configured:
// the 400 names the setting. what says where they were given.
func (s *Service) Require(guardrails []Guardrail) error {
	if len(guardrails) == 0 || s.Enabled() {
		return nil
	}
	return errNotConfigured("guardrails")
}

// Report describes one guardrail check that ran, for a response's
// "guardrails" field.
type Report struct {
	Type              string             `json:"type"`
	ModelName         string             `json:"model_name,omitempty"`
	Action            string             `json:"action"`
	Blocked           bool               `json:"blocked"`
	FlaggedCategories []string           `json:"flagged_categories"`
	CategoryScores    map[string]float64 `json:"category_scores,omitempty"`
	Error             string             `json:"error,omitempty"`
}

// Check moderates texts (the inputs a request gives the model) under the
// guardrails. It returns what ran, and a 403 (apierr.Forbidden) when a
// guardrail whose action is block flags an input, or when moderation
// fails under block_on_error. No guardrails, or no texts, run nothing.
func (s *Service) Check(ctx context.Context, guardrails []Guardrail, texts []string) ([]Report, error) {
	var inputs []string
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			inputs = append(inputs, t)
		}
	}
	if len(guardrails) == 0 || len(inputs) == 0 {
		return nil, nil
	}
	if err := s.Require(guardrails); err != nil {
		return nil, err
	}
	results, _, modErr := s.Classify(ctx, inputs)
	// Per category, the highest score and whether any input was flagged.
	scores, flags := map[string]float64{}, map[string]bool{}
	for _, r := range results {
		for c, v := range r.CategoryScores {
			if v > scores[c] {
				scores[c] = v
			}
		}
		for c, f := range r.Categories {
			flags[c] = flags[c] || f
		}
	}
	var reports []Report
	var blocked []string
	for _, g := range guardrails {
		for _, rc := range []struct {
			typ string
			c   *LLMConfig
		}{{"moderation_llm_v1", g.V1}, {"moderation_llm_v2", g.V2}} {
			if rc.c == nil {
				continue
			}
			rep := Report{Type: rc.typ, ModelName: rc.c.ModelName, Action: rc.c.Action, FlaggedCategories: []string{}}
			if rep.Action == "" {
				rep.Action = "block"
			}
			if modErr != nil {
				rep.Error = apierr.As(modErr).Message
				if g.BlockOnError {
					rep.Blocked = true
					reports = append(reports, rep)
					return reports, apierr.Wrap(apierr.Forbidden, modErr, "the request was blocked: guardrail %s could not run (block_on_error): %s", rc.typ, rep.Error)
				}
				reports = append(reports, rep)
				continue
			}
			rep.CategoryScores = scores
			rep.FlaggedCategories = flagged(rc.c, scores, flags)
			if len(rep.FlaggedCategories) > 0 && rep.Action == "block" {
				rep.Blocked = true
				for _, c := range rep.FlaggedCategories {
					blocked = append(blocked, fmt.Sprintf("%s (%.2f)", c, scores[c]))
				}
			}
			reports = append(reports, rep)
		}
	}
	if len(blocked) > 0 {
		return reports, apierr.New(apierr.Forbidden, "the request was blocked by a guardrail: moderation flagged %s", strings.Join(dedupe(blocked), ", "))
	}
	return reports, nil
}

// flagged lists the categories a guardrail setting flags: a category with
// a custom threshold when its score reaches it, any other (unless
// ignore_other_categories) when the moderation model flagged it.
func flagged(c *LLMConfig, scores map[string]float64, flags map[string]bool) []string {
	out := []string{}
	seen := map[string]bool{}
	for cat, th := range c.Thresholds {
		if th == nil {
			continue
		}
		seen[cat] = true
		if scores[cat] >= *th {
			out = append(out, cat)
		}
	}
	if !c.IgnoreOther {
		for cat, f := range flags {
			if f && !seen[cat] {
				out = append(out, cat)
			}
		}
	}
	sort.Strings(out)
	return out
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
