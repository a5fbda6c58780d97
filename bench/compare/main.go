// Command compare measures, in one run and with one load generator, a fake
// OpenAI-compatible upstream called directly, LiteLLM's proxy in front of
// it (when installed), and Tramontane in front of it: chat pass-through
// (when the build serves /v1/chat/completions), stored conversation turns
// on short and long conversations, and the first streamed delta, at
// several concurrency levels, plus each process's memory. Every server is
// a separate process on 127.0.0.1; Tramontane uses SQLite.
//
//	go run ./bench/compare                  # everything, LiteLLM if installed
//	go run ./bench/compare -setup-litellm   # first install LiteLLM into bench/compare/.venv
//	go run ./bench/compare -baseline old/tramontane   # also an older build, same run
//
// It prints one table. Ratios between rows of one run are what to read on
// a busy machine; absolute figures need a quiet one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	key       = "bench-key-0123456789abcdef"
	masterKey = "sk-bench-master-key"
	idleInput = "idle stream please"
)

type options struct {
	n, warmup, longN, streams int
	levels                    []int
	limit                     time.Duration
	litellm                   string
	baseline                  string
}

func main() {
	var o options
	levels := flag.String("clients", "1,16,64", "concurrency levels")
	flag.IntVar(&o.n, "n", 1000, "measured requests per row (bounded by -limit)")
	flag.IntVar(&o.warmup, "warmup", 100, "unmeasured requests before each row")
	flag.IntVar(&o.longN, "long-n", 200, "measured appends per history-length row (one client)")
	flag.IntVar(&o.streams, "streams", 1000, "concurrent idle streams for the per-stream memory figure (0: skip)")
	flag.DurationVar(&o.limit, "limit", 20*time.Second, "time bound of one row")
	flag.StringVar(&o.litellm, "litellm", "bench/compare/.venv/bin/litellm", "LiteLLM executable")
	flag.StringVar(&o.baseline, "baseline", "", "also measure this tramontane binary (e.g. built from an older commit) in the same run")
	setup := flag.Bool("setup-litellm", false, "install litellm[proxy] into bench/compare/.venv first")
	flag.Parse()
	for _, f := range strings.Split(*levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			fmt.Fprintln(os.Stderr, "compare: bad -clients")
			os.Exit(2)
		}
		o.levels = append(o.levels, c)
	}
	if *setup {
		if err := setupLiteLLM(); err != nil {
			fmt.Fprintln(os.Stderr, "compare: installing LiteLLM:", err)
			os.Exit(1)
		}
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func setupLiteLLM() error {
	venv := filepath.Join("bench", "compare", ".venv")
	for _, args := range [][]string{
		{"python3", "-m", "venv", venv},
		{filepath.Join(venv, "bin", "pip"), "install", "--quiet", "litellm[proxy]"},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

// servers are the processes under test.
type servers struct {
	up, tram, base, lite *proc
	dir                  string
}

func (s *servers) stop() {
	s.lite.stop()
	s.base.stop()
	s.tram.stop()
	s.up.stop()
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "tramontane-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "building tramontane and fakeupstream ...")
	if err := goBuild(context.Background(), dir, "./cmd/tramontane", "./cmd/fakeupstream"); err != nil {
		return err
	}
	script := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(script, []byte("rules:\n  - match: "+idleInput+"\n    delay_ms: 3000\n    reply: done\ndefault:\n  reply: \"fakeupstream: you said {{input}}\"\n"), 0o600); err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	fmt.Fprintln(os.Stderr, "seeding conversations ...")
	seeds, err := seed(data, o)
	if err != nil {
		return err
	}

	s := &servers{dir: dir}
	defer s.stop()
	// On Ctrl-C, stop the servers this run started before exiting.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		s.stop()
		os.RemoveAll(dir)
		os.Exit(130)
	}()
	upPort, _ := freePort()
	upURL := fmt.Sprintf("http://127.0.0.1:%d", upPort)
	if s.up, err = start("fakeupstream", dir, filepath.Join(dir, "fakeupstream"),
		[]string{"-addr", fmt.Sprintf("127.0.0.1:%d", upPort), "-quiet", "-no-record", "-script", script}, nil, upURL, "/healthz", 30*time.Second); err != nil {
		return err
	}
	trURL := ""
	if s.tram, trURL, err = startTramontane("tramontane", dir, filepath.Join(dir, "tramontane"), data, upURL); err != nil {
		return err
	}
	targets := []target{{name: "Tramontane", url: trURL, seeds: seeds}}
	if o.baseline != "" {
		bin, err := filepath.Abs(o.baseline)
		if err != nil {
			return err
		}
		baseData := filepath.Join(dir, "data-baseline")
		baseSeeds, err := seed(baseData, options{levels: o.levels, n: o.n, warmup: o.warmup, longN: o.longN})
		if err != nil {
			return err
		}
		var baseURL string
		if s.base, baseURL, err = startTramontane("tramontane-baseline", dir, bin, baseData, upURL); err != nil {
			return err
		}
		targets = append(targets, target{name: "Tramontane (baseline)", url: baseURL, seeds: baseSeeds})
	}
	liteNote := "LiteLLM: not available (go run ./bench/compare -setup-litellm installs it into bench/compare/.venv)"
	if _, err := os.Stat(o.litellm); err == nil {
		fmt.Fprintln(os.Stderr, "starting LiteLLM (this takes a while) ...")
		if s.lite, err = startLiteLLM(dir, o.litellm, upURL); err != nil {
			liteNote = "LiteLLM: failed to start: " + err.Error()
			if b, rerr := os.ReadFile(filepath.Join(dir, "litellm.log")); rerr == nil {
				fmt.Fprintf(os.Stderr, "litellm.log:\n%s\n", tail(b, 2000))
			}
		} else {
			liteNote = "LiteLLM: " + liteVersion(o.litellm) + ", 1 worker, master key, no database"
		}
	}

	t := &table{}
	idle := map[string]float64{}
	for _, p := range []*proc{s.up, s.tram, s.base, s.lite} {
		if p != nil {
			idle[p.name], _ = p.rss()
		}
	}
	var perStream string
	if o.streams > 0 {
		fmt.Fprintln(os.Stderr, "holding", o.streams, "idle streams ...")
		perStream, err = idleStreams(s.tram, trURL, seeds.idle)
		if err != nil {
			return err
		}
	}
	if err := rows(o, s, upURL, targets, t); err != nil {
		return err
	}

	fmt.Printf("Side-by-side benchmark, %s, %d CPUs, %s/%s, Go %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Printf("Every server a separate process on 127.0.0.1; one load generator (this process, keep-alive); Tramontane on SQLite.\n%s\n", liteNote)
	if o.baseline != "" {
		fmt.Printf("Baseline: %s\n", o.baseline)
	}
	fmt.Println()
	t.print()
	fmt.Println()
	fmt.Println("| process | RSS idle | RSS after the run | peak RSS |")
	fmt.Println("|---|---|---|---|")
	for _, p := range []*proc{s.up, s.tram, s.base, s.lite} {
		if p == nil {
			continue
		}
		cur, peak := p.rss()
		fmt.Printf("| %s | %.0f MB | %.0f MB | %.0f MB |\n", p.name, idle[p.name], cur, peak)
	}
	if perStream != "" {
		fmt.Println()
		fmt.Println(perStream)
	}
	return nil
}

// startTramontane serves the binary bin on a free port with its data in
// data, routing every model to the upstream.
func startTramontane(name, dir, bin, data, upURL string) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	p, err := start(name, dir, bin, []string{"serve"}, []string{
		"TRAMONTANE_ADDR=" + fmt.Sprintf("127.0.0.1:%d", port), "TRAMONTANE_DATA_DIR=" + data,
		"TRAMONTANE_BOOTSTRAP_KEY=" + key, "TRAMONTANE_UPSTREAM_URL=" + upURL + "/v1",
		// The load generator is one client address: its idle streams
		// alone (-streams) exceed the default cap of 512 connections.
		"TRAMONTANE_MAX_CONNS_PER_CLIENT=100000",
	}, url, "/healthz", 60*time.Second)
	return p, url, err
}

func startLiteLLM(dir, bin, upURL string) (*proc, error) {
	cfg := filepath.Join(dir, "litellm.yaml")
	body := fmt.Sprintf("model_list:\n  - model_name: bench\n    litellm_params:\n      model: openai/bench\n      api_base: %s/v1\n      api_key: sk-fake\ngeneral_settings:\n  master_key: %s\n", upURL, masterKey)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return nil, err
	}
	port, _ := freePort()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	return start("litellm", dir, bin, []string{"--config", cfg, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--num_workers", "1"},
		[]string{"LITELLM_LOCAL_MODEL_COST_MAP=True", "LITELLM_TELEMETRY=False", "!DATABASE_URL"}, url, "/health/liveliness", 3*time.Minute)
}

func liteVersion(bin string) string {
	out, err := exec.Command(filepath.Join(filepath.Dir(bin), "pip"), "show", "litellm").Output()
	if err != nil {
		return "version unknown"
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Version: "); ok {
			return "litellm " + strings.TrimSpace(v)
		}
	}
	return "version unknown"
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
