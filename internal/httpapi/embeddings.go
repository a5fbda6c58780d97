package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// ModelResolver finds the provider of a public model name (*model.Router).
type ModelResolver interface {
	Resolve(name string) (model.Provider, string, error)
}

type embeddingsRequest struct {
	Model           *string         `json:"model"`
	Input           json.RawMessage `json:"input"`
	OutputDimension *int            `json:"output_dimension"`
	OutputDtype     *string         `json:"output_dtype"`
	EncodingFormat  *string         `json:"encoding_format"`
	Metadata        json.RawMessage `json:"metadata"`
}

type embeddingItem struct {
	Object    string `json:"object"`
	Embedding any    `json:"embedding"`
	Index     int    `json:"index"`
}

// embeddings passes POST /v1/embeddings to the routed model's embeddings
// endpoint and answers in Mistral's shape (API.md §6.2). output_dimension
// truncates and re-normalises the vectors (exact for Matryoshka-trained
// models such as mistral-embed's successors, an approximation otherwise);
// output_dtype and encoding_format are applied here, so they work with
// every upstream.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req embeddingsRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Model == nil || *req.Model == "" {
		writeError(w, r, apierr.Field("body.model", "missing", "model is required"))
		return
	}
	inputs, err := embeddingInputs(req.Input)
	if err != nil {
		writeError(w, r, err)
		return
	}
	dtype, format := "float", "float"
	if req.OutputDtype != nil {
		dtype = *req.OutputDtype
	}
	if req.EncodingFormat != nil {
		format = *req.EncodingFormat
	}
	switch dtype {
	case "float", "int8", "uint8", "binary", "ubinary":
	default:
		writeError(w, r, apierr.Field("body.output_dtype", "enum", "output_dtype must be float, int8, uint8, binary or ubinary"))
		return
	}
	if format != "float" && format != "base64" {
		writeError(w, r, apierr.Field("body.encoding_format", "enum", "encoding_format must be float or base64"))
		return
	}
	if req.OutputDimension != nil && *req.OutputDimension <= 0 {
		writeError(w, r, apierr.Field("body.output_dimension", "greater_than", "output_dimension must be positive"))
		return
	}
	if s.ModelRouter == nil {
		writeError(w, r, apierr.New(apierr.Unavailable, "no model routing is configured"))
		return
	}
	p, upstream, err := s.ModelRouter.Resolve(*req.Model)
	if err != nil {
		writeError(w, r, err)
		return
	}
	em, ok := p.(model.Embedder)
	if !ok {
		e := apierr.Invalidf("model %q is served by provider %q, which has no embeddings endpoint", *req.Model, p.Name())
		e.Param = "model"
		writeError(w, r, e)
		return
	}
	vecs, usage, err := em.Embed(r.Context(), upstream, inputs)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if len(vecs) != len(inputs) {
		writeError(w, r, apierr.New(apierr.Upstream, "the embeddings upstream returned %d vectors for %d inputs", len(vecs), len(inputs)))
		return
	}
	data := make([]embeddingItem, len(vecs))
	for i, v := range vecs {
		if req.OutputDimension != nil {
			if *req.OutputDimension > len(v) {
				writeError(w, r, apierr.Field("body.output_dimension", "less_than_equal", "output_dimension must be at most %d for model %s", len(v), *req.Model))
				return
			}
			v = renormalize(v[:*req.OutputDimension])
		}
		data[i] = embeddingItem{Object: "embedding", Embedding: encodeEmbedding(v, dtype, format), Index: i}
	}
	if usage.TotalTokens == 0 {
		usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "embd-" + hex.EncodeToString(id[:]), "object": "list", "model": *req.Model, "data": data,
		"usage": map[string]int{"prompt_tokens": usage.PromptTokens, "completion_tokens": 0, "total_tokens": usage.TotalTokens},
	})
}

// embeddingInputs accepts a string or a non-empty list of strings.
func embeddingInputs(raw json.RawMessage) ([]string, error) {
	if raw == nil || string(raw) == "null" {
		return nil, apierr.Field("body.input", "missing", "input is required")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, apierr.Field("body.input", "string_type", "input must be a string or a list of strings")
	}
	if len(many) == 0 {
		return nil, apierr.Field("body.input", "too_short", "input must not be empty")
	}
	return many, nil
}

func renormalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// encodeEmbedding applies output_dtype (int8/uint8 scale [-1, 1] to 127
// steps; binary/ubinary pack the sign bits, 8 dimensions a byte) and
// encoding_format (base64 of the little-endian values).
func encodeEmbedding(v []float32, dtype, format string) any {
	clamp := func(x float64) float64 { return math.Max(-1, math.Min(1, x)) }
	switch dtype {
	case "int8", "uint8":
		vals := make([]int, len(v))
		raw := make([]byte, len(v))
		for i, x := range v {
			q := int(math.Round(clamp(float64(x)) * 127))
			if dtype == "uint8" {
				q += 128
			}
			vals[i], raw[i] = q, byte(q)
		}
		if format == "base64" {
			return base64.StdEncoding.EncodeToString(raw)
		}
		return vals
	case "binary", "ubinary":
		raw := make([]byte, (len(v)+7)/8)
		for i, x := range v {
			if x > 0 {
				raw[i/8] |= 0x80 >> (i % 8)
			}
		}
		if format == "base64" {
			return base64.StdEncoding.EncodeToString(raw)
		}
		vals := make([]int, len(raw))
		for i, b := range raw {
			if dtype == "binary" {
				vals[i] = int(int8(b))
			} else {
				vals[i] = int(b)
			}
		}
		return vals
	}
	if format == "base64" {
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		return base64.StdEncoding.EncodeToString(raw)
	}
	return v
}
