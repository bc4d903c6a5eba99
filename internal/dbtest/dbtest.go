// Package dbtest hands tests of Hatago's data layer the real databases
// they run against: SQLite in a temporary directory, always, and
// PostgreSQL when one is configured.
//
// # Environment
//
//   - HATAGO_TEST_POSTGRES: the URL of a PostgreSQL database the tests may
//     create schemas in, such as
//     postgres://hatago:hatago@127.0.0.1:5432/hatago_test?sslmode=disable.
//     scripts/postgres starts this machine's PostgreSQL 15, makes that role
//     and database and prints the line that sets it:
//     eval "$(scripts/postgres)". .ci/run does the same before the tests.
//   - CI: when it is "true", a missing HATAGO_TEST_POSTGRES fails the test
//     instead of leaving PostgreSQL out, so that CI cannot pass by skipping.
//
// # Isolation
//
// Every PostgreSQL [Target] gets a new schema of its own, named t_ and 16
// random hex digits, and a URL whose search_path parameter names only that
// schema, so tables created without a schema land there. Tests, parallel
// tests and the parallel processes of go test's packages never see each
// other's tables. The schema is dropped, with everything in it, when the
// test that asked for it ends. Tests must leave the schema alone: a test
// that qualifies names with another schema (public, say) gives that up.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvPostgres names the environment variable that holds the URL of the
// PostgreSQL database to test against.
const EnvPostgres = "HATAGO_TEST_POSTGRES"

// timeout bounds each statement dbtest runs on PostgreSQL, connecting
// included.
const timeout = 30 * time.Second

// Target is one database to run a test against.
type Target struct {
	// Name is "sqlite" or "postgres", the name of the dialect that speaks
	// to it.
	Name string
	// URL opens the database: sqlite:/path/to/test.db, or a postgres://
	// URL whose search_path is the target's own schema.
	URL string
}

// Targets returns a new, empty SQLite database and, when PostgreSQL is
// configured (see the package doc), a new, empty PostgreSQL schema, in that
// order. Without PostgreSQL it leaves it out and logs how to enable it, or
// fails tb when the CI environment variable is "true". It fails tb when
// PostgreSQL is configured but cannot be reached. Both are removed when tb's
// test ends. It is safe for concurrent use.
func Targets(tb testing.TB) []Target {
	tb.Helper()
	targets := []Target{SQLite(tb)}
	if base := postgresURL(tb); base != "" {
		targets = append(targets, newPostgres(tb, base))
	} else {
		tb.Logf("dbtest: PostgreSQL left out: %s", notSet)
	}
	return targets
}

// Each runs fn as a subtest of t for each target that [Targets] would
// return, named for the target ("sqlite", "postgres"). Each subtest gets a
// database of its own, removed when it ends; fn may call t.Parallel.
func Each(t *testing.T, fn func(t *testing.T, tg Target)) {
	t.Helper()
	base := postgresURL(t)
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	if base != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, newPostgres(t, base)) })
	} else {
		t.Logf("dbtest: PostgreSQL left out: %s", notSet)
	}
}

// SQLite returns a target for a new SQLite database file in tb.TempDir().
// The file does not exist yet; the driver creates it on first use. It is
// safe for concurrent use.
func SQLite(tb testing.TB) Target {
	tb.Helper()
	return Target{Name: "sqlite", URL: "sqlite:" + filepath.Join(tb.TempDir(), "test.db")}
}

// Postgres returns a target for a new, empty schema in the database that
// HATAGO_TEST_POSTGRES names, dropped when tb's test ends. It is for tests
// of what only PostgreSQL has: without PostgreSQL it skips tb, or fails it
// when the CI environment variable is "true". It fails tb when PostgreSQL
// cannot be reached. It is safe for concurrent use.
func Postgres(tb testing.TB) Target {
	tb.Helper()
	base := postgresURL(tb)
	if base == "" {
		tb.Skipf("dbtest: PostgreSQL only: %s", notSet)
	}
	return newPostgres(tb, base)
}

// Messages that tell a developer how to test against PostgreSQL too.
const (
	enable = `eval "$(scripts/postgres)" in the repository's root`
	notSet = EnvPostgres + " is not set; to enable: " + enable
)

// postgresURL returns HATAGO_TEST_POSTGRES, or "" when it is unset. When it
// is unset on CI it fails tb instead.
func postgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base != "" {
		return base
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("dbtest: %s is not set on CI: .ci/run must start PostgreSQL (scripts/postgres) and export it", EnvPostgres)
	}
	return ""
}

// newPostgres creates a schema in the database at base and returns a target
// for it. It registers the schema's removal with tb.
func newPostgres(tb testing.TB, base string) Target {
	tb.Helper()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("dbtest: %s must be a postgres:// URL, got %q", EnvPostgres, base)
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()

	ctx, cancel := context.WithTimeout(tb.Context(), timeout)
	defer cancel()
	if err := run(ctx, base, "CREATE SCHEMA "+ident); err != nil {
		tb.Fatalf("dbtest: create schema %s in %s's database (is PostgreSQL running? %s): %v",
			schema, EnvPostgres, enable, err)
	}
	tb.Cleanup(func() {
		// tb.Context is done by now. Cleanups run last in, first out, so
		// the test's own, registered later, have closed its connections.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := run(ctx, base, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			tb.Errorf("dbtest: drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return Target{Name: "postgres", URL: u.String()}
}

// run runs one statement on a connection of its own to the database at
// connURL.
func run(ctx context.Context, connURL, sql string) error {
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
