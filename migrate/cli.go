package migrate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hatago/hatago/query"
)

// EnvDatabaseURL names the environment variable that gives the command
// line's --db flag its default.
const EnvDatabaseURL = "HATAGO_DATABASE_URL"

const cliUsage = `Usage: {{name}} COMMAND [flags]

Apply and revert versioned database migrations.

Commands:
  up             apply the pending migrations, each in its own transaction
  down [N|all]   revert the newest N applied migrations (default 1), or all
  status         list the migrations, applied (when) or pending
  new NAME       write empty NAME migration files (up and down) into --dir

Flags (before or after COMMAND):
  --db URL       the database: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB
                 (default $` + EnvDatabaseURL + `)
  --dir DIR      {{dir}} (default {{default}})
  --to VERSION   up: stop after VERSION; down: revert every migration after VERSION

Migrations are files VERSION_NAME.up.sql and VERSION_NAME.down.sql. Several
processes may run up at once (cluster workers starting): each migration is
applied once.
`

// CLI is the migrate command line: `hatago migrate` runs it over a
// directory of SQL files, and a program that embeds its migrations can
// offer the same subcommands over them:
//
//	//go:embed migrations/*.sql
//	var files embed.FS
//
//	migrations, err := migrate.FromFS(files, "migrations")
//	...
//	cli := &migrate.CLI{Name: "myapp migrate", Migrations: migrations}
//	os.Exit(cli.Run(ctx, os.Args[2:]))
//
// Set its fields, then call Run. A CLI is safe for concurrent use if its
// writers are.
type CLI struct {
	// Name is the command as typed, for usage and messages: "hatago
	// migrate" when empty.
	Name string
	// Migrations are the migrations up, down and status run. When nil
	// they are read from the --dir directory (FromFS), which new also
	// writes to in either case.
	Migrations []Migration
	// Dir is --dir's default: "migrations" when empty.
	Dir string
	// Stdout receives results; nil means os.Stdout.
	Stdout io.Writer
	// Stderr receives errors and usage; nil means os.Stderr.
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Now gives new its version (a timestamp); nil means time.Now.
	Now func() time.Time
}

// cliOptions are the parsed flags and arguments of one run.
type cliOptions struct {
	db, dir, to string
	command     string
	args        []string
}

// usageError is an error that calls for the usage text and exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Run runs the command line args (the arguments after "migrate") and
// returns the exit code: 0 on success, 1 if the command failed (the
// database is unreachable, a migration failed), 2 for a usage error. It
// writes errors to Stderr, each on one line.
func (c *CLI) Run(ctx context.Context, args []string) int {
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	opts, err := c.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, c.usage())
		return 0
	}
	if err == nil {
		err = c.run(ctx, opts, stdout)
	}
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %s\n\n%s", c.name(), err, c.usage())
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %s\n", c.name(), oneLine(err.Error()))
		return 1
	}
}

func (c *CLI) name() string {
	if c.Name == "" {
		return "hatago migrate"
	}
	return c.Name
}

func (c *CLI) dir() string {
	if c.Dir == "" {
		return "migrations"
	}
	return c.Dir
}

func (c *CLI) usage() string {
	dir := "the directory of the migration files"
	if c.Migrations != nil {
		dir = "where new writes migration files"
	}
	return strings.NewReplacer("{{name}}", c.name(), "{{dir}}", dir, "{{default}}", c.dir()).Replace(cliUsage)
}

// parse reads flags before and after the command. Its errors are usage
// errors, or flag.ErrHelp.
func (c *CLI) parse(args []string) (cliOptions, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var opts cliOptions
	fs := flag.NewFlagSet(c.name(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&opts.db, "db", getenv(EnvDatabaseURL), "")
	fs.StringVar(&opts.dir, "dir", c.dir(), "")
	fs.StringVar(&opts.to, "to", "", "")

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return opts, err
			}
			return opts, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) == 0 {
		return opts, usagef("missing command")
	}
	opts.command, opts.args = positional[0], positional[1:]
	nargs := map[string]int{"up": 0, "down": 1, "status": 0, "new": 1}
	n, ok := nargs[opts.command]
	switch {
	case opts.command == "help":
		return opts, flag.ErrHelp
	case !ok:
		return opts, usagef("unknown command %q", opts.command)
	case opts.command == "new" && len(opts.args) == 0:
		return opts, usagef("new: missing NAME")
	case len(opts.args) > n:
		return opts, usagef("%s: unexpected argument %q", opts.command, opts.args[n])
	case opts.to != "" && opts.command != "up" && opts.command != "down":
		return opts, usagef("%s: --to is for up and down", opts.command)
	case opts.to != "" && len(opts.args) > 0:
		return opts, usagef("down: give N or --to, not both")
	}
	return opts, nil
}

func (c *CLI) run(ctx context.Context, opts cliOptions, stdout io.Writer) error {
	if opts.command == "new" {
		return c.create(opts, stdout)
	}
	var to int64
	if opts.to != "" {
		v, err := strconv.ParseInt(opts.to, 10, 64)
		if err != nil || v < 0 {
			return usagef("--to %q: want a version number", opts.to)
		}
		to = v
	}
	steps := 1
	if opts.command == "down" && len(opts.args) == 1 {
		if opts.args[0] == "all" {
			steps = 0
		} else if n, err := strconv.Atoi(opts.args[0]); err == nil && n >= 1 {
			steps = n
		} else {
			return usagef("down: %q is not a number of migrations (N >= 1, or all)", opts.args[0])
		}
	}
	if opts.db == "" {
		return usagef("no database: pass --db URL or set %s", EnvDatabaseURL)
	}
	migrations := c.Migrations
	if migrations == nil {
		if fi, err := os.Stat(opts.dir); err != nil || !fi.IsDir() {
			return usagef("no migrations directory %s: pass --dir DIR", opts.dir)
		}
		var err error
		if migrations, err = FromFS(os.DirFS(opts.dir), "."); err != nil {
			return fmt.Errorf("%s: %w", opts.dir, err)
		}
	}
	db, err := query.Open(ctx, opts.db)
	if err != nil {
		return fmt.Errorf("cannot open the database: %w", err)
	}
	defer db.Close()
	m, err := New(db, migrations, Log(stdout))
	if err != nil {
		return err
	}
	switch opts.command {
	case "up":
		var done []Migration
		if opts.to != "" {
			done, err = m.UpTo(ctx, to)
		} else {
			done, err = m.Up(ctx)
		}
		if err != nil {
			return err
		}
		return summary(ctx, m, stdout, len(done), "applied", "nothing to apply")
	case "down":
		var done []Migration
		switch {
		case opts.to != "":
			done, err = m.DownTo(ctx, to)
		case steps == 0:
			done, err = m.DownTo(ctx, 0)
		default:
			done, err = m.Down(ctx, steps)
		}
		if err != nil {
			return err
		}
		return summary(ctx, m, stdout, len(done), "reverted", "nothing to revert")
	default:
		return status(ctx, m, stdout)
	}
}

// summary ends up and down with the count and the version the database is
// at.
func summary(ctx context.Context, m *Migrator, w io.Writer, n int, verb, none string) error {
	states, err := m.Status(ctx)
	if err != nil {
		return err
	}
	var at int64
	pending := 0
	for _, s := range states {
		if s.Applied {
			at = max(at, s.Version)
		} else {
			pending++
		}
	}
	version := "no migration applied"
	if at > 0 {
		version = "at version " + strconv.FormatInt(at, 10)
	}
	if n == 0 {
		fmt.Fprintf(w, "%s; %s, %d pending\n", none, version, pending)
	} else {
		fmt.Fprintf(w, "%s %d %s; %s, %d pending\n", verb, n, plural(n, "migration"), version, pending)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func status(ctx context.Context, m *Migrator, w io.Writer) error {
	states, err := m.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	applied, pending, unknown := 0, 0, 0
	for _, s := range states {
		at := "pending"
		switch {
		case s.Unknown:
			unknown++
			at = s.AppliedAt.Format(time.DateTime) + " UTC (no such migration)"
		case s.Applied:
			applied++
			at = s.AppliedAt.Format(time.DateTime) + " UTC"
		default:
			pending++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.Name, at)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d applied, %d pending", applied, pending)
	if unknown > 0 {
		fmt.Fprintf(w, ", %d applied but unknown here", unknown)
	}
	fmt.Fprintln(w)
	return nil
}

var migrationName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// create writes a new migration's two empty files.
func (c *CLI) create(opts cliOptions, stdout io.Writer) error {
	name := opts.args[0]
	if !migrationName.MatchString(name) {
		return usagef("new: name %q: use letters, digits and _ (such as create_users)", name)
	}
	if err := os.MkdirAll(opts.dir, 0o755); err != nil {
		return err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	version, err := nextVersion(opts.dir, now())
	if err != nil {
		return err
	}
	for _, dir := range []string{"up", "down"} {
		file := filepath.Join(opts.dir, version+"_"+name+"."+dir+".sql")
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s\n", file)
	}
	return nil
}

// nextVersion picks the version of a new migration in dir: the next
// number, as wide as the last, when the directory numbers its migrations
// (0001, 0002, ...), else the time now in UTC as YYYYMMDDhhmmss, or the
// newest version plus one if that is not newer.
func nextVersion(dir string, now time.Time) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var newest int64
	width := 0
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if v, err := strconv.ParseInt(m[1], 10, 64); err == nil && v > newest {
			newest, width = v, len(m[1])
		}
	}
	if newest > 0 && newest < 1e8 {
		return fmt.Sprintf("%0*d", width, newest+1), nil
	}
	v, _ := strconv.ParseInt(now.UTC().Format("20060102150405"), 10, 64)
	return strconv.FormatInt(max(v, newest+1), 10), nil
}

// oneLine joins the lines of a message into one, and its runs of white
// space into single spaces: for drivers' multi-line errors on a command
// line.
func oneLine(msg string) string { return strings.Join(strings.Fields(msg), " ") }
