// Command tramontane is a self-hosted server for the Mistral Agents API.
//
// Usage:
//
//	tramontane serve [flags]          run the server
//	tramontane keys create|list|revoke manage API keys
//	tramontane migrate [flags]        apply database migrations and exit
//	tramontane version                print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `tramontane: a self-hosted server for the Mistral Agents API

Usage:
  tramontane serve   [flags]   run the server (default: SQLite and files under ./data)
  tramontane keys create --name NAME [--workspace WS] [--rps N] [--tpm N] [-q]
  tramontane keys list   [--workspace WS]
  tramontane keys revoke KEY_ID_OR_PREFIX
  tramontane migrate [flags]   apply database migrations and exit
  tramontane migrate-blobs --from local --to postgres [-q]
                               copy every file blob into another blob store
  tramontane version

Every subcommand accepts the storage flags (--data-dir, --database-url,
--config); see docs/configuration.md for every setting and its TRAMONTANE_*
environment variable.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "keys":
		err = keys(args[1:], stdout)
	case "migrate":
		err = migrate(args[1:], stdout)
	case "migrate-blobs":
		err = migrateBlobs(args[1:], stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "tramontane", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "tramontane: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "tramontane:", err)
		return 1
	}
	return 0
}

func newLogger(c config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func loadFlags(name string, args []string) (*flag.FlagSet, config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := config.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, config.Config{}, err
	}
	c, err := config.Load(f)
	return fs, c, err
}

func serve(args []string, stderr io.Writer) error {
	_, c, err := loadFlags("serve", args)
	if err != nil {
		return err
	}
	logger := newLogger(c, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, c, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	logger.Info("tramontane starting", "version", version, "config", c.Redacted().ConfigFile)
	return a.Serve(ctx, nil)
}

func migrate(args []string, stdout io.Writer) error {
	_, c, err := loadFlags("migrate", args)
	if err != nil {
		return err
	}
	db, err := app.OpenStore(context.Background(), c)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", db.Backend())
	return nil
}

func keys(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("keys: want create, list or revoke")
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	f := config.RegisterFlags(fs)
	name := fs.String("name", "", "key name (per service), required for create")
	workspace := fs.String("workspace", "", "workspace name (default \"default\")")
	rps := fs.Float64("rps", 0, "requests per second limit (0: none)")
	tpm := fs.Int64("tpm", 0, "tokens per minute limit (0: none)")
	tier := fs.String("tier", "", "named rate-limit tier from the config file")
	quiet := fs.Bool("q", false, "print only the new key")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := config.Load(f)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := app.OpenStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := auth.New(db)
	switch args[0] {
	case "create":
		k, secret, err := svc.Create(ctx, auth.CreateOptions{Workspace: *workspace, Name: *name, RPS: *rps, TPM: *tpm, Tier: *tier})
		if err != nil {
			return err
		}
		if *quiet {
			fmt.Fprintln(stdout, secret)
			return nil
		}
		fmt.Fprintf(stdout, "Created key %s (%s) in workspace %q.\nIt is shown only once; store it now:\n\n  %s\n", k.ID, k.Name, wsName(*workspace), secret)
	case "list":
		list, err := svc.List(ctx, *workspace)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tWORKSPACE\tCREATED\tLAST USED\tSTATUS")
		for _, k := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.WorkspaceID, k.CreatedAt.Format(time.RFC3339), when(k.LastUsedAt), status(k))
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("keys revoke: give one key id or prefix")
		}
		if err := svc.Revoke(ctx, fs.Arg(0)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no active key %q", fs.Arg(0))
			}
			return err
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
	default:
		return fmt.Errorf("keys: unknown action %q (want create, list or revoke)", args[0])
	}
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
