package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

// hatago runs the command line in-process and returns its exit code and
// output.
func hatago(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestMigrate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		dir := t.TempDir()
		code, stdout, stderr := hatago(t, nil, "migrate", "new", "create_notes", "--dir", dir)
		if code != 0 {
			t.Fatalf("new: exit %d, %s", code, stderr)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*_create_notes.*.sql"))
		if len(files) != 2 || !strings.Contains(stdout, files[0]) {
			t.Fatalf("new: wrote %v, said %q", files, stdout)
		}
		for _, f := range files {
			sql := "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
			if strings.HasSuffix(f, ".down.sql") {
				sql = "DROP TABLE notes;"
			}
			if err := os.WriteFile(f, []byte(sql), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		env := map[string]string{"HATAGO_DATABASE_URL": tg.URL}
		steps := []struct {
			args []string
			want string // a regular expression stdout must match
		}{
			{[]string{"migrate", "status", "--dir", dir}, `(?m)^\d{14}\s+create_notes\s+pending$`},
			{[]string{"migrate", "up", "--dir", dir}, `^applied \d{14}_create_notes \([0-9.]+m?s\)\napplied 1 migration; at version \d{14}, 0 pending\n$`},
			{[]string{"migrate", "status", "--dir", dir}, `(?m)^\d{14}\s+create_notes\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`},
			{[]string{"migrate", "down", "--dir", dir}, `^reverted \d{14}_create_notes \([0-9.]+m?s\)\nreverted 1 migration; no migration applied, 1 pending\n$`},
		}
		for _, s := range steps {
			code, stdout, stderr := hatago(t, env, s.args...)
			if code != 0 || !regexp.MustCompile(s.want).MatchString(stdout) {
				t.Errorf("hatago %s: exit %d, stdout %q, stderr %q; want stdout matching %s", strings.Join(s.args, " "), code, stdout, stderr, s.want)
			}
		}
	})
}

func TestSeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		code, stdout, stderr := hatago(t, nil, "seed", "techempower", "--db", tg.URL)
		if code != 0 || !regexp.MustCompile(`^applied 20250101000001_create_world \([0-9.]+m?s\)\napplied 20250101000002_create_fortune \([0-9.]+m?s\)\n(seed world: \d+/10000 rows \(\d+%\)\n)*seed world: 10000 rows in .*\nseed fortune: 12 rows in .*\n$`).MatchString(stdout) {
			t.Errorf("seed techempower: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		code, stdout, _ = hatago(t, nil, "seed", "techempower", "--db", tg.URL)
		if want := "seed world: already seeded (10000 rows)\nseed fortune: already seeded (12 rows)\n"; code != 0 || stdout != want {
			t.Errorf("seed techempower again: exit %d, stdout %q, want %q", code, stdout, want)
		}
		db, err := query.Open(context.Background(), tg.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n, err := db.Table("world").Count(context.Background()); err != nil || n != 10000 {
			t.Errorf("world rows: got %d, %v, want 10000", n, err)
		}
	})
}

func TestDataErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"help lists migrate and seed", []string{"help"}, 0, "migrate   apply and revert database migrations", ""},
		{"migrate help", []string{"migrate", "-h"}, 0, "Usage: hatago migrate COMMAND [flags]", ""},
		{"migrate no command", []string{"migrate"}, 2, "", "hatago migrate: missing command"},
		{"migrate unknown command", []string{"migrate", "redo"}, 2, "", `hatago migrate: unknown command "redo"`},
		{"migrate no database", []string{"migrate", "up"}, 2, "", "hatago migrate: no database: pass --db URL or set HATAGO_DATABASE_URL"},
		{"migrate unreachable", []string{"migrate", "status", "--dir", ".", "--db", "postgres://hatago:hunter2@127.0.0.1:1/x?connect_timeout=5"}, 1, "", "hatago migrate: cannot open the database: hatago/query: "},
		{"seed no set", []string{"seed"}, 2, "", "hatago seed: missing SET"},
		{"seed help", []string{"seed", "-h"}, 0, "techempower   the TechEmpower benchmark's world", ""},
		{"seed unknown set", []string{"seed", "tpcc"}, 2, "", `hatago seed: unknown set "tpcc"`},
		{"seed set help", []string{"seed", "techempower", "-h"}, 0, "Usage: hatago seed techempower [flags] [SEEDER...]", ""},
		{"seed no database", []string{"seed", "techempower"}, 2, "", "hatago seed techempower: no database: pass --db URL"},
		{"seed unknown seeder", []string{"seed", "techempower", "planets", "--db", "sqlite::memory:"}, 2, "", `hatago seed techempower: unknown seeder "planets"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := hatago(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) || strings.Contains(stderr, "hunter2") {
				t.Errorf("stderr: got %q, want it to contain %q (and no password)", stderr, tt.wantStderr)
			}
		})
	}
}
