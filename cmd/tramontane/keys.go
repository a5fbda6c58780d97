package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/store"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

const keysUsage = `Usage: tramontane keys ACTION [flags]

Actions:
  create --name NAME [--workspace WS] [--rps N] [--tpm N] [--tier T] [-q]
             create a key (its secret is printed once)
  list   [--workspace WS]
             list keys (never their secrets)
  revoke KEY_ID_OR_PREFIX
             revoke a key

"tramontane keys ACTION --help" lists an action's flags.
`

func keys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return usageError{"keys: give an action: create, list or revoke"}
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, keysUsage)
		return nil
	case "create":
		return keysCreate(args[1:], stdout, stderr)
	case "list":
		return keysList(args[1:], stdout, stderr)
	case "revoke":
		return keysRevoke(args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, keysUsage)
	return usageError{fmt.Sprintf("keys: unknown action %q (want create, list or revoke)", args[0])}
}

// loadStore reads the configuration (with the storage flags f) and opens
// the database.
func loadStore(f *config.Flags, stderr io.Writer) (*sqlstore.DB, error) {
	c, err := config.Load(f)
	if err != nil {
		return nil, err
	}
	return openStore(c, stderr)
}

func keysCreate(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("keys create", "--name NAME [flags]", "Create an API key. Its secret is printed once: store it.", stdout, stderr)
	f := config.RegisterStorageFlags(fs)
	name := fs.String("name", "", "key name, e.g. the service that uses it (required)")
	workspace := fs.String("workspace", "", "workspace name (default \"default\")")
	rps := fs.Float64("rps", 0, "requests per second limit (0: none)")
	tpm := fs.Int64("tpm", 0, "tokens per minute limit (0: none)")
	tier := fs.String("tier", "", "named rate-limit tier from the config file")
	quiet := fs.Bool("q", false, "print only the new key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("keys create: unexpected argument %q", fs.Arg(0))}
	}
	if strings.TrimSpace(*name) == "" {
		return usageError{"keys create: --name is required (a name for the key, e.g. the service that uses it)"}
	}
	db, err := loadStore(f, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	k, secret, err := auth.New(db).Create(context.Background(), auth.CreateOptions{Workspace: *workspace, Name: *name, RPS: *rps, TPM: *tpm, Tier: *tier})
	if err != nil {
		return err
	}
	if *quiet {
		fmt.Fprintln(stdout, secret)
		return nil
	}
	fmt.Fprintf(stdout, "Created key %s (%s) in workspace %q.\nIt is shown only once; store it now:\n\n  %s\n", k.ID, k.Name, wsName(*workspace), secret)
	return nil
}

func keysList(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("keys list", "[flags]", "List API keys (never their secrets).", stdout, stderr)
	f := config.RegisterStorageFlags(fs)
	workspace := fs.String("workspace", "", "only this workspace's keys")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("keys list: unexpected argument %q", fs.Arg(0))}
	}
	db, err := loadStore(f, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := auth.New(db).List(context.Background(), *workspace)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tWORKSPACE\tCREATED\tLAST USED\tSTATUS")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.WorkspaceID, k.CreatedAt.Format(time.RFC3339), when(k.LastUsedAt), status(k))
	}
	return tw.Flush()
}

func keysRevoke(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("keys revoke", "KEY_ID_OR_PREFIX [flags]", "Revoke an API key, by its id or a unique prefix of its secret.", stdout, stderr)
	f := config.RegisterStorageFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Flags may also follow the key.
	var targets []string
	for rest := fs.Args(); len(rest) > 0; rest = fs.Args() {
		targets = append(targets, rest[0])
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
	}
	if len(targets) != 1 {
		return usageError{"keys revoke: give one key id or prefix"}
	}
	db, err := loadStore(f, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := auth.New(db).Revoke(context.Background(), targets[0]); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no active key %q", targets[0])
		}
		return err
	}
	fmt.Fprintln(stdout, "revoked", targets[0])
	return nil
}

func wsName(s string) string {
	if s == "" {
		return auth.DefaultWorkspace
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}

func status(k store.APIKey) string {
	if k.RevokedAt != nil {
		return "revoked " + k.RevokedAt.Format(time.RFC3339)
	}
	return "active"
}
