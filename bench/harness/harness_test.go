package harness

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago/bench/verify"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDatabaseURL(t *testing.T) {
	const test = "postgres://u:p@127.0.0.1:5432/hatago_test?sslmode=disable"
	tests := []struct {
		name      string
		flag      string
		env       map[string]string
		db, admin string
		err       bool
	}{
		{"flag wins", "postgres://x/y", map[string]string{EnvDB: "postgres://a/b", EnvTestDB: test}, "postgres://x/y", "", false},
		{"bench variable", "", map[string]string{EnvDB: "postgres://a/b", EnvTestDB: test}, "postgres://a/b", "", false},
		{"derived from the tests' database", "", map[string]string{EnvTestDB: test},
			"postgres://u:p@127.0.0.1:5432/hatago_bench?sslmode=disable", test, false},
		{"nothing", "", nil, "", "", true},
		{"not a URL", "", map[string]string{EnvTestDB: "host=x dbname=y"}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, admin, err := DatabaseURL(tt.flag, env(tt.env))
			if (err != nil) != tt.err || db != tt.db || admin != tt.admin {
				t.Errorf("got %q, %q, %v; want %q, %q, error %v", db, admin, err, tt.db, tt.admin, tt.err)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	cwd, _ := os.Getwd()
	e := env(map[string]string{EnvDB: "postgres://h/db"})
	c, err := ParseArgs([]string{"-quick", "-servers", "gin, nethttp", "-tests", "json,plaintext", "-duration", "2s"}, e, cwd, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range c.Servers {
		names = append(names, s.Name)
	}
	if want := []string{"nethttp", "gin"}; !slices.Equal(names, want) {
		t.Errorf("servers %q, want %q (in the harness's order)", names, want)
	}
	if c.Plan.Mode != "quick" || len(c.Plan.Steps) != 2 || c.Plan.Duration != 2*time.Second || c.Plan.Warmup != time.Second {
		t.Errorf("plan %+v", c.Plan)
	}
	if c.DBURL != "postgres://h/db" || c.AdminURL != "" || c.Pool != 16 || !c.Pin {
		t.Errorf("config %+v", c)
	}
	if filepath.Base(c.Dirs.Bench) != "bench" || c.OutDir != filepath.Join(c.Dirs.Bench, "results") {
		t.Errorf("dirs %+v, out %q", c.Dirs, c.OutDir)
	}

	full, err := ParseArgs(nil, e, cwd, io.Discard)
	if err != nil || full.Plan.Mode != "full" || len(full.Servers) != len(Servers) {
		t.Errorf("defaults: %+v, %v", full.Plan, err)
	}

	for _, bad := range [][]string{
		{"-servers", "nginx"}, {"-tests", "json,xml"}, {"-pool", "0"}, {"extra"}, {"-nope"},
	} {
		if _, err := ParseArgs(bad, e, cwd, io.Discard); err == nil {
			t.Errorf("ParseArgs(%q): no error", bad)
		}
	}
	if _, err := ParseArgs([]string{"-h"}, e, cwd, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	if _, err := ParseArgs(nil, env(nil), cwd, io.Discard); err == nil || !strings.Contains(err.Error(), EnvTestDB) {
		t.Errorf("no database: %v", err)
	}
}

func TestQuickPlan(t *testing.T) {
	p := QuickPlan()
	var labels []string
	for _, s := range p.Steps {
		labels = append(labels, s.Label)
		if (s.Test == verify.Plaintext) != (s.Pipeline == 16) {
			t.Errorf("%s: pipeline %d", s.Label, s.Pipeline)
		}
	}
	want := []string{"json", "db", "queries?queries=20", "fortunes", "updates?queries=20", "plaintext", "cached-queries?count=100"}
	if !slices.Equal(labels, want) {
		t.Errorf("quick steps %q, want %q", labels, want)
	}
	// Six servers in about three minutes.
	if total := 6 * p.PerServer(); total < 2*time.Minute || total > 4*time.Minute {
		t.Errorf("quick run of six servers estimated at %v", total)
	}
}

func TestFullPlan(t *testing.T) {
	p := FullPlan()
	per := map[string]int{}
	for _, s := range p.Steps {
		per[s.Test]++
		if !strings.HasPrefix(s.Label, s.Test) {
			t.Errorf("step %+v: label is not of its test", s)
		}
	}
	for _, test := range verify.Tests {
		if per[test] < 3 {
			t.Errorf("full plan runs %s at %d levels", test, per[test])
		}
	}
	only, err := p.Only([]string{verify.Updates})
	if err != nil || len(only.Steps) != 5 || only.Steps[4].Label != "updates?queries=20" {
		t.Errorf("Only(updates) = %+v, %v", only.Steps, err)
	}
}

func TestEstimate(t *testing.T) {
	for _, tt := range []struct{ planned, done, spent, want time.Duration }{
		{100 * time.Second, 0, 0, 100 * time.Second},
		{100 * time.Second, 50 * time.Second, 50 * time.Second, 50 * time.Second},
		{100 * time.Second, 50 * time.Second, 100 * time.Second, 100 * time.Second}, // twice as slow as planned
		{100 * time.Second, 120 * time.Second, 10 * time.Second, 0},
	} {
		if got := Estimate(tt.planned, tt.done, tt.spent); got != tt.want {
			t.Errorf("Estimate(%v, %v, %v) = %v, want %v", tt.planned, tt.done, tt.spent, got, tt.want)
		}
	}
}

func TestServers(t *testing.T) {
	for _, s := range Peers() {
		if s.Name == Baseline || s.Module != benchModule {
			t.Errorf("peer %+v", s)
		}
		args := s.Args("127.0.0.1:1", "postgres://x", 3)
		if !slices.Contains(args, "-addr") || !slices.Contains(args, "-db") || !slices.Contains(args, "3") {
			t.Errorf("%s args %q", s.Name, args)
		}
	}
	all, _ := SelectServers(nil)
	if len(all) != len(Servers) || all[0].Name != Baseline {
		t.Errorf("SelectServers(nil) = %d servers, first %q", len(all), all[0].Name)
	}
	h, _ := SelectServers([]string{Baseline})
	if got := h[0].Args("127.0.0.1:9", "postgres://x", 3); !slices.Equal(got[:4], []string{"-b", "tcp://127.0.0.1:9", "--db", "postgres://x"}) {
		t.Errorf("hatago args %q", got)
	}
}

func TestFindDirs(t *testing.T) {
	cwd, _ := os.Getwd() // bench/harness
	bench := filepath.Dir(cwd)
	for _, from := range []string{cwd, bench, filepath.Dir(bench)} {
		d, err := FindDirs(from)
		if err != nil || d.Bench != bench || d.Main != filepath.Dir(bench) {
			t.Errorf("FindDirs(%s) = %+v, %v", from, d, err)
		}
	}
	if _, err := FindDirs(t.TempDir()); err == nil {
		t.Error("FindDirs outside the repository: no error")
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 8}
	io.WriteString(tl, "hello ")
	io.WriteString(tl, "world, again")
	if got := tl.String(); got != "d, again" {
		t.Errorf("tail = %q", got)
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://u:secret@h:5432/db?x=1"); strings.Contains(got, "secret") {
		t.Errorf("redact left the password: %q", got)
	}
	if got := dbName("postgres://u:p@h:5432/hatago_bench?sslmode=disable"); got != "hatago_bench" {
		t.Errorf("dbName = %q", got)
	}
}
