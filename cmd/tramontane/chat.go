package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"

	"github.com/tramontane/tramontane/client"
)

// stdin is what chat reads; tests replace it.
var stdin io.Reader = os.Stdin

// notifyInterrupt relays Ctrl-C (SIGINT) to c until stop is called; tests
// replace it.
var notifyInterrupt = func(c chan<- os.Signal) (stop func()) {
	signal.Notify(c, os.Interrupt)
	return func() { signal.Stop(c) }
}

// remoteFlags are the flags of the subcommands that talk to a server.
type remoteFlags struct{ url, key *string }

func addRemoteFlags(fs *flag.FlagSet) remoteFlags {
	def := os.Getenv("TRAMONTANE_URL")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	return remoteFlags{
		url: fs.String("url", def, "server base URL (env TRAMONTANE_URL)"),
		key: fs.String("key", "", "API key (default: env TRAMONTANE_API_KEY, else MISTRAL_API_KEY)"),
	}
}

func (r remoteFlags) client() *client.Client {
	opts := []client.Option{client.WithBaseURL(*r.url)}
	if *r.key != "" {
		opts = append(opts, client.WithAPIKey(*r.key))
	}
	return client.New(opts...)
}

const chatDesc = `Talk to an agent (or a model) on a running server. Without -p, a REPL: type
a message, or /help for commands. With -p, ask one question and print the
answer (-p - reads the question from stdin). See docs/cli.md.`

// chatSession is the state of one chat.
type chatSession struct {
	c    *client.Client
	out  io.Writer // the answer
	info io.Writer // tool events, citations, notices
	in   *bufio.Reader
	// lines carries what the REPL reads from in, one line at a time, so
	// that a prompt can give up when Ctrl-C stops the run (startLines).
	lines   chan lineRead
	inErr   error // the error that ended in, once lines is drained
	agentID string
	name    string // the agent's name
	version client.AgentVersion
	model   string
	convID  string
	// branchFrom is the entry the next message restarts from (/restart).
	branchFrom string
	// resume: a stopped run left calls unanswered (noteWaiting).
	resume bool

	mu     sync.Mutex
	cancel context.CancelFunc // of the current run
	// prompt makes the prompts of parallel calls (which the runner answers
	// concurrently) come one at a time, each with its own line.
	prompt sync.Mutex
}

func chat(args []string, in io.Reader, stdout, stderr io.Writer) error {
	fs := flagSet("chat", "[flags]", chatDesc, stdout, stderr)
	remote := addRemoteFlags(fs)
	agentRef := fs.String("agent", "", "agent id or name, optionally @version or @alias")
	modelName := fs.String("model", "", "talk to a model instead of an agent")
	convID := fs.String("conversation", "", "continue this conversation")
	prompt := fs.String("p", "", "ask one question, print the answer and exit (- reads stdin)")
	asJSON := fs.Bool("json", false, "with -p: print the full response as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("chat: unexpected argument %q", fs.Arg(0))}
	}
	if *agentRef == "" && *modelName == "" && *convID == "" {
		return usageError{"chat: give --agent, --model or --conversation"}
	}
	s := &chatSession{c: remote.client(), out: stdout, info: stderr, in: bufio.NewReader(in), model: *modelName, convID: *convID}
	ctx := context.Background()
	if *agentRef != "" {
		if err := s.resolveAgent(ctx, *agentRef); err != nil {
			return err
		}
	}
	if *prompt != "" {
		q := *prompt
		if q == "-" {
			b, err := io.ReadAll(s.in)
			if err != nil {
				return err
			}
			q = strings.TrimSpace(string(b))
		}
		return s.once(ctx, q, *asJSON)
	}
	s.info = stdout
	return s.repl(ctx)
}

// resolveAgent finds an agent by id or name; "@x" picks a version or alias.
func (s *chatSession) resolveAgent(ctx context.Context, ref string) error {
	name, version, _ := strings.Cut(ref, "@")
	s.version = client.AgentVersion(version)
	if strings.HasPrefix(name, "ag_") {
		a, err := s.c.Agents.GetAt(ctx, name, version)
		if err != nil {
			return fmt.Errorf("agent %s: %w", ref, err)
		}
		s.agentID, s.name = a.ID, a.Name
		return nil
	}
	list, err := s.c.Agents.List(ctx, &client.AgentListOptions{Name: name, PageSize: 2})
	if err != nil {
		return fmt.Errorf("looking up agent %q: %w", name, err)
	}
	switch len(list) {
	case 0:
		return fmt.Errorf("no agent named %q", name)
	case 1:
		s.agentID, s.name = list[0].ID, list[0].Name
		if version != "" {
			if _, err := s.c.Agents.GetAt(ctx, s.agentID, version); err != nil {
				return fmt.Errorf("agent %s: %w", ref, err)
			}
		}
		return nil
	}
	return fmt.Errorf("several agents are named %q; give an id (tramontane agents list)", name)
}

// once is the non-interactive mode.
func (s *chatSession) once(ctx context.Context, q string, asJSON bool) error {
	if asJSON {
		var resp *client.ConversationResponse
		var err error
		if s.convID != "" {
			resp, err = s.c.Conversations.Append(ctx, s.convID, client.AppendRequest{Inputs: client.UserMessage(q)})
		} else {
			resp, err = s.c.Conversations.Start(ctx, s.startRequest(q))
		}
		if err != nil {
			return err
		}
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	r := client.NewRunner(s.c)
	pending, err := s.stream(ctx, r, q)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("the run stopped at %s (conversation %s): answer it with tramontane chat --conversation %s",
			describeCalls(pending), s.convID, s.convID)
	}
	return nil
}

func describeCalls(calls []*client.FunctionCallEntry) string {
	parts := make([]string, len(calls))
	for i, c := range calls {
		parts[i] = c.Name + c.Arguments
	}
	return strings.Join(parts, ", ")
}

func (s *chatSession) startRequest(q string) client.ConversationRequest {
	return client.ConversationRequest{AgentID: s.agentID, AgentVersion: s.version, Model: s.model, Inputs: client.UserMessage(q)}
}

const replHelp = `Commands:
  /history      show the conversation's entries, numbered
  /restart N    branch: your next message continues from entry N
  /new          start a new conversation
  /id           print the conversation id
  /exit         quit (or Ctrl-D); Ctrl-C stops the current answer
`

func (s *chatSession) repl(ctx context.Context) error {
	sig := make(chan os.Signal, 1)
	stop := notifyInterrupt(sig)
	defer func() {
		stop()
		close(sig)
	}()
	go func() {
		for range sig {
			s.mu.Lock()
			if s.cancel != nil {
				s.cancel()
			} else {
				fmt.Fprint(s.info, "\n(type /exit or press Ctrl-D to quit)\n> ")
			}
			s.mu.Unlock()
		}
	}()
	who := "model " + s.model
	if s.agentID != "" {
		who = fmt.Sprintf("agent %s (%s)", s.name, s.agentID)
		if s.version != "" {
			who = fmt.Sprintf("agent %s@%s (%s)", s.name, s.version, s.agentID)
		}
	}
	if s.convID != "" {
		who = "conversation " + s.convID
	}
	fmt.Fprintf(s.info, "Talking to %s. /help for commands.\n", who)
	s.startLines()
	r := client.NewRunner(s.c)
	r.Fallback = s.askResult
	r.Confirm = s.askConfirm
	if s.convID != "" {
		// Answer what the conversation waits for before anything else.
		if err := s.print(r.ResumeStream(ctx, s.convID), nil); err != nil {
			fmt.Fprintln(s.info, "error:", err)
		}
	}
	for {
		fmt.Fprint(s.out, "> ")
		line, err := s.readLine(ctx)
		if err == io.EOF {
			fmt.Fprintln(s.out)
			return nil
		}
		if err != nil {
			return err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "/") {
			if quit := s.command(ctx, line); quit {
				return nil
			}
			continue
		}
		runCtx, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		s.cancel = cancel
		s.mu.Unlock()
		err = s.turn(runCtx, r, line)
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel()
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(s.info, "\n(stopped)")
			s.noteWaiting(ctx)
		case err != nil:
			fmt.Fprintln(s.info, "\nerror:", err)
		}
	}
}

// turn runs one message. A run stopped at a function's prompt left the
// conversation waiting for that call: it is asked again first.
func (s *chatSession) turn(ctx context.Context, r *client.Runner, line string) error {
	if s.resume {
		if err := s.print(r.ResumeStream(ctx, s.convID), nil); err != nil {
			return err
		}
		s.resume = false
	}
	_, err := s.stream(ctx, r, line)
	return err
}

// noteWaiting, after a stopped run, says whether the conversation waits
// for function results or confirmations, which the next message asks for
// again (/new or /restart leave them).
func (s *chatSession) noteWaiting(ctx context.Context) {
	if s.convID == "" || s.branchFrom != "" {
		return
	}
	h, err := s.c.Conversations.History(ctx, s.convID)
	if err != nil {
		return
	}
	calls := client.Waiting(h.Entries)
	s.resume = len(calls) > 0
	if s.resume {
		fmt.Fprintf(s.info, "(the conversation waits for %s: asked again before your next message; /new or /restart N leave it)\n", describeCalls(calls))
	}
}

// lineRead is one line of input, or the error that ended the input.
type lineRead struct {
	line string
	err  error
}

// startLines reads the input on its own goroutine from now on: a read
// blocked on the terminal cannot be interrupted, a wait on a channel can.
func (s *chatSession) startLines() {
	s.lines = make(chan lineRead)
	go func() {
		defer close(s.lines)
		for {
			line, err := s.in.ReadString('\n')
			if err == io.EOF && line != "" {
				err = nil
			}
			s.lines <- lineRead{strings.TrimRight(line, "\r\n"), err}
			if err != nil {
				return
			}
		}
	}()
}

// readLine returns the next line of input. It gives up with ctx's error
// when ctx ends first; the line, when it comes, is the next one read.
func (s *chatSession) readLine(ctx context.Context) (string, error) {
	if s.inErr != nil {
		return "", s.inErr
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r, ok := <-s.lines:
		if !ok { // not reached: the reader sends its error before it closes lines
			if s.inErr == nil {
				s.inErr = io.EOF
			}
			return "", s.inErr
		}
		if r.err != nil {
			s.inErr = r.err
		}
		return r.line, r.err
	}
}

// command runs a /command and reports whether to quit.
func (s *chatSession) command(ctx context.Context, line string) bool {
	fields := strings.Fields(line)
	switch fields[0] {
	case "/exit", "/quit":
		return true
	case "/help":
		fmt.Fprint(s.info, replHelp)
	case "/id":
		fmt.Fprintln(s.info, s.convID)
	case "/new":
		s.convID, s.branchFrom, s.resume = "", "", false
		fmt.Fprintln(s.info, "New conversation.")
	case "/history":
		if s.convID == "" {
			fmt.Fprintln(s.info, "No conversation yet.")
			return false
		}
		h, err := s.c.Conversations.History(ctx, s.convID)
		if err != nil {
			fmt.Fprintln(s.info, "error:", err)
			return false
		}
		printHistory(s.info, h.Entries)
	case "/restart":
		n, err := 0, error(nil)
		if len(fields) == 2 {
			n, err = strconv.Atoi(fields[1])
		}
		if len(fields) != 2 || err != nil || s.convID == "" {
			fmt.Fprintln(s.info, "usage: /restart N (an entry number from /history)")
			return false
		}
		h, err := s.c.Conversations.History(ctx, s.convID)
		if err != nil {
			fmt.Fprintln(s.info, "error:", err)
			return false
		}
		if n < 1 || n > len(h.Entries) {
			fmt.Fprintf(s.info, "no entry %d (the conversation has %d)\n", n, len(h.Entries))
			return false
		}
		s.branchFrom, s.resume = h.Entries[n-1].EntryID(), false
		fmt.Fprintf(s.info, "Your next message branches from entry %d.\n", n)
	default:
		fmt.Fprintf(s.info, "unknown command %s\n%s", fields[0], replHelp)
	}
	return false
}

// stream runs one message and prints the answer as it comes.
func (s *chatSession) stream(ctx context.Context, r *client.Runner, q string) ([]*client.FunctionCallEntry, error) {
	in := client.UserMessage(q)
	var seq func(func(client.Event, error) bool)
	switch {
	case s.branchFrom != "":
		seq = r.RestartStream(ctx, s.convID, client.RestartRequest{FromEntryID: s.branchFrom, Inputs: in})
	case s.convID != "":
		seq = r.ContinueStream(ctx, s.convID, client.AppendRequest{Inputs: in})
	default:
		seq = r.RunStream(ctx, s.startRequest(q))
	}
	var pending []*client.FunctionCallEntry
	err := s.print(seq, func(acc *client.Accumulator) {
		pending = nil
		for _, fc := range acc.Response().FunctionCalls() {
			if fc.ConfirmationStatus != "denied" {
				pending = append(pending, fc)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if r.Fallback != nil {
		pending = nil
	}
	return pending, nil
}

// print prints a run's events, and calls done with the events of each
// finished round.
func (s *chatSession) print(seq func(func(client.Event, error) bool), done func(*client.Accumulator)) error {
	p := &printer{out: s.out, info: s.info}
	var acc client.Accumulator
	for ev, err := range seq {
		if err != nil {
			p.endLine()
			return err
		}
		if st, ok := ev.(*client.ResponseStartedEvent); ok {
			s.convID, s.branchFrom = st.ConversationID, ""
			acc = client.Accumulator{}
		}
		acc.Add(ev)
		p.event(ev)
		if _, ok := ev.(*client.ResponseDoneEvent); ok && done != nil {
			done(&acc)
		}
	}
	p.endLine()
	p.citations()
	return nil
}

// askResult asks the user for a function's result.
func (s *chatSession) askResult(ctx context.Context, call *client.FunctionCallEntry) (string, error) {
	s.prompt.Lock()
	defer s.prompt.Unlock()
	fmt.Fprintf(s.out, "%s(%s) result> ", call.Name, call.Arguments)
	line, err := s.readLine(ctx)
	if err != nil {
		return "", fmt.Errorf("no result for %s: %w", call.Name, err)
	}
	return line, nil
}

// askConfirm asks the user to allow a call.
func (s *chatSession) askConfirm(ctx context.Context, call *client.FunctionCallEntry) (bool, error) {
	s.prompt.Lock()
	defer s.prompt.Unlock()
	fmt.Fprintf(s.out, "allow %s(%s)? [y/N] ", call.Name, call.Arguments)
	line, err := s.readLine(ctx)
	if err != nil {
		return false, fmt.Errorf("no decision for %s: %w", call.Name, err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
