// Command library measures document libraries on SQLite: ingestion
// throughput (upload → extract → chunk → index, MB/s of uploaded text) and
// BM25 query latency (p50/p99 of library.Service.Search, access checks
// included) at two library sizes, by default 10k and 100k chunks, for
// three kinds of queries (see querySets).
//
// Documents are synthetic: runs of words drawn from the evaluation corpus
// (the Jargon File), so the vocabulary and word frequencies are those of
// real English prose, but the corpus is small (about 25k distinct words), so
// at 100k chunks every word is much more common than in a real corpus of
// that size: a pessimistic setting for BM25's candidate cut-off.
//
//	go run ./bench/library [-sizes 10000,100000] [-queries 2000] [-embed]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/library/eval"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

func main() {
	sizes := flag.String("sizes", "10000,100000", "library sizes to measure, in chunks")
	nq := flag.Int("queries", 1000, "measured queries per size and kind")
	docWords := flag.Int("doc-words", 2000, "words per synthetic document")
	workers := flag.Int("workers", 2, "ingestion workers")
	embed := flag.Bool("embed", false, "also embed chunks (hashed embeddings, 256 dims) and measure hybrid queries")
	optimize := flag.Bool("optimize", false, "merge the FTS5 index into one segment and checkpoint the WAL before querying")
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed afterwards)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the query phases to this file")
	flag.Parse()
	cpuProfile = *profile
	if err := run(*sizes, *nq, *docWords, *workers, *embed, *optimize, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(sizeList string, nq, docWords, workers int, embed, optimize bool, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "tramontane-bench-library-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	db, err := sqlstore.Open(ctx, "", dir)
	if err != nil {
		return err
	}
	defer db.Close()
	blobs, err := blob.NewLocal(filepath.Join(dir, "files"))
	if err != nil {
		return err
	}
	opts := library.Options{Blobs: blobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxUploadBytes: 64 << 20}
	if embed {
		opts.Embedder = eval.HashEmbedder{Dim: 256}
	}
	svc, err := library.New(ctx, db, opts)
	if err != nil {
		return err
	}
	w, err := db.EnsureWorkspace(ctx, "bench")
	if err != nil {
		return err
	}
	lib, err := svc.Create(ctx, w.ID, library.CreateInput{Name: "bench"})
	if err != nil {
		return err
	}
	docs, qs, err := eval.Load()
	if err != nil {
		return err
	}
	var vocab []string
	for _, d := range docs {
		vocab = append(vocab, strings.Fields(d.Text)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fmt.Printf("library benchmark: SQLite, %d-word documents, default chunking (%d/%d tokens), %d ingestion workers, embeddings %v\n",
		docWords, library.DefaultChunkTokens, library.DefaultOverlapTokens, workers, embed)
	chunks := 0
	for _, s := range strings.Split(sizeList, ",") {
		target, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("bad size %q", s)
		}
		var texts [][]byte
		added, bytesIn := 0, 0
		for chunks+added < target {
			t := synthDoc(rng, vocab, docWords)
			x, err := library.Extract(bytes.NewReader(t), int64(len(t)), "d.txt", "text/plain", library.Limits{})
			if err != nil {
				return err
			}
			added += len(library.Chunk(x.Blocks, 0, 0))
			bytesIn += len(t)
			texts = append(texts, t)
		}
		start := time.Now()
		if err := ingest(ctx, svc, w.ID, lib.ID, texts, workers); err != nil {
			return err
		}
		el := time.Since(start)
		chunks += added
		if optimize {
			t := time.Now()
			if _, err := db.MergeIndex(ctx, 0); err != nil {
				return err
			}
			fmt.Printf("(index optimized and WAL checkpointed in %s before querying)\n", time.Since(t).Round(time.Millisecond))
		}
		fmt.Printf("\n== %d chunks (%d documents added, %.1f MB)\n", chunks, len(texts), float64(bytesIn)/1e6)
		fmt.Printf("ingestion: %.2f MB/s, %.0f chunks/s (%s)\n", float64(bytesIn)/1e6/el.Seconds(), float64(added)/el.Seconds(), el.Round(time.Millisecond))
		sets := querySets(rng, vocab, qs, nq)
		modes := []string{library.ModeBM25}
		if embed {
			modes = append(modes, library.ModeHybrid)
		}
		for _, mode := range modes {
			for _, set := range sets {
				lat, hits, err := measure(ctx, svc, w.ID, lib.ID, mode, set.queries)
				if err != nil {
					return err
				}
				fmt.Printf("%-6s %-28s p50 %-9s p99 %-9s mean %-9s (%d queries, %.1f hits avg)\n", mode, set.name,
					pct(lat, 50), pct(lat, 99), mean(lat), len(lat), hits)
			}
		}
	}
	return nil
}

type querySet struct {
	name    string
	queries []string
}

// querySets are three kinds of queries: the evaluation set's natural
// language questions (repeated), two distinct vocabulary words drawn
// uniformly (keyword search), and two or three words drawn by corpus
// frequency (the worst case: mostly very common words).
func querySets(rng *rand.Rand, vocab []string, qs []eval.Query, n int) []querySet {
	seen := map[string]bool{}
	var distinct []string
	for _, w := range vocab {
		w = strings.ToLower(strings.Trim(w, `.,;:!?()[]{}"'“”`))
		if len(w) > 3 && !seen[w] {
			seen[w] = true
			distinct = append(distinct, w)
		}
	}
	sets := []querySet{{name: "questions (eval set)"}, {name: "keywords (2 distinct words)"}, {name: "frequent words (2-3)"}}
	for i := 0; i < n; i++ {
		sets[0].queries = append(sets[0].queries, qs[i%len(qs)].Query)
		sets[1].queries = append(sets[1].queries, distinct[rng.IntN(len(distinct))]+" "+distinct[rng.IntN(len(distinct))])
		var ws []string
		for k := 2 + rng.IntN(2); k > 0; k-- {
			ws = append(ws, vocab[rng.IntN(len(vocab))])
		}
		sets[2].queries = append(sets[2].queries, strings.Join(ws, " "))
	}
	return sets
}

// synthDoc draws a run of words from the corpus' word stream, with a
// paragraph break every 60 to 120 words.
func synthDoc(rng *rand.Rand, vocab []string, n int) []byte {
	var b bytes.Buffer
	start := rng.IntN(len(vocab) - n)
	next := 60 + rng.IntN(60)
	for i := 0; i < n; i++ {
		b.WriteString(vocab[(start+i)%len(vocab)])
		if i == next {
			b.WriteString("\n\n")
			next += 60 + rng.IntN(60)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()
}

func ingest(ctx context.Context, svc *library.Service, ws, lib string, texts [][]byte, workers int) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	jobs := make(chan []byte)
	go func() {
		defer close(jobs)
		for _, t := range texts {
			jobs <- t
		}
	}()
	uploaded := make(chan struct{}, len(texts))
	wg.Add(1)
	go func() { // uploads, as clients would send them
		defer wg.Done()
		for t := range jobs {
			if _, err := svc.Upload(ctx, ws, lib, "doc.txt", "text/plain", bytes.NewReader(t)); err != nil {
				errs <- err
				return
			}
			uploaded <- struct{}{}
		}
	}()
	var done sync.WaitGroup
	var mu sync.Mutex
	processed := 0
	for i := 0; i < workers; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for {
				did, err := svc.ProcessNext(ctx)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if did {
					processed++
				}
				finished := processed >= len(texts)
				mu.Unlock()
				if finished {
					return
				}
				if !did {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	done.Wait()
	close(errs)
	return <-errs
}

// cpuProfile, when set, names the file profiling the query phases.
var cpuProfile string

func measure(ctx context.Context, svc *library.Service, ws, lib, mode string, queries []string) ([]time.Duration, float64, error) {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, 0, err
		}
		defer pprof.StopCPUProfile()
	}
	for _, q := range queries[:min(50, len(queries))] { // warm caches
		if _, err := svc.Search(ctx, library.SearchRequest{Workspace: ws, LibraryIDs: []string{lib}, Query: q, K: 10, Mode: mode}); err != nil {
			return nil, 0, err
		}
	}
	lat := make([]time.Duration, 0, len(queries))
	hits := 0
	for _, q := range queries {
		t := time.Now()
		res, err := svc.Search(ctx, library.SearchRequest{Workspace: ws, LibraryIDs: []string{lib}, Query: q, K: 10, Mode: mode})
		if err != nil {
			return nil, 0, err
		}
		lat = append(lat, time.Since(t))
		hits += len(res.Hits)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, float64(hits) / float64(len(queries)), nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)].Round(10 * time.Microsecond)
}

func mean(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return (s / time.Duration(len(d))).Round(10 * time.Microsecond)
}
