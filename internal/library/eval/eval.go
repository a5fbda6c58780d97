// Package eval measures retrieval quality of the library service on a
// committed evaluation set (corpus.jsonl, queries.jsonl; see README.md):
// every document is ingested through the real pipeline, every query is
// searched, and the ranked documents are scored with nDCG@k and recall@k
// against graded relevance judgements.
package eval

import (
	"bufio"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

//go:embed corpus.jsonl queries.jsonl
var files embed.FS

// Doc is one evaluation document.
type Doc struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Query is one evaluation query with graded judgements (2: the answer,
// 1: related and useful).
type Query struct {
	ID       string         `json:"id"`
	Query    string         `json:"query"`
	Relevant map[string]int `json:"relevant"`
}

func readJSONL[T any](name string) ([]T, error) {
	f, err := files.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// Load returns the committed corpus and queries.
func Load() ([]Doc, []Query, error) {
	docs, err := readJSONL[Doc]("corpus.jsonl")
	if err != nil {
		return nil, nil, err
	}
	qs, err := readJSONL[Query]("queries.jsonl")
	return docs, qs, err
}

// NDCG is nDCG@k of a ranked list of document ids: gains 2^rel-1,
// discount log2(rank+1), normalised by the ideal ranking.
func NDCG(ranked []string, rel map[string]int, k int) float64 {
	dcg := 0.0
	for i, id := range ranked {
		if i >= k {
			break
		}
		if g := rel[id]; g > 0 {
			dcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i+2))
		}
	}
	grades := make([]int, 0, len(rel))
	for _, g := range rel {
		grades = append(grades, g)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(grades)))
	idcg := 0.0
	for i, g := range grades {
		if i >= k {
			break
		}
		idcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall is the share of relevant documents (grade >= 1) in the top k.
func Recall(ranked []string, rel map[string]int, k int) float64 {
	n, found := 0, 0
	top := map[string]bool{}
	for i, id := range ranked {
		if i < k {
			top[id] = true
		}
	}
	for id, g := range rel {
		if g > 0 {
			n++
			if top[id] {
				found++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(found) / float64(n)
}

// Scores are the mean metrics over the queries.
type Scores struct {
	Mode     string
	NDCG10   float64
	Recall10 float64
	Queries  int
}

// Run searches every query in the given mode over the library and scores
// the documents ranked (chunks deduplicated to their documents). docOf maps
// a library document id to its evaluation id.
func Run(ctx context.Context, svc *library.Service, ws, libraryID, mode string, qs []Query, docOf map[string]string) (Scores, error) {
	s := Scores{Mode: mode, Queries: len(qs)}
	for _, q := range qs {
		res, err := svc.Search(ctx, library.SearchRequest{Workspace: ws, LibraryIDs: []string{libraryID}, Query: q.Query, K: 30, Mode: mode})
		if err != nil {
			return s, fmt.Errorf("%s: %w", q.ID, err)
		}
		var ranked []string
		seen := map[string]bool{}
		for _, h := range res.Hits {
			id := docOf[h.DocumentID]
			if !seen[id] {
				seen[id] = true
				ranked = append(ranked, id)
			}
		}
		s.NDCG10 += NDCG(ranked, q.Relevant, 10)
		s.Recall10 += Recall(ranked, q.Relevant, 10)
	}
	if len(qs) > 0 {
		s.NDCG10 /= float64(len(qs))
		s.Recall10 /= float64(len(qs))
	}
	return s, nil
}

// HashEmbedder embeds with the scripted provider's deterministic hashed
// bag of words. It is NOT a semantic model: it only rewards shared words,
// like BM25 without idf, so "hybrid" with it measures the fusion plumbing,
// not what a real embeddings model would add.
type HashEmbedder struct{ Dim int }

// Embed implements library.Embedder.
func (h HashEmbedder) Embed(_ context.Context, in []string) ([][]float32, error) {
	out := make([][]float32, len(in))
	for i, s := range in {
		out[i] = scripted.HashEmbedding(s, h.Dim)
	}
	return out, nil
}
