// Command hatago is the Hatago command line. Its subcommands:
//
//	hatago ctl       talk to the control server of a running Hatago process
//	hatago migrate   apply and revert the SQL migrations of a directory
//	hatago seed      fill a database with a set of seed data
//
// Run `hatago COMMAND -h` for details.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hatago/hatago/control"
	"github.com/hatago/hatago/migrate"
)

const usage = `Usage: hatago COMMAND [ARGS]

Commands:
  ctl       control a running server (see: hatago ctl -h)
  migrate   apply and revert database migrations (see: hatago migrate -h)
  seed      fill a database with seed data (see: hatago seed -h)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "ctl":
		cli := &control.CLI{Stdout: stdout, Stderr: stderr, Getenv: getenv}
		return cli.Run(ctx, args[1:])
	case "migrate":
		cli := &migrate.CLI{Stdout: stdout, Stderr: stderr, Getenv: getenv}
		return cli.Run(ctx, args[1:])
	case "seed":
		return runSeed(ctx, args[1:], stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hatago: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
