package scripted

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// HashEmbedding is a deterministic bag-of-words vector of size dim: each
// lowercase word is hashed to a signed bucket and the vector is
// L2-normalised. Texts sharing words get a positive cosine similarity, so
// retrieval tests behave sensibly offline. A text without words gets the
// unit vector on the first axis.
func HashEmbedding(text string, dim int) []float32 {
	if dim <= 0 {
		dim = DefaultEmbedDim
	}
	v := make([]float64, dim)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		h := fnv.New64a()
		h.Write([]byte(w))
		x := h.Sum64()
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		v[x%uint64(dim)] += sign
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, dim)
	if norm == 0 {
		out[0] = 1
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}
