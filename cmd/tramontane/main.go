// Command tramontane is a self-hosted server for the Mistral Agents API.
//
// Usage:
//
//	tramontane serve [flags]          run the server
//	tramontane keys create|list|revoke manage API keys
//	tramontane migrate [flags]        apply database migrations and exit
//	tramontane version                print the version
//
// "tramontane COMMAND --help" prints that command's own flags.
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

	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand. Each command owns its flag set (see flagSet),
// so that "tramontane NAME --help" prints that command's flags only.
// Commands defined in other files of this package add themselves with
// register from an init function; the usage lists them in that order.
type command struct {
	name    string
	args    string // the usage after the name, e.g. "[flags]"
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

func init() {
	register(command{"serve", "[flags]", "run the server (default: SQLite and files under ./data)", serve})
	register(command{"keys", "create|list|revoke [flags]", "manage API keys", keys})
	register(command{"migrate", "[flags]", "apply database migrations and exit", migrate})
	register(command{"version", "", "print the version", printVersion})
}

func printVersion(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("version", "", "Print the version.", stdout, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "tramontane", version)
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, "tramontane: a self-hosted server for the Mistral Agents API\n\nUsage:\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  tramontane %s %s\t%s\n", c.name, c.args, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprint(w, "\n\"tramontane COMMAND --help\" lists a command's flags. Every setting and its\n"+
		"TRAMONTANE_* environment variable: docs/configuration.md.\n")
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		usage(stdout)
		return 0
	case "--version", "-v":
		args = []string{"version"}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintln(stderr, "tramontane:", err)
			return 2
		default:
			fmt.Fprintln(stderr, "tramontane:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "tramontane: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// flagSet returns the flag set of "tramontane NAME". Its --help prints the
// usage line, desc and the set's flags to stdout; parse errors go to
// stderr.
func flagSet(name, args, desc string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: tramontane %s %s\n\n%s\n", name, args, desc)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprint(stdout, "\nFlags:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(stderr)
		}
	}
	return fs
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

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("serve", "[flags]", "Run the server. Every flag has a TRAMONTANE_* environment variable (docs/configuration.md).", stdout, stderr)
	f := config.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	c, err := config.Load(f)
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

func migrate(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("migrate", "[flags]", "Apply the database migrations and exit.", stdout, stderr)
	f := config.RegisterStorageFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("migrate: unexpected argument %q", fs.Arg(0))}
	}
	c, err := config.Load(f)
	if err != nil {
		return err
	}
	db, err := openStore(c, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", db.Backend())
	return nil
}

// openStore opens the configured database and says on stderr which one
// it is, so that a command run from another directory (where a relative
// ./data is another database) does not silently work on the wrong one.
func openStore(c config.Config, stderr io.Writer) (*sqlstore.DB, error) {
	desc, path := sqlstore.Location(c.DatabaseURL, c.DataDir)
	fresh := false
	if path != "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			fresh = true
		}
	}
	db, err := app.OpenStore(context.Background(), c)
	if err != nil {
		return nil, err
	}
	if fresh {
		fmt.Fprintf(stderr, "tramontane: created a new %s (there was none; if the server uses another, pass its --data-dir or --database-url)\n", desc)
	} else {
		fmt.Fprintf(stderr, "tramontane: using the %s\n", desc)
	}
	return db, nil
}
