package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tramontane/tramontane/client"
)

// printer shows a run's events in the terminal: the answer as it streams
// on out, tool executions, function results and handoffs as one line each
// on info, and the citations after the answer.
type printer struct {
	out, info io.Writer
	midLine   bool
	toolArgs  map[int]*strings.Builder
	refs      []client.Chunk
}

func (p *printer) endLine() {
	if p.midLine {
		fmt.Fprintln(p.out)
		p.midLine = false
	}
}

func (p *printer) event(ev client.Event) {
	if p.toolArgs == nil {
		p.toolArgs = map[int]*strings.Builder{}
	}
	switch e := ev.(type) {
	case *client.MessageOutputDeltaEvent:
		if e.Chunk != nil {
			switch e.Chunk.Type {
			case "text":
				p.write(e.Chunk.Text)
			case "tool_reference":
				p.refs = append(p.refs, *e.Chunk)
				p.write(fmt.Sprintf("[%d]", len(p.refs)))
			case "tool_file":
				p.write(fmt.Sprintf("[file %s %s]", e.Chunk.FileName, e.Chunk.FileID))
			}
			return
		}
		p.write(e.Text)
	case *client.ToolExecutionStartedEvent:
		b := &strings.Builder{}
		b.WriteString(e.Arguments)
		p.toolArgs[e.OutputIndex] = b
	case *client.ToolExecutionDeltaEvent:
		if b := p.toolArgs[e.OutputIndex]; b != nil {
			b.WriteString(e.Arguments)
		}
	case *client.ToolExecutionDoneEvent:
		args := ""
		if b := p.toolArgs[e.OutputIndex]; b != nil {
			args = b.String()
		}
		p.line("⚙ %s(%s) → %s", e.Name, oneLine(args, 80), oneLine(string(e.Info), 100))
	case *client.FunctionResultEvent:
		p.line("↳ %s → %s", e.Call.Name, oneLine(e.Result, 100))
	case *client.AgentHandoffDoneEvent:
		p.line("⇢ handed over to %s", e.NextAgentName)
	case *client.ResponseDoneEvent:
		p.endLine()
	}
}

func (p *printer) write(s string) {
	if s == "" {
		return
	}
	fmt.Fprint(p.out, s)
	p.midLine = !strings.HasSuffix(s, "\n")
}

func (p *printer) line(format string, args ...any) {
	p.endLine()
	fmt.Fprintf(p.info, format+"\n", args...)
}

func (p *printer) citations() {
	for i, r := range p.refs {
		where := r.URL
		if where == "" {
			where = r.Tool
		}
		fmt.Fprintf(p.info, "  [%d] %s  %s\n", i+1, r.Title, where)
	}
	p.refs = nil
}

// oneLine flattens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// printHistory prints a conversation's entries, numbered from 1.
func printHistory(w io.Writer, entries client.Entries) {
	for i, e := range entries {
		var line string
		switch v := e.(type) {
		case *client.MessageInputEntry:
			line = v.Role + ": " + v.Content.String()
		case *client.MessageOutputEntry:
			line = "assistant: " + v.Content.String()
		case *client.FunctionCallEntry:
			line = "call " + v.Name + v.Arguments
			if v.ConfirmationStatus != "" {
				line += " [" + v.ConfirmationStatus + "]"
			}
		case *client.FunctionResultEntry:
			line = "result " + v.Result
		case *client.ToolExecutionEntry:
			line = "tool " + v.Name + v.Arguments
		case *client.AgentHandoffEntry:
			line = "handoff " + v.PreviousAgentName + " → " + v.NextAgentName
		default:
			line = e.EntryType()
		}
		fmt.Fprintf(w, "%3d  %s\n", i+1, oneLine(line, 120))
	}
}
