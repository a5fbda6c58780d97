//go:build linux || darwin

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/tramontane/tramontane/client"
)

// terminal is a process whose stdin, stdout and stderr are a
// pseudo-terminal; it records everything the process writes.
type terminal struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	done chan struct{} // closed when the output is at its end
	// exited is closed when the process has exited, with exitErr set.
	exited  chan struct{}
	exitErr error

	mu  sync.Mutex
	out strings.Builder
	// from is where the next expect starts looking.
	from int
}

// startTerminal runs this test binary as `tramontane args...` (TestMain
// in crash_test.go) on a new pseudo-terminal, as its session's foreground
// process: the terminal turns Ctrl-C into SIGINT for it.
func startTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliChildEnv+"="+string(raw), "TRAMONTANE_URL=", "TRAMONTANE_API_KEY=", "MISTRAL_API_KEY=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("starting tramontane %s on a pseudo-terminal: %v", strings.Join(args, " "), err)
	}
	term := &terminal{t: t, pty: f, cmd: cmd, done: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		term.exitErr = cmd.Wait()
		close(term.exited)
	}()
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil { // EIO once the process has exited
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // a no-op when it exited already
		_ = f.Close()
		for _, ch := range []chan struct{}{term.exited, term.done} {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
			}
		}
	})
	return term
}

// output is what the process wrote so far, with the terminal's "\r\n"
// line ends turned back into "\n".
func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return strings.ReplaceAll(term.out.String(), "\r\n", "\n")
}

// expect waits (at most within) until want appears after the previous
// match, and moves past it.
func (term *terminal) expect(want string, within time.Duration) {
	term.t.Helper()
	if !term.waitFor(want, within) {
		term.t.Fatalf("after %v, the terminal shows no %q after offset %d:\n%s", within, want, term.from, term.output())
	}
}

// waitFor reports whether want appeared after the previous match within
// the delay, and moves past it if so.
func (term *terminal) waitFor(want string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		out := term.output()
		if i := strings.Index(out[term.from:], want); i >= 0 {
			term.from += i + len(want)
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// typeLine types a line and presses Enter (a terminal sends "\r").
func (term *terminal) typeLine(line string) {
	term.t.Helper()
	if _, err := term.pty.Write([]byte(line + "\r")); err != nil {
		term.t.Fatalf("typing %q: %v", line, err)
	}
}

// The REPL through a real pseudo-terminal: a streamed answer (its first
// words show although the stream then fails), a function result typed at
// the prompt, /restart N, and Ctrl-C, which stops the current answer and
// not the program.
func TestChatREPLOnAPseudoTerminal(t *testing.T) {
	url, c := chatServer(t)
	a, err := c.Agents.Create(context.Background(), client.AgentCreateRequest{Model: "mistral-medium-latest", Name: "weather",
		Tools: []client.Tool{client.FunctionTool("get_weather", "", json.RawMessage(weatherTool))}})
	if err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, "chat", "--url", url, "--key", chatKey, "--agent", "weather")
	const wait = 10 * time.Second
	term.expect("Talking to agent weather ("+a.ID+")", wait)
	term.expect("> ", wait)

	term.typeLine("hello")
	term.expect("You said: hello\n", wait)
	term.expect("> ", wait)

	// The words that arrived before the stream failed are on the screen.
	term.typeLine("partial please")
	term.expect("alpha beta", wait)
	term.expect("error:", wait)
	term.expect("> ", wait)

	term.typeLine("weather in Paris?")
	term.expect(`get_weather({"city":"Paris"}) result> `, wait)
	term.typeLine("12C")
	term.expect("↳ get_weather → 12C", wait)
	term.expect("Weather: 12C\n", wait)
	term.expect("> ", wait)

	// Parallel calls are asked one at a time, and each answer goes to the
	// call whose prompt it follows.
	term.typeLine("compare Paris and Rome")
	for range 2 {
		term.expect(`get_weather({"city":"`, wait)
		city := "Rome"
		if term.waitFor(`Paris"}) result> `, 100*time.Millisecond) {
			city = "Paris"
		} else {
			term.expect(`Rome"}) result> `, wait)
		}
		term.typeLine("sunny in " + city)
	}
	term.expect("Weather: sunny in Paris\nsunny in Rome\n", wait)
	term.expect("> ", wait)

	term.typeLine("/restart 2")
	term.expect("Your next message branches from entry 2.", wait)
	term.typeLine("branch here")
	term.expect("You said: branch here\n", wait)
	term.expect("> ", wait)

	// Ctrl-C at the prompt does not quit.
	if _, err := term.pty.Write([]byte{0x03}); err != nil {
		t.Fatal(err)
	}
	term.expect("(type /exit or press Ctrl-D to quit)\n> ", wait)

	// Ctrl-C during a slow answer (5 s) stops it. The run starts as the
	// line is read: a Ctrl-C that came before is retried.
	term.typeLine("slow please")
	term.expect("slow please", wait) // the terminal's echo
	start := time.Now()
	stopped := false
	for !stopped && time.Since(start) < 4*time.Second {
		time.Sleep(200 * time.Millisecond)
		if _, err := term.pty.Write([]byte{0x03}); err != nil {
			t.Fatal(err)
		}
		stopped = term.waitFor("(stopped)", 500*time.Millisecond)
	}
	if !stopped {
		t.Fatalf("Ctrl-C did not stop the slow answer:\n%s", term.output())
	}
	term.expect("> ", wait)
	term.typeLine("still there?")
	term.expect("You said: still there?\n", wait)
	term.expect("> ", wait)
	if strings.Contains(term.output(), "too late") {
		t.Fatalf("the stopped answer was printed:\n%s", term.output())
	}

	// Ctrl-C at a function's result prompt stops that run at once, without
	// waiting for a line. The call is asked again before the next message.
	term.typeLine("weather again?")
	term.expect(`get_weather({"city":"Paris"}) result> `, wait)
	if _, err := term.pty.Write([]byte{0x03}); err != nil {
		t.Fatal(err)
	}
	term.expect("(stopped)", 3*time.Second)
	term.expect(`(the conversation waits for get_weather{"city":"Paris"}`, wait)
	term.expect("> ", wait)
	term.typeLine("hello after")
	term.expect(`get_weather({"city":"Paris"}) result> `, wait)
	term.typeLine("13C")
	term.expect("Weather: 13C\n", wait)
	term.expect("You said: hello after\n", wait)
	term.expect("> ", wait)

	term.typeLine("/exit")
	select {
	case <-term.exited:
		if term.exitErr != nil {
			t.Fatalf("tramontane chat ended with %v:\n%s", term.exitErr, term.output())
		}
	case <-time.After(wait):
		t.Fatalf("tramontane chat did not exit after /exit:\n%s", term.output())
	}
}
