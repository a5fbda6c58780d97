// Command fakeupstream serves a fake OpenAI-compatible API on loopback,
// driven by a scripted-model script (see docs/scripted-model.md). The SDK
// conformance suites and users' CI point Tramontane at it through
// TRAMONTANE_UPSTREAM_URL.
//
// Usage:
//
//	fakeupstream [-addr 127.0.0.1:0] [-script script.yaml] [-port-file path]
//	             [-break-stream-with-tools] [-images] [-searxng] [-embeddings 256]
//	             [-api-key KEY] [-omit-usage] [-quiet]
//
// GET /_requests lists the requests received (DELETE clears them). With
// -searxng it is also a fake SearXNG instance for the web_search connector
// (searxng_url = this server's root URL).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

// defaultScript answers when no -script is given.
const defaultScript = `
default:
  reply: "fakeupstream: you said {{input}}"
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakeupstream:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fakeupstream", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	scriptPath := fs.String("script", "", "scripted-model script (YAML or JSON); default: echo the input")
	portFile := fs.String("port-file", "", "write the chosen port to this file once listening")
	breakStream := fs.Bool("break-stream-with-tools", false, "answer 400 to streaming requests that carry tools")
	images := fs.Bool("images", false, "serve POST /v1/images/generations (tiny PNG as b64_json)")
	searxng := fs.Bool("searxng", false, "serve a fake SearXNG JSON API (GET /search) and the pages its results point at (GET /pages/…)")
	dim := fs.Int("embeddings", 0, "serve POST /v1/embeddings with hashed vectors of this size")
	apiKey := fs.String("api-key", "", "require this bearer token")
	omitUsage := fs.Bool("omit-usage", false, "never report usage in streams")
	quiet := fs.Bool("quiet", false, "do not log requests")
	noRecord := fs.Bool("no-record", false, "keep no record of requests (for benchmarks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var script *scripted.Script
	var err error
	if *scriptPath != "" {
		script, err = scripted.Load(*scriptPath)
	} else {
		script, err = scripted.Parse([]byte(defaultScript))
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := fakeupstream.Options{
		Script: script, BreakStreamWithTools: *breakStream, Images: *images, SearXNG: *searxng,
		EmbeddingsDim: *dim, APIKey: *apiKey, OmitUsage: *omitUsage, NoRecord: *noRecord,
	}
	if !*quiet {
		opts.Logger = logger
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if *portFile != "" {
		if err := writeAtomic(*portFile, strconv.Itoa(port)+"\n"); err != nil {
			ln.Close()
			return err
		}
	}
	logger.Info("fakeupstream listening", "addr", ln.Addr().String(), "url", fmt.Sprintf("http://%s/v1", ln.Addr()))
	srv := &http.Server{Handler: fakeupstream.New(opts), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}

// writeAtomic writes data to path through a temporary file and a rename,
// so a watcher never reads a half-written port.
func writeAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".port-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
