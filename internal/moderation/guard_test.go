package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// fakeModerator scores "violent" inputs 0.8 in violence_and_threats and
// "money" inputs 0.3 in financial; it fails when fail is set.
type fakeModerator struct {
	fail  bool
	calls int
}

func (f *fakeModerator) Moderate(_ context.Context, _ string, inputs []string) ([]model.Moderation, model.Usage, error) {
	f.calls++
	if f.fail {
		return nil, model.Usage{}, apierr.New(apierr.Upstream, "moderation upstream down")
	}
	var out []model.Moderation
	for _, in := range inputs {
		m := model.Moderation{Categories: map[string]bool{}, CategoryScores: map[string]float64{"violence_and_threats": 0.01, "financial": 0.01}}
		if strings.Contains(in, "violent") {
			m.CategoryScores["violence_and_threats"] = 0.8
			m.Categories["violence_and_threats"] = true
		}
		if strings.Contains(in, "money") {
			m.CategoryScores["financial"] = 0.3
		}
		out = append(out, m)
	}
	return out, model.Usage{}, nil
}

func guardrails(t *testing.T, raw string) []Guardrail {
	t.Helper()
	g, err := Parse("body.guardrails", json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardrailDecisions(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, guard string
		texts       []string
		blocked     bool
		flagged     string
	}{
		{"clean input passes", `[{"moderation_llm_v2":{"model_name":"m"}}]`, []string{"hello"}, false, ""},
		{"flagged category blocks", `[{"moderation_llm_v2":{"model_name":"m"}}]`, []string{"hello", "a violent text"}, true, "violence_and_threats"},
		{"action none reports only", `[{"moderation_llm_v1":{"model_name":"m","action":"none"}}]`, []string{"violent"}, false, "violence_and_threats"},
		{"custom threshold lower than the model's", `[{"moderation_llm_v2":{"model_name":"m","custom_category_thresholds":{"financial":0.2}}}]`, []string{"money"}, true, "financial"},
		{"custom threshold higher than the score", `[{"moderation_llm_v2":{"model_name":"m","custom_category_thresholds":{"violence_and_threats":0.9}}}]`, []string{"violent"}, false, ""},
		{"ignore other categories", `[{"moderation_llm_v2":{"model_name":"m","custom_category_thresholds":{"financial":0.5},"ignore_other_categories":true}}]`, []string{"violent money"}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New(&fakeModerator{}, "mod", 0)
			reps, err := s.Check(ctx, guardrails(t, c.guard), c.texts)
			if c.blocked != (err != nil) {
				t.Fatalf("blocked = %v, want %v (%v)", err != nil, c.blocked, err)
			}
			if err != nil && (apierr.KindOf(err) != apierr.Forbidden || !strings.Contains(err.Error(), c.flagged)) {
				t.Errorf("err = %v", err)
			}
			if len(reps) != 1 || strings.Join(reps[0].FlaggedCategories, ",") != c.flagged || reps[0].Blocked != c.blocked {
				t.Errorf("reports = %+v", reps)
			}
		})
	}
}

func TestGuardrailErrors(t *testing.T) {
	ctx := context.Background()
	m := &fakeModerator{fail: true}
	s := New(m, "mod", 0)
	reps, err := s.Check(ctx, guardrails(t, `[{"block_on_error":false,"moderation_llm_v2":{"model_name":"m"}}]`), []string{"x"})
	if err != nil || len(reps) != 1 || reps[0].Error == "" {
		t.Fatalf("moderation down without block_on_error: %v %+v", err, reps)
	}
	_, err = s.Check(ctx, guardrails(t, `[{"block_on_error":true,"moderation_llm_v2":{"model_name":"m"}}]`), []string{"x"})
	if apierr.KindOf(err) != apierr.Forbidden || !strings.Contains(err.Error(), "block_on_error") {
		t.Fatalf("moderation down with block_on_error: %v", err)
	}
	// No guardrails or no text: nothing runs.
	m.calls = 0
	if _, err := s.Check(ctx, nil, []string{"x"}); err != nil || m.calls != 0 {
		t.Errorf("no guardrails: %v, %d calls", err, m.calls)
	}
	// Without a provider guardrails are refused with the setting's name.
	var none *Service
	err = none.Require(guardrails(t, `[{"moderation_llm_v2":{"model_name":"m"}}]`))
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Invalid || !strings.Contains(ae.Message, "moderation section") {
		t.Errorf("no provider: %v", err)
	}
	if none.Require(nil) != nil {
		t.Error("no guardrails and no provider must pass")
	}
	if g, err := Parse("body.guardrails", json.RawMessage(`[{"block_on_error":true}]`)); err != nil || len(g) != 0 {
		t.Errorf("a guardrail without checks: %v %v", g, err)
	}
	for _, bad := range []string{`{}`, `[{"moderation_llm_v2":{"model_name":"m","action":"warn"}}]`,
		`[{"moderation_llm_v2":{"model_name":"m","custom_category_thresholds":{"pii":2}}}]`} {
		if _, err := Parse("body.guardrails", json.RawMessage(bad)); apierr.KindOf(err) != apierr.Validation {
			t.Errorf("Parse(%s) = %v", bad, err)
		}
	}
}
