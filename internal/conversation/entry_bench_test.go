package conversation

import (
	"encoding/json"
	"testing"
	"time"
)

// benchEntries is one entry of each common type, as a turn produces them.
func benchEntries() []Entry {
	now := time.Date(2026, 12, 4, 12, 0, 0, 123456000, time.UTC)
	content, _ := json.Marshal("Who won the Euro 2024? Please answer in one short sentence, with the score.")
	return []Entry{
		{Type: MessageInput, ID: NewID(MessageInput), CreatedAt: now, Role: "user", Content: content},
		{Type: MessageOutput, ID: NewID(MessageOutput), CreatedAt: now, CompletedAt: &now, Role: "assistant", Content: content, Model: "mistral-medium-latest", AgentID: "ag_0123456789"},
		{Type: FunctionCall, ID: NewID(FunctionCall), CreatedAt: now, CompletedAt: &now, ToolCallID: "NqCFiwvSV", Name: "get_stock_price", Arguments: `{"ticker":"AAPL"}`, Model: "mistral-medium-latest"},
		{Type: ToolExecution, ID: NewID(ToolExecution), CreatedAt: now, CompletedAt: &now, Name: "web_search", Arguments: `{"query":"euro 2024 final"}`, Info: json.RawMessage(`{"results":3}`), ForModel: "Spain beat England 2-1 in Berlin."},
	}
}

// BenchmarkEntryEncode is the stored form of one entry (per entry).
func BenchmarkEntryEncode(b *testing.B) {
	es := benchEntries()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Encode(&es[i%len(es)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEntryDecode parses one stored entry (per entry).
func BenchmarkEntryDecode(b *testing.B) {
	es := benchEntries()
	bodies := make([][]byte, len(es))
	for i := range es {
		bodies[i], _ = Encode(&es[i])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Decode(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
}
