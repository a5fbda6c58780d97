package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tramontane/tramontane/client"
)

const agentsUsage = `Usage:
  tramontane agents list   [flags]          list agents
  tramontane agents get    [flags] ID|NAME  print an agent as JSON
  tramontane agents create [flags] -f agent.yaml
                                            create an agent from a YAML (or JSON) file

Flags:
`

// agentsCmd is "tramontane agents": operators' view of a server's agents.
func agentsCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("agents", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, agentsUsage); fs.PrintDefaults() }
	remote := addRemoteFlags(fs)
	file := fs.String("f", "", "create: the agent's definition (YAML or JSON)")
	name := fs.String("name", "", "list: only agents with this name")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fs.Usage()
		if len(args) == 0 {
			return errors.New("agents: want list, get or create")
		}
		return flag.ErrHelp
	}
	action := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c := remote.client()
	ctx := context.Background()
	switch action {
	case "list":
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tVERSION\tMODEL\tUPDATED")
		for a, err := range c.Agents.All(ctx, &client.AgentListOptions{Name: *name, PageSize: 100}) {
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", a.ID, a.Name, a.Version, a.Model, a.UpdatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "get":
		if fs.NArg() != 1 {
			return errors.New("agents get: give one agent id or name")
		}
		s := &chatSession{c: c}
		if err := s.resolveAgent(ctx, fs.Arg(0)); err != nil {
			return err
		}
		a, err := c.Agents.GetAt(ctx, s.agentID, string(s.version))
		if err != nil {
			return err
		}
		return printJSON(stdout, a)
	case "create":
		if *file == "" {
			return errors.New("agents create: give the definition with -f agent.yaml")
		}
		req, err := readAgentFile(*file)
		if err != nil {
			return err
		}
		a, err := c.Agents.Create(ctx, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created agent %s (%s) at version %d.\n", a.ID, a.Name, a.Version)
		return nil
	}
	return fmt.Errorf("agents: unknown action %q (want list, get or create)", action)
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

const conversationsUsage = `Usage:
  tramontane conversations list [flags]       list conversations, newest first
  tramontane conversations show [flags] ID    print a conversation's entries

Flags:
`

// conversationsCmd is "tramontane conversations".
func conversationsCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("conversations", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, conversationsUsage); fs.PrintDefaults() }
	remote := addRemoteFlags(fs)
	limit := fs.Int("n", 20, "list: how many conversations")
	asJSON := fs.Bool("json", false, "show: print the history as JSON")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fs.Usage()
		if len(args) == 0 {
			return errors.New("conversations: want list or show")
		}
		return flag.ErrHelp
	}
	action := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c := remote.client()
	ctx := context.Background()
	switch action {
	case "list":
		list, err := c.Conversations.List(ctx, &client.ConversationListOptions{PageSize: *limit})
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
	case "show":
		if fs.NArg() != 1 {
			return errors.New("conversations show: give one conversation id")
		}
		h, err := c.Conversations.History(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, h)
		}
		printHistory(stdout, h.Entries)
		return nil
	}
	return fmt.Errorf("conversations: unknown action %q (want list or show)", action)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
