package library

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"sync"

	"github.com/tramontane/tramontane/internal/store"
)

// VectorHit is a chunk found by vector similarity.
type VectorHit struct {
	ChunkID    int64
	DocumentID string
	Score      float64 // cosine similarity
}

// VectorIndex finds the chunks nearest to a query vector. The default is
// ExactIndex (exact cosine in process); an approximate or database-side
// index (pgvector) can take its place behind this interface.
type VectorIndex interface {
	// Search returns up to k chunks of the libraries, best first, keeping
	// only documents allow accepts (allow nil: all).
	Search(ctx context.Context, libraryIDs []string, allow func(documentID string) bool, q []float32, k int) ([]VectorHit, error)
}

// ExactIndex caches each library's normalised embeddings in memory and
// scans them all per query. A library is reloaded when its index version in
// the store changes, so several instances stay consistent.
type ExactIndex struct {
	store store.LibraryStore
	mu    sync.Mutex
	libs  map[string]*libVectors
}

type libVectors struct {
	mu      sync.Mutex
	version int64
	loaded  bool
	ids     []int64
	docs    []string
	dim     int
	data    []float32 // len(ids)*dim, each row L2-normalised
}

// NewExactIndex returns an exact index over s.
func NewExactIndex(s store.LibraryStore) *ExactIndex {
	return &ExactIndex{store: s, libs: map[string]*libVectors{}}
}

func (x *ExactIndex) lib(ctx context.Context, id string) (*libVectors, error) {
	x.mu.Lock()
	lv := x.libs[id]
	if lv == nil {
		lv = &libVectors{}
		x.libs[id] = lv
	}
	x.mu.Unlock()
	v, err := x.store.LibraryIndexVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if lv.loaded && lv.version == v {
		return lv, nil
	}
	ver, vecs, err := x.store.LibraryVectors(ctx, id)
	if err != nil {
		return nil, err
	}
	lv.version, lv.loaded = ver, true
	lv.ids, lv.docs, lv.data, lv.dim = nil, nil, nil, 0
	for _, cv := range vecs {
		if lv.dim == 0 {
			lv.dim = len(cv.Vector)
		}
		if len(cv.Vector) != lv.dim || lv.dim == 0 {
			continue // a different model's vectors: skip until reprocessed
		}
		lv.ids = append(lv.ids, cv.ChunkID)
		lv.docs = append(lv.docs, cv.DocumentID)
		lv.data = append(lv.data, normalize(cv.Vector)...)
	}
	return lv, nil
}

// Forget drops a library's cached vectors.
func (x *ExactIndex) Forget(libraryID string) {
	x.mu.Lock()
	delete(x.libs, libraryID)
	x.mu.Unlock()
}

func normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := float32(1 / math.Sqrt(n))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

// Search scans every vector of the libraries.
func (x *ExactIndex) Search(ctx context.Context, libraryIDs []string, allow func(string) bool, q []float32, k int) ([]VectorHit, error) {
	if k <= 0 || len(q) == 0 {
		return nil, nil
	}
	qn := normalize(q)
	h := &hitHeap{}
	for _, id := range libraryIDs {
		lv, err := x.lib(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			x.Forget(id)
			continue
		}
		if err != nil {
			return nil, err
		}
		lv.mu.Lock()
		if lv.dim == len(qn) {
			for i := range lv.ids {
				if allow != nil && !allow(lv.docs[i]) {
					continue
				}
				row := lv.data[i*lv.dim : (i+1)*lv.dim]
				var dot float32
				for j, a := range row {
					dot += a * qn[j]
				}
				if h.Len() < k {
					heap.Push(h, VectorHit{ChunkID: lv.ids[i], DocumentID: lv.docs[i], Score: float64(dot)})
				} else if float64(dot) > (*h)[0].Score {
					(*h)[0] = VectorHit{ChunkID: lv.ids[i], DocumentID: lv.docs[i], Score: float64(dot)}
					heap.Fix(h, 0)
				}
			}
		}
		lv.mu.Unlock()
	}
	out := make([]VectorHit, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(VectorHit)
	}
	return out, nil
}

// hitHeap is a min-heap by score (ties: larger chunk id first out), so
// the weakest of the best k is at the root.
type hitHeap []VectorHit

func (h hitHeap) Len() int { return len(h) }
func (h hitHeap) Less(i, j int) bool {
	if h[i].Score != h[j].Score {
		return h[i].Score < h[j].Score
	}
	return h[i].ChunkID > h[j].ChunkID
}
func (h hitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)   { *h = append(*h, x.(VectorHit)) }
func (h *hitHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
