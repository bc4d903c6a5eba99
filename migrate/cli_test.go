package migrate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/migrate"
)

// runCLI runs cli with args and returns its exit code and output.
func runCLI(t testing.TB, cli *migrate.CLI, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cli.Stdout, cli.Stderr = &out, &errOut
	if cli.Getenv == nil {
		cli.Getenv = func(string) string { return "" }
	}
	code = cli.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestCLI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		dir := t.TempDir()
		now := time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
		cli := &migrate.CLI{Now: func() time.Time { return now }}

		// new writes the two empty files; a second in the same second
		// gets the next version.
		code, stdout, stderr := runCLI(t, cli, "new", "create_users", "--dir", dir)
		want := "created " + filepath.Join(dir, "20261122150405_create_users.up.sql") + "\n" +
			"created " + filepath.Join(dir, "20261122150405_create_users.down.sql") + "\n"
		if code != 0 || stdout != want {
			t.Fatalf("new: got %d, %q (stderr %q), want 0, %q", code, stdout, stderr, want)
		}
		if code, stdout, _ := runCLI(t, cli, "new", "--dir", dir, "add_email"); code != 0 || !strings.Contains(stdout, "20261122150406_add_email.up.sql") {
			t.Fatalf("second new: got %d, %q, want version 20261122150406", code, stdout)
		}
		write := func(name, sql string) {
			t.Helper()
			if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("20261122150405_create_users.up.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n")
		write("20261122150405_create_users.down.sql", "DROP TABLE users;\n")
		write("20261122150406_add_email.up.sql", "ALTER TABLE users ADD COLUMN email VARCHAR(100);\n")
		write("20261122150406_add_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n")

		code, stdout, stderr = runCLI(t, cli, "status", "--db", tg.URL, "--dir", dir)
		if code != 0 || !matches(stdout, `(?m)^20261122150405\s+create_users\s+pending$`) || !strings.HasSuffix(stdout, "0 applied, 2 pending\n") {
			t.Errorf("status before up: got %d, %q (stderr %q)", code, stdout, stderr)
		}

		code, stdout, stderr = runCLI(t, cli, "up", "--db", tg.URL, "--dir", dir, "--to", "20261122150405")
		if code != 0 || !matches(stdout, `^applied 20261122150405_create_users \([0-9.]+m?s\)\napplied 1 migration; at version 20261122150405, 1 pending\n$`) {
			t.Errorf("up --to: got %d, %q (stderr %q)", code, stdout, stderr)
		}
		code, stdout, stderr = runCLI(t, cli, "--db", tg.URL, "--dir", dir, "up")
		if code != 0 || !matches(stdout, `^applied 20261122150406_add_email \([0-9.]+m?s\)\napplied 1 migration; at version 20261122150406, 0 pending\n$`) {
			t.Errorf("up: got %d, %q (stderr %q)", code, stdout, stderr)
		}
		code, stdout, _ = runCLI(t, cli, "up", "--db", tg.URL, "--dir", dir)
		if want := "nothing to apply; at version 20261122150406, 0 pending\n"; code != 0 || stdout != want {
			t.Errorf("up again: got %d, %q, want %q", code, stdout, want)
		}

		code, stdout, _ = runCLI(t, cli, "status", "--db", tg.URL, "--dir", dir)
		if code != 0 || !matches(stdout, `(?m)^20261122150406\s+add_email\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`) || !strings.HasSuffix(stdout, "2 applied, 0 pending\n") {
			t.Errorf("status after up: got %d, %q", code, stdout)
		}

		code, stdout, stderr = runCLI(t, cli, "down", "--db", tg.URL, "--dir", dir)
		if code != 0 || !matches(stdout, `^reverted 20261122150406_add_email \([0-9.]+m?s\)\nreverted 1 migration; at version 20261122150405, 1 pending\n$`) {
			t.Errorf("down: got %d, %q (stderr %q)", code, stdout, stderr)
		}
		code, stdout, stderr = runCLI(t, cli, "up", "--db", tg.URL, "--dir", dir)
		if code != 0 {
			t.Errorf("up after down: got %d, %q (stderr %q)", code, stdout, stderr)
		}
		code, stdout, stderr = runCLI(t, cli, "down", "all", "--db", tg.URL, "--dir", dir)
		if code != 0 || !strings.HasSuffix(stdout, "reverted 2 migrations; no migration applied, 2 pending\n") {
			t.Errorf("down all: got %d, %q (stderr %q)", code, stdout, stderr)
		}

		// A failing migration: exit 1, the error on stderr, the ones
		// before applied.
		write("20261122150407_broken.up.sql", "CREATE TABLE t (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n")
		code, stdout, stderr = runCLI(t, cli, "up", "--db", tg.URL, "--dir", dir)
		if code != 1 || strings.Count(stdout, "applied ") != 2 || !strings.HasPrefix(stderr, "hatago migrate: migrate up 20261122150407_broken: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("up with a broken migration: got %d, %q, %q", code, stdout, stderr)
		}
		code, stdout, _ = runCLI(t, cli, "status", "--db", tg.URL, "--dir", dir)
		if code != 0 || !matches(stdout, `(?m)^20261122150407\s+broken\s+pending$`) {
			t.Errorf("status after a broken migration: got %d, %q", code, stdout)
		}
	})
}

// TestCLIEmbedded runs a CLI as a program that embeds its migrations does:
// Migrations set, the URL from the environment.
func TestCLIEmbedded(t *testing.T) {
	ms, err := migrate.FromFS(testdata, "testdata/migrations")
	if err != nil {
		t.Fatal(err)
	}
	url := dbtest.SQLite(t).URL
	cli := &migrate.CLI{Name: "myapp migrate", Migrations: ms, Getenv: func(k string) string {
		if k == migrate.EnvDatabaseURL {
			return url
		}
		return ""
	}}
	code, stdout, stderr := runCLI(t, cli, "up")
	if code != 0 || !strings.HasSuffix(stdout, "applied 3 migrations; at version 3, 0 pending\n") {
		t.Errorf("up: got %d, %q (stderr %q)", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, cli, "help")
	if code != 0 || !strings.HasPrefix(stdout, "Usage: myapp migrate COMMAND") || !strings.Contains(stdout, "where new writes migration files") {
		t.Errorf("help: got %d, %q", code, stdout)
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "1_a.up.sql"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "1-a.up.sql"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-pw"
	unreachable := "postgres://hatago:" + secret + "@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=5"
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "hatago migrate: missing command\n\nUsage: hatago migrate COMMAND"},
		{"unknown command", []string{"sideways"}, 2, "", `hatago migrate: unknown command "sideways"`},
		{"help", []string{"help"}, 0, "Usage: hatago migrate COMMAND", ""},
		{"-h", []string{"-h"}, 0, "down [N|all]", ""},
		{"unknown flag", []string{"up", "--verbose"}, 2, "", "flag provided but not defined: -verbose"},
		{"no database", []string{"up", "--dir", dir}, 2, "", "hatago migrate: no database: pass --db URL or set HATAGO_DATABASE_URL\n"},
		{"no directory", []string{"up", "--db", "sqlite::memory:", "--dir", filepath.Join(dir, "nope")}, 2, "", "no migrations directory " + filepath.Join(dir, "nope") + ": pass --dir DIR"},
		{"misnamed file", []string{"status", "--db", "sqlite::memory:", "--dir", bad}, 1, "", "1-a.up.sql: want VERSION_NAME.up.sql"},
		{"unreachable", []string{"status", "--db", unreachable, "--dir", dir}, 1, "", "hatago migrate: cannot open the database: "},
		{"bad URL", []string{"status", "--db", "mysql://x", "--dir", dir}, 1, "", "want sqlite:PATH, sqlite::memory: or postgres://"},
		{"down N", []string{"down", "zero", "--db", "sqlite::memory:"}, 2, "", `down: "zero" is not a number of migrations`},
		{"down N and --to", []string{"down", "2", "--to", "1", "--db", "sqlite::memory:"}, 2, "", "down: give N or --to, not both"},
		{"--to for status", []string{"status", "--to", "1"}, 2, "", "status: --to is for up and down"},
		{"--to not a number", []string{"up", "--to", "v1", "--db", "sqlite::memory:", "--dir", dir}, 2, "", `--to "v1": want a version number`},
		{"--to unknown", []string{"up", "--to", "7", "--db", "sqlite::memory:", "--dir", dir}, 1, "", "no migration has this version: UpTo 7"},
		{"extra argument", []string{"up", "now"}, 2, "", `up: unexpected argument "now"`},
		{"new without name", []string{"new"}, 2, "", "new: missing NAME"},
		{"new bad name", []string{"new", "add email", "--dir", dir}, 2, "", `new: name "add email": use letters, digits and _`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, &migrate.CLI{}, tt.args...)
			if code != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if strings.Contains(stderr, secret) {
				t.Errorf("stderr shows the password: %q", stderr)
			}
		})
	}
}

func TestCLINewNumbered(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"0001_a.up.sql", "0009_b.up.sql", "0009_b.down.sql"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, &migrate.CLI{}, "new", "c", "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "0010_c.up.sql") {
		t.Errorf("new: got %d, %q (stderr %q), want version 0010", code, stdout, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	want := []string{"0001_a.up.sql", "0009_b.down.sql", "0009_b.up.sql", "0010_c.down.sql", "0010_c.up.sql"}
	if !slices.Equal(files, want) {
		t.Errorf("files: got %v, want %v", files, want)
	}
}

func matches(s, pattern string) bool { return regexp.MustCompile(pattern).MatchString(s) }
