package library

import (
	"context"
	"errors"
	"sort"
	"strings"
	"unicode"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// RRFK is the k constant of reciprocal rank fusion: a document's fused
// score is the sum over rankings of 1/(RRFK + rank).
const RRFK = 60

// Search modes.
const (
	ModeHybrid = "hybrid" // BM25 and vectors fused with RRF
	ModeBM25   = "bm25"
	ModeVector = "vector"
)

// SearchRequest is a retrieval over libraries.
type SearchRequest struct {
	Workspace  string
	LibraryIDs []string
	Query      string
	K          int     // results wanted (default 5)
	Filter     *Filter // document attribute filter (nil: none)
	// Mode forces a strategy; "" means hybrid when an embeddings model
	// is configured, else BM25.
	Mode string
}

// SearchHit is one retrieved chunk.
type SearchHit struct {
	ChunkID      int64
	DocumentID   string
	DocumentName string
	LibraryID    string
	Text         string
	Heading      string
	Page         int
	Score        float64 // RRF score in hybrid mode, else the ranker's
	BM25Rank     int     // 1-based rank in the BM25 list, 0 if absent
	VectorRank   int     // 1-based rank in the vector list, 0 if absent
}

// SearchResult is the outcome of a search.
type SearchResult struct {
	Hits []SearchHit
	Mode string
	// Missing lists requested libraries the workspace cannot read.
	Missing []string
}

// Search retrieves the chunks of the libraries most relevant to the query.
// Libraries the workspace can neither own nor read through a share are
// skipped (and listed in Missing); if none is readable the result is a
// NotFound error.
func (s *Service) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	if req.K <= 0 {
		req.K = 5
	}
	mode := req.Mode
	if mode == "" {
		mode = ModeBM25
		if s.opts.Embedder != nil {
			mode = ModeHybrid
		}
	}
	if (mode == ModeHybrid || mode == ModeVector) && s.opts.Embedder == nil {
		return nil, apierr.New(apierr.Unavailable, "no embeddings model is configured (set TRAMONTANE_EMBEDDINGS_MODEL)")
	}
	res := &SearchResult{Mode: mode, Hits: []SearchHit{}}
	var libs []string
	seen := map[string]bool{}
	for _, id := range req.LibraryIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := s.access(ctx, req.Workspace, id, needRead); err != nil {
			if apierr.Is(err, apierr.NotFound) {
				res.Missing = append(res.Missing, id)
				continue
			}
			return nil, err
		}
		libs = append(libs, id)
	}
	if len(libs) == 0 {
		if len(req.LibraryIDs) == 0 {
			return nil, apierr.Invalidf("no library to search: the tool has no library_ids")
		}
		return nil, apierr.NotFoundf("library %s not found", strings.Join(res.Missing, ", "))
	}
	now := s.clock()
	var docIDs []string
	var allow func(string) bool
	if req.Filter != nil {
		docIDs = []string{}
		set := map[string]bool{}
		for _, l := range libs {
			docs, _, err := s.store.ListDocuments(ctx, l, store.DocumentFilter{Match: req.Filter.Match, Now: now}, store.Page{Limit: 1 << 30})
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				docIDs = append(docIDs, d.ID)
				set[d.ID] = true
			}
		}
		allow = func(id string) bool { return set[id] }
	}
	pool := max(50, 5*req.K)
	var bm25 []store.ScoredChunk
	if mode != ModeVector {
		var err error
		bm25, err = s.store.SearchChunks(ctx, store.ChunkQuery{LibraryIDs: libs, DocumentIDs: docIDs, Terms: QueryTerms(req.Query), Limit: pool, Now: now})
		if err != nil {
			return nil, err
		}
	}
	var vec []VectorHit
	if mode != ModeBM25 {
		qv, err := s.opts.Embedder.Embed(ctx, []string{req.Query})
		if err != nil {
			return nil, err
		}
		if len(qv) != 1 {
			return nil, errors.New("library: the embeddings model returned no vector for the query")
		}
		if vec, err = s.vector.Search(ctx, libs, allow, qv[0], pool); err != nil {
			return nil, err
		}
	}
	res.Hits, res.Mode = fuse(bm25, vec, req.K), mode
	// Vector-only hits still need their text (and a liveness check).
	var need []int64
	for _, h := range res.Hits {
		if h.BM25Rank == 0 {
			need = append(need, h.ChunkID)
		}
	}
	if len(need) > 0 {
		chunks, err := s.store.GetChunks(ctx, need, now)
		if err != nil {
			return nil, err
		}
		byID := map[int64]store.ScoredChunk{}
		for _, c := range chunks {
			byID[c.ID] = c
		}
		kept := res.Hits[:0]
		for _, h := range res.Hits {
			if h.BM25Rank == 0 {
				c, ok := byID[h.ChunkID]
				if !ok {
					continue // expired or deleted meanwhile
				}
				h.DocumentName, h.LibraryID, h.Text, h.Heading, h.Page = c.DocumentName, c.LibraryID, c.Text, c.Heading, c.Page
			}
			kept = append(kept, h)
		}
		res.Hits = kept
	}
	return res, nil
}

// fuse merges the rankings with reciprocal rank fusion; with a single
// ranking it keeps that ranking's order and scores.
func fuse(bm25 []store.ScoredChunk, vec []VectorHit, k int) []SearchHit {
	hits := map[int64]*SearchHit{}
	var order []int64
	get := func(id int64) *SearchHit {
		h := hits[id]
		if h == nil {
			h = &SearchHit{ChunkID: id}
			hits[id] = h
			order = append(order, id)
		}
		return h
	}
	for i, c := range bm25 {
		h := get(c.ID)
		h.DocumentID, h.DocumentName, h.LibraryID, h.Text, h.Heading, h.Page = c.DocumentID, c.DocumentName, c.LibraryID, c.Text, c.Heading, c.Page
		h.BM25Rank = i + 1
		if len(vec) == 0 {
			h.Score = c.Score
		} else {
			h.Score += 1.0 / float64(RRFK+i+1)
		}
	}
	for i, v := range vec {
		h := get(v.ChunkID)
		h.DocumentID = v.DocumentID
		h.VectorRank = i + 1
		if len(bm25) == 0 {
			h.Score = v.Score
		} else {
			h.Score += 1.0 / float64(RRFK+i+1)
		}
	}
	out := make([]SearchHit, 0, len(order))
	for _, id := range order {
		out = append(out, *hits[id])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ChunkID < out[j].ChunkID
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// stopwords are left out of BM25 queries: they match nearly every chunk
// (slow on large libraries) and carry almost no weight anyway.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because been
	before being below between both but by can could did do does doing down during each few for from further had has
	have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself
	no nor not of off on once only or other our ours ourselves out over own same she should so some such than that the
	their theirs them themselves then there these they this those through to too under until up very was we were what
	when where which while who whom why will with would you your yours yourself yourselves`) {
		stopwords[w] = true
	}
}

// QueryTerms splits a query into the words searched with BM25, without
// stopwords (unless nothing else is left) and capped at 64 terms.
func QueryTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var out []string
	seen := map[string]bool{}
	for _, w := range words {
		if !stopwords[w] && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		out = words
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}
