package scripted

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/model"
)

// TestDocumentedScriptParses keeps docs/scripted-model.md honest.
func TestDocumentedScriptParses(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/scripted-model.md")
	if err != nil {
		t.Fatal("docs/scripted-model.md must exist and document the script format:", err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	found := false
	for _, b := range blocks {
		if !strings.HasPrefix(b[1], "rules:") {
			continue
		}
		found = true
		s, err := Parse([]byte(b[1]))
		if err != nil {
			t.Fatalf("documented script: %v", err)
		}
		e := NewEngine(s)
		rep := e.Respond(&model.Request{
			Messages: []model.Message{
				{Role: model.RoleSystem, Content: "You are the triage agent."},
				{Role: model.RoleUser, Content: "I want a refund"},
			},
			Tools: []model.ToolDef{{Name: "transfer_to_billing_agent"}},
		})
		if len(rep.Response.Message.ToolCalls) != 1 || rep.Response.Message.ToolCalls[0].Name != "transfer_to_billing_agent" {
			t.Errorf("documented handoff rule: %+v", rep.Response.Message)
		}
	}
	if !found {
		t.Error("no example script in the docs")
	}
}
