package seed

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
)

const cliUsage = `Usage: {{name}} [flags] [SEEDER...]

Fill the database with seed data: the named seeders, or all of them, in
this order:
{{seeders}}
Seeders skip what is there already: running them again is safe.{{migrations}}

Flags:
  --db URL   the database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB
             (default $` + migrate.EnvDatabaseURL + `)
`

// CLI is the seed command line over a set of seeders: `hatago seed
// techempower` runs one, and a program can offer its own the same way.
// Progress goes to Stdout: a bar on a terminal, plain lines otherwise.
// Set its fields, then call Run. A CLI is safe for concurrent use if its
// writers are.
type CLI struct {
	// Name is the command as typed, for usage and messages: "hatago
	// seed" when empty.
	Name string
	// Seeders are the seeders to run, in order.
	Seeders []Seeder
	// Migrations, if any, are applied (migrate.Migrator.Up) before the
	// seeders run: the ones that create the tables they fill.
	Migrations []migrate.Migration
	// Stdout receives progress; nil means os.Stdout.
	Stdout io.Writer
	// Stderr receives errors and usage; nil means os.Stderr.
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Run runs the command line args and returns the exit code: 0 on success,
// 1 if seeding failed (or the database is unreachable), 2 for a usage
// error. It writes errors to Stderr, each on one line.
func (c *CLI) Run(ctx context.Context, args []string) int {
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	name := c.Name
	if name == "" {
		name = "hatago seed"
	}
	usage := c.usage(name)

	var dbURL string
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&dbURL, "db", getenv(migrate.EnvDatabaseURL), "")
	var names []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s\n\n%s", name, err, usage)
			return 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			names = append(names, rest...)
			break
		}
		names = append(names, rest[0])
		args = rest[1:]
	}
	if len(names) == 1 && names[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	seeders := c.Seeders
	if len(names) > 0 {
		seeders = nil
		for _, s := range c.Seeders {
			if slices.Contains(names, s.Name) {
				seeders = append(seeders, s)
			}
		}
		for _, n := range names {
			if !slices.ContainsFunc(c.Seeders, func(s Seeder) bool { return s.Name == n }) {
				fmt.Fprintf(stderr, "%s: unknown seeder %q\n\n%s", name, n, usage)
				return 2
			}
		}
	}
	if dbURL == "" {
		fmt.Fprintf(stderr, "%s: no database: pass --db URL or set %s\n\n%s", name, migrate.EnvDatabaseURL, usage)
		return 2
	}
	if err := c.seed(ctx, dbURL, seeders, stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(err.Error()))
		return 1
	}
	return 0
}

func (c *CLI) seed(ctx context.Context, dbURL string, seeders []Seeder, stdout io.Writer) error {
	db, err := query.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("cannot open the database: %w", err)
	}
	defer db.Close()
	if len(c.Migrations) > 0 {
		m, err := migrate.New(db, c.Migrations, migrate.Log(stdout))
		if err != nil {
			return err
		}
		if _, err := m.Up(ctx); err != nil {
			return err
		}
	}
	return Run(ctx, db, NewProgress(stdout), seeders...)
}

func (c *CLI) usage(name string) string {
	var list strings.Builder
	for _, s := range c.Seeders {
		fmt.Fprintf(&list, "  %s\n", s.Name)
	}
	migrations := ""
	if len(c.Migrations) > 0 {
		migrations = "\nThe tables they fill are created first if missing."
	}
	return strings.NewReplacer("{{name}}", name, "{{seeders}}", list.String(), "{{migrations}}", migrations).Replace(cliUsage)
}

// oneLine joins the lines of a message into one, and its runs of white
// space into single spaces: for drivers' multi-line errors on a command
// line.
func oneLine(msg string) string { return strings.Join(strings.Fields(msg), " ") }
