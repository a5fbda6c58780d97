package app

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkChatPassThrough is a stateless /v1/chat/completions call through
// the HTTP handler: key check, request decoding, the upstream call over
// loopback (the canned answer) and the response.
func BenchmarkChatPassThrough(b *testing.B) {
	a := benchApp(b)
	body := `{"model":"mistral-small-latest","messages":[{"role":"user","content":"hello bench"}]}`
	benchCall(b, a, "/v1/chat/completions", body)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchCall(b, a, "/v1/chat/completions", body)
	}
}

// BenchmarkUpstreamDirect is the canned upstream called directly over
// loopback (the part of the benchmarks above that is not Tramontane's).
func BenchmarkUpstreamDirect(b *testing.B) {
	srv := httptest.NewServer(cannedUpstream())
	defer srv.Close()
	body := `{"model":"m","messages":[{"role":"user","content":"hello bench"}],"stream":true}`
	c := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
