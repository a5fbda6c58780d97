package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tramontane/tramontane/client"
)

func init() {
	register(command{"chat", "[--agent NAME] [-p Q]", "talk to an agent in the terminal (docs/cli.md)", func(args []string, stdout, stderr io.Writer) error {
		return chat(args, stdin, stdout, stderr)
	}})
	register(command{"agents", "list|get|create", "a running server's agents", agentsCmd})
	register(command{"conversations", "list|show", "a running server's conversations", conversationsCmd})
}

const agentsUsage = `Usage: tramontane agents ACTION [flags]

Actions (on a running server: --url, --key):
  list   [--name NAME]          list agents
  get    ID|NAME[@VERSION]      print an agent as JSON
  create -f agent.yaml          create an agent from a YAML (or JSON) file

"tramontane agents ACTION --help" lists an action's flags.
`

// agentsCmd is "tramontane agents": operators' view of a server's agents.
func agentsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, agentsUsage)
		return usageError{"agents: give an action: list, get or create"}
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, agentsUsage)
		return nil
	case "list":
		return agentsList(args[1:], stdout, stderr)
	case "get":
		return agentsGet(args[1:], stdout, stderr)
	case "create":
		return agentsCreate(args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, agentsUsage)
	return usageError{fmt.Sprintf("agents: unknown action %q (want list, get or create)", args[0])}
}

func agentsList(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("agents list", "[flags]", "List a running server's agents.", stdout, stderr)
	remote := addRemoteFlags(fs)
	name := fs.String("name", "", "only agents with this name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("agents list: unexpected argument %q", fs.Arg(0))}
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tVERSION\tMODEL\tUPDATED")
	for a, err := range remote.client().Agents.All(context.Background(), &client.AgentListOptions{Name: *name, PageSize: 100}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", a.ID, a.Name, a.Version, a.Model, a.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func agentsGet(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("agents get", "[flags] ID|NAME[@VERSION]", "Print an agent (at a version or alias) as JSON.", stdout, stderr)
	remote := addRemoteFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"agents get: give one agent id or name"}
	}
	ctx := context.Background()
	s := &chatSession{c: remote.client()}
	if err := s.resolveAgent(ctx, fs.Arg(0)); err != nil {
		return err
	}
	a, err := s.c.Agents.GetAt(ctx, s.agentID, string(s.version))
	if err != nil {
		return err
	}
	return printJSON(stdout, a)
}

func agentsCreate(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("agents create", "-f agent.yaml [flags]", "Create an agent from a YAML (or JSON) file with the keys of the API's agent creation request.", stdout, stderr)
	remote := addRemoteFlags(fs)
	file := fs.String("f", "", "the agent's definition (YAML or JSON), required")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || fs.NArg() > 0 {
		return usageError{"agents create: give the definition with -f agent.yaml"}
	}
	req, err := readAgentFile(*file)
	if err != nil {
		return err
	}
	a, err := remote.client().Agents.Create(context.Background(), req)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created agent %s (%s) at version %d.\n", a.ID, a.Name, a.Version)
	return nil
}

// readAgentFile reads an agent definition: YAML (or JSON, which is YAML)
// with the keys of the API's CreateAgentRequest.
func readAgentFile(path string) (client.AgentCreateRequest, error) {
	var req client.AgentCreateRequest
	b, err := os.ReadFile(path)
	if err != nil {
		return req, err
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return req, fmt.Errorf("%s: %w", path, err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return req, fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(j, &req); err != nil {
		return req, fmt.Errorf("%s: %w", path, err)
	}
	if req.Model == "" || req.Name == "" {
		return req, fmt.Errorf("%s: an agent needs a model and a name", path)
	}
	return req, nil
}

const conversationsUsage = `Usage: tramontane conversations ACTION [flags]

Actions (on a running server: --url, --key):
  list [-n 20]                  list conversations, newest first
  show [--json] ID              print a conversation's entries

"tramontane conversations ACTION --help" lists an action's flags.
`

// conversationsCmd is "tramontane conversations".
func conversationsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, conversationsUsage)
		return usageError{"conversations: give an action: list or show"}
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, conversationsUsage)
		return nil
	case "list":
		return conversationsList(args[1:], stdout, stderr)
	case "show":
		return conversationsShow(args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, conversationsUsage)
	return usageError{fmt.Sprintf("conversations: unknown action %q (want list or show)", args[0])}
}

func conversationsList(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("conversations list", "[flags]", "List a running server's conversations, newest first.", stdout, stderr)
	remote := addRemoteFlags(fs)
	limit := fs.Int("n", 20, "how many conversations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("conversations list: unexpected argument %q", fs.Arg(0))}
	}
	list, err := remote.client().Conversations.List(context.Background(), &client.ConversationListOptions{PageSize: *limit})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWITH\tNAME\tUPDATED")
	for _, cv := range list {
		with := "model " + cv.Model
		if cv.AgentID != "" {
			with = "agent " + cv.AgentID
			if cv.AgentVersion != "" {
				with += "@" + string(cv.AgentVersion)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cv.ID, with, cv.Name, cv.UpdatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func conversationsShow(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("conversations show", "[flags] ID", "Print a conversation's entries, numbered as the chat's /history does.", stdout, stderr)
	remote := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "print the history as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"conversations show: give one conversation id"}
	}
	h, err := remote.client().Conversations.History(context.Background(), fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, h)
	}
	printHistory(stdout, h.Entries)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
