// Command codeexec measures the code_interpreter sandbox: cold start (a
// new conversation's sandbox plus its first trivial call) and warm calls
// in a live session, as p50 and p95 latencies. It needs what the
// connector needs (bubblewrap, python3 with numpy/pandas/matplotlib,
// util-linux); run it as the server would run (root uses the unprivileged
// uid of the configuration).
//
//	go run ./bench/codeexec -cold 30 -warm 300
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/tool/codeexec"
)

func main() {
	cold := flag.Int("cold", 30, "cold starts to measure")
	warm := flag.Int("warm", 300, "warm calls to measure")
	flag.Parse()

	cfg := codeexec.DefaultConfig()
	cfg.MaxSessions = 4
	discard := func(ctx context.Context, ws, name, mime string, r io.Reader) (string, error) {
		_, err := io.Copy(io.Discard, r)
		return "file-" + name, err
	}
	ix := codeexec.New(cfg, discard, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer ix.Close()
	if err := ix.Available(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	call := func(conv, code string) time.Duration {
		args, _ := json.Marshal(map[string]string{"code": code})
		start := time.Now()
		res, err := ix.Execute(context.Background(), engine.ToolCall{Workspace: "bench", ConversationID: conv, Arguments: string(args)})
		d := time.Since(start)
		if err != nil || res.Info["error"] != nil {
			fmt.Fprintln(os.Stderr, "call failed:", err, res)
			os.Exit(1)
		}
		return d
	}
	call("warmup", "1") // also waits for the font cache

	var coldD, numpyD, plotD, warmD []time.Duration
	for i := 0; i < *cold; i++ {
		coldD = append(coldD, call(fmt.Sprintf("cold-%d", i), "1 + 1"))
	}
	for i := 0; i < min(*cold, 10); i++ {
		numpyD = append(numpyD, call(fmt.Sprintf("numpy-%d", i), "import numpy, pandas\nnumpy.arange(3).sum()"))
	}
	call("warm", "x = 0")
	for i := 0; i < *warm; i++ {
		warmD = append(warmD, call("warm", "x += 1\nx"))
	}
	call("plot", "import matplotlib.pyplot as plt")
	for i := 0; i < min(*warm, 20); i++ {
		plotD = append(plotD, call("plot", "plt.plot([1, 2, 3]); plt.show()"))
	}
	report("cold start (new sandbox + first call)", coldD)
	report("cold start + import numpy, pandas", numpyD)
	report("warm call (x += 1)", warmD)
	report("warm call with a plot saved as a file", plotD)
}

func report(name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	fmt.Printf("%-42s n=%-4d p50=%-10s p95=%-10s max=%s\n", name, len(ds),
		q(0.50).Round(10*time.Microsecond), q(0.95).Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
}
