package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

func testClient(t testing.TB, d wire.Dialect) *Client {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fresh is the body without any cache: the reference.
func fresh(t testing.TB, c *Client, req *model.Request, stream bool) []byte {
	b, err := json.Marshal(wire.EncodeRequest(c.prepare(req), c.cfg.Dialect, stream))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A growing conversation reuses its encoded prefix, and every body is byte
// for byte the fresh encoding, also when an earlier message changes, the
// system message changes, the history shrinks, or the last message is a
// Mistral prefix.
func TestPrefixReuseIsByteIdentical(t *testing.T) {
	for _, d := range []wire.Dialect{wire.OpenAI, wire.Mistral} {
		c := testClient(t, d)
		temp := 0.2
		req := &model.Request{Model: "m", CacheKey: "conv_1", Temperature: &temp,
			Tools: []model.ToolDef{{Name: "get", Parameters: json.RawMessage(`{"type":"object"}`)}}}
		req.Messages = []model.Message{{Role: "system", Content: "Be <brief> & exact."}}
		check := func(step string) {
			t.Helper()
			for _, stream := range []bool{true, false} {
				got, err := c.encodeRequest(req, stream)
				if err != nil {
					t.Fatal(err)
				}
				if want := fresh(t, c, req, stream); !bytes.Equal(got, want) {
					t.Fatalf("dialect %d, %s: bodies differ at byte %d of %d", d, step, firstDiff(got, want), len(want))
				}
			}
		}
		for i := 0; i < 30; i++ {
			req.Messages = append(req.Messages, model.Message{Role: "user", Content: fmt.Sprintf("question %d \u2028 é", i)})
			check(fmt.Sprintf("turn %d", i))
			req.Messages = append(req.Messages, model.Message{Role: "assistant", ToolCalls: []model.ToolCall{{ID: fmt.Sprintf("call%d", i), Name: "get", Arguments: `{"a":1}`}}},
				model.Message{Role: "tool", ToolCallID: fmt.Sprintf("call%d", i), Name: "get", Content: "42"},
				model.Message{Role: "assistant", Content: "answer", Prefix: true})
			check(fmt.Sprintf("turn %d, prefix last", i))
		}
		if it := c.prefixes.lookup("conv_1"); it == nil || len(it.msgs) != len(req.Messages)-1 {
			t.Fatalf("prefix not cached")
		}
		// Edits go to a copy: the cache may keep the caller's messages
		// (see model.Request.CacheKey).
		req.Messages = append([]model.Message(nil), req.Messages...)
		req.Messages[5].Content = "edited"
		check("edited middle")
		req.Messages = append([]model.Message(nil), req.Messages...)
		req.Messages[0].Content = "another agent"
		check("new system message")
		req.Messages = req.Messages[:3]
		check("shorter")
		req.Messages = req.Messages[:1]
		check("one message")
		req.Messages = nil
		check("no messages")
	}
}

// The cache is bounded in entries.
func TestPrefixCacheBounded(t *testing.T) {
	c := testClient(t, wire.OpenAI)
	for i := 0; i < prefixCacheEntries+50; i++ {
		req := &model.Request{Model: "m", CacheKey: fmt.Sprint("conv_", i),
			Messages: []model.Message{{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}, {Role: "user", Content: "c"}}}
		if _, err := c.encodeRequest(req, true); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.prefixes.items); n != prefixCacheEntries {
		t.Fatalf("%d items cached", n)
	}
}

func benchHistory(n int) []model.Message {
	msgs := []model.Message{{Role: "system", Content: "You are a helpful assistant."}}
	for i := 0; i < n; i++ {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, model.Message{Role: role, Content: fmt.Sprintf("message %d of the seeded history, with a few words of text", i)})
	}
	return msgs
}

func benchEncode(b *testing.B, n int, key string) {
	c := testClient(b, wire.OpenAI)
	msgs := benchHistory(n + 2)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Alternate between two lengths, as successive turns do.
		req := &model.Request{Model: "m", CacheKey: key, Messages: msgs[:n+1+i%2]}
		if _, err := c.encodeRequest(req, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRequest10 encodes a request of 10 history messages from
// scratch; ...1000 the same with 1,000; ...Reuse1000 is a turn of a
// 1,000-message conversation whose previous request is in the prefix cache.
func BenchmarkEncodeRequest10(b *testing.B)        { benchEncode(b, 10, "") }
func BenchmarkEncodeRequest1000(b *testing.B)      { benchEncode(b, 1000, "") }
func BenchmarkEncodeRequestReuse10(b *testing.B)   { benchEncode(b, 10, "conv") }
func BenchmarkEncodeRequestReuse1000(b *testing.B) { benchEncode(b, 1000, "conv") }

// BenchmarkEncodeRequestMarshal1000 is the former path, json.Marshal.
func BenchmarkEncodeRequestMarshal1000(b *testing.B) {
	msgs := benchHistory(1001)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(wire.EncodeRequest(&model.Request{Model: "m", Messages: msgs}, wire.OpenAI, true)); err != nil {
			b.Fatal(err)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
