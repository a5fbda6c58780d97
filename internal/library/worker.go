package library

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/store"
)

// WorkerOptions tune ingestion.
type WorkerOptions struct {
	// ID names this instance's worker in job leases (default: host name,
	// pid and a random suffix).
	ID string
	// Concurrency is how many documents one instance processes at once
	// (default 2).
	Concurrency int
	// Poll is how often an idle worker looks for jobs (default 2 s);
	// uploads on this instance wake it at once.
	Poll time.Duration
	// Lease is how long a claimed job stays with a worker without being
	// renewed (default 2 min); a dead worker's job is reclaimed after it.
	Lease time.Duration
	// MaxAttempts bounds claims of one job: a document that keeps killing
	// its worker, or keeps failing transiently, ends in error (default 3).
	MaxAttempts int
	// Sweep is how often expired documents are deleted (default 1 min).
	Sweep time.Duration
}

func (o WorkerOptions) withDefaults() WorkerOptions {
	if o.ID == "" {
		host, _ := os.Hostname()
		o.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Sweep <= 0 {
		o.Sweep = time.Minute
	}
	return o
}

// Notify wakes an idle worker of this instance (after an upload).
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the ingestion workers and the expiry sweeper until ctx ends
// or stop is called; stop waits for them. A job being processed at stop
// is handed back to the queue, so a restart resumes it at once; if the
// process dies instead, the job is reclaimed when its lease expires.
func (s *Service) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < s.opts.Worker.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				did, err := s.ProcessNext(ctx)
				if err != nil && ctx.Err() == nil {
					s.log.Error("library: ingestion", "err", err)
				}
				if did {
					continue
				}
				s.mergeIdle(ctx)
				select {
				case <-ctx.Done():
				case <-s.wake:
				case <-time.After(s.opts.Worker.Poll):
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.opts.Worker.Sweep)
		defer t.Stop()
		for {
			if err := s.SweepExpired(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("library: expiry sweep", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }
}

// indexMerger is implemented by stores whose full-text index benefits from
// background merging (SQLite FTS5).
type indexMerger interface {
	MergeIndex(ctx context.Context, pages int) (bool, error)
}

// mergeIdle spends an idle moment merging index segments: a few small
// steps, so a new upload never waits long for the writer.
func (s *Service) mergeIdle(ctx context.Context) {
	m, ok := s.store.(indexMerger)
	if !ok {
		return
	}
	if !s.mergeMu.TryLock() {
		return
	}
	defer s.mergeMu.Unlock()
	for i := 0; i < 8 && ctx.Err() == nil; i++ {
		more, err := m.MergeIndex(ctx, 64)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("library: index merge", "err", err)
			}
			return
		}
		if !more {
			return
		}
	}
}

// SweepExpired deletes documents whose expiry passed, with their content.
func (s *Service) SweepExpired(ctx context.Context) error {
	docs, err := s.store.ExpiredDocuments(ctx, s.clock(), 100)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if _, err := s.store.DeleteDocument(ctx, d.LibraryID, d.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_ = s.opts.Blobs.Delete(context.WithoutCancel(ctx), d.StorageKey)
	}
	return nil
}

// ProcessNext claims one job and processes it. It reports whether there
// was a job.
func (s *Service) ProcessNext(ctx context.Context) (bool, error) {
	now := s.now()
	d, err := s.store.ClaimDocumentJob(ctx, s.opts.Worker.ID, now, now.Add(s.opts.Worker.Lease))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.process(ctx, d)
}

// transientError is a failure worth retrying later (an upstream).
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }

func (s *Service) process(ctx context.Context, d *store.Document) error {
	owner := s.opts.Worker.ID
	// Writes that must land even when ctx is being cancelled.
	bg := context.WithoutCancel(ctx)
	finish := func(r *store.DocumentResult) error {
		r.At = s.clock()
		err := s.store.FinishDocumentJob(bg, d.ID, owner, r)
		if errors.Is(err, store.ErrConflict) {
			return nil // reprocessed, deleted, or reclaimed meanwhile
		}
		return err
	}
	if d.Attempts > s.opts.Worker.MaxAttempts {
		reason := fmt.Sprintf("processing did not complete after %d attempts", s.opts.Worker.MaxAttempts)
		if d.StatusReason != "" {
			reason += ": " + d.StatusReason
		}
		return finish(&store.DocumentResult{Status: store.DocError, Reason: reason})
	}
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.keepLease(jobCtx, cancel, d.ID)

	res, err := s.ingest(jobCtx, d)
	switch {
	case err == nil:
		return finish(res)
	case ctx.Err() != nil:
		// Shutting down: hand the job back for a quick resume.
		if err := s.store.DeferDocumentJob(bg, d.ID, owner, "", s.now()); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		return nil
	case jobCtx.Err() != nil:
		return nil // the lease was lost: another worker owns the job
	}
	var te transientError
	if errors.As(err, &te) && d.Attempts < s.opts.Worker.MaxAttempts {
		delay := time.Duration(d.Attempts*d.Attempts) * 30 * time.Second
		s.log.Warn("library: transient ingestion failure, will retry", "document_id", d.ID, "in", delay.String(), "err", err)
		if err := s.store.DeferDocumentJob(bg, d.ID, owner, err.Error(), s.now().Add(delay)); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		return nil
	}
	var ee *ExtractError
	reason := err.Error()
	if !errors.As(err, &ee) && !errors.As(err, &te) {
		s.log.Error("library: ingestion failed", "document_id", d.ID, "err", err)
		reason = "internal error while processing the document"
	}
	return finish(&store.DocumentResult{Status: store.DocError, Reason: reason})
}

// keepLease renews the job's lease until ctx ends; if the lease is lost
// (reprocess, delete, or a reclaim after a stall) the job is cancelled.
func (s *Service) keepLease(ctx context.Context, cancel func(), id string) {
	every := s.opts.Worker.Lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := s.store.ExtendDocumentLease(ctx, id, s.opts.Worker.ID, s.now().Add(s.opts.Worker.Lease))
			if errors.Is(err, store.ErrConflict) {
				cancel()
				return
			}
		}
	}
}

// ingest extracts, chunks and (optionally) embeds a document.
func (s *Service) ingest(ctx context.Context, d *store.Document) (*store.DocumentResult, error) {
	l, err := s.store.LibraryAccess(ctx, d.WorkspaceID, d.LibraryID)
	if err != nil {
		return nil, err
	}
	x, err := s.extractDoc(ctx, d)
	if err != nil {
		return nil, err
	}
	size, overlap := DefaultChunkTokens, DefaultOverlapTokens
	if l.ChunkSize != nil {
		size, overlap = *l.ChunkSize, *l.ChunkSize/4
	}
	tcs := Chunk(x.Blocks, size, overlap)
	res := &store.DocumentResult{Status: store.DocDone}
	for _, b := range x.Blocks {
		res.Tokens += CountTokens(b.Text)
	}
	if x.Pages > 0 {
		p := x.Pages
		res.Pages = &p
	}
	pages := pageTexts(x)
	nums := make([]int, 0, len(pages))
	for p := range pages {
		nums = append(nums, p)
	}
	sort.Ints(nums)
	for _, p := range nums {
		res.Text = append(res.Text, store.DocumentPage{Page: p, Text: pages[p]})
	}
	res.Chunks = make([]store.Chunk, len(tcs))
	for i, c := range tcs {
		res.Chunks[i] = store.Chunk{Index: i, Text: c.Text, Heading: c.Heading, Page: c.Page, Tokens: c.Tokens}
	}
	if s.opts.Embedder != nil && len(tcs) > 0 {
		inputs := make([]string, len(tcs))
		for i, c := range tcs {
			inputs[i] = embedText(d.Name, c)
		}
		vecs, err := s.opts.Embedder.Embed(ctx, inputs)
		if err != nil {
			return nil, transientError{fmt.Errorf("embedding the chunks failed: %w", err)}
		}
		if len(vecs) != len(tcs) {
			return nil, transientError{fmt.Errorf("the embeddings model returned %d vectors for %d chunks", len(vecs), len(tcs))}
		}
		for i := range res.Chunks {
			res.Chunks[i].Embedding = vecs[i]
		}
	}
	return res, nil
}

// embedText is what gets embedded for a chunk: its context, then its text.
func embedText(docName string, c TextChunk) string {
	var sb strings.Builder
	sb.WriteString(docName)
	if c.Heading != "" {
		sb.WriteString(" — " + c.Heading)
	}
	sb.WriteString("\n")
	sb.WriteString(c.Text)
	return sb.String()
}

// extractDoc opens a document's content and extracts its text.
func (s *Service) extractDoc(ctx context.Context, d *store.Document) (*Extracted, error) {
	if d.Size > s.opts.Limits.MaxBytes {
		return nil, failf("the file is too large to process (%d bytes; the limit is %d)", d.Size, s.opts.Limits.MaxBytes)
	}
	rc, err := s.opts.Blobs.Open(ctx, d.StorageKey)
	if err != nil {
		return nil, failf("the document's content is missing")
	}
	defer rc.Close()
	var ra io.ReaderAt
	size := d.Size
	if f, ok := rc.(io.ReaderAt); ok {
		ra = f
	} else {
		b, err := io.ReadAll(io.LimitReader(rc, s.opts.Limits.MaxBytes+1))
		if err != nil {
			return nil, err
		}
		ra, size = bytes.NewReader(b), int64(len(b))
	}
	return Extract(ra, size, d.Name, d.MimeType, s.opts.Limits)
}
