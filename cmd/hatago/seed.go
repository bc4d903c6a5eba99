package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/seed"
	"github.com/hatago/hatago/seed/techempower"
)

// seedSets are the sets of seed data `hatago seed` knows, each with the
// migrations that create its tables.
var seedSets = []struct {
	name, doc  string
	seeders    func() []seed.Seeder
	migrations func() []migrate.Migration
}{
	{"techempower", "the TechEmpower benchmark's world (10,000 rows) and fortune (12 rows) tables",
		techempower.Seeders, techempower.Migrations},
}

const seedUsage = `Usage: hatago seed SET [flags] [SEEDER...]

Create a set's tables if they are missing and fill them; seeders skip what
is there already, so running them again is safe. See: hatago seed SET -h

Sets:
{{sets}}`

// runSeed runs `hatago seed SET ...`.
func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var sets strings.Builder
	for _, s := range seedSets {
		fmt.Fprintf(&sets, "  %-13s %s\n", s.name, s.doc)
	}
	usage := strings.Replace(seedUsage, "{{sets}}", sets.String(), 1)
	if len(args) == 0 {
		fmt.Fprintf(stderr, "hatago seed: missing SET\n\n%s", usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	for _, s := range seedSets {
		if s.name == args[0] {
			cli := &seed.CLI{
				Name:       "hatago seed " + s.name,
				Seeders:    s.seeders(),
				Migrations: s.migrations(),
				Stdout:     stdout,
				Stderr:     stderr,
				Getenv:     getenv,
			}
			return cli.Run(ctx, args[1:])
		}
	}
	fmt.Fprintf(stderr, "hatago seed: unknown set %q\n\n%s", args[0], usage)
	return 2
}
