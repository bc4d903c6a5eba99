package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hatago/hatago/control"
)

// runCLI runs `hatago ctl args...` with env as the environment.
func runCLI(tb testing.TB, env map[string]string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	cli := &control.CLI{
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
	}
	code = cli.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestCLICommands(t *testing.T) {
	target := newFakeTarget()
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target})
	unixSrv := startServer(t, control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: newFakeTarget()})
	flags := []string{"--control-url", srv.URL(), "--control-token", testToken}
	env := map[string]string{control.EnvURL: srv.URL(), control.EnvToken: testToken}
	isJSON := func(t *testing.T, out string) {
		t.Helper()
		if !json.Valid([]byte(out)) {
			t.Errorf("stdout is not JSON: %s", out)
		}
	}

	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  []string // in stdout
		check func(t *testing.T, stdout string)
	}{
		{name: "stats", args: append(flags, "stats"),
			want: []string{"started_at       2025-01-02T03:04:05Z\n", "max_threads      16\n", "requests_count   12345\n",
				"queue_time       p50 1.2ms  p90 3.4ms  p99 9.9ms  max 12.5ms  (100 samples)\n",
				"latency          p50 15ms  p90 40ms  p99 99ms  max 1.25s  (100 samples)\n",
				"heap_bytes       4718592 (4.5 MiB)\n", "rss_bytes        31457280 (30.0 MiB)\n", "version          v0.1.0-test\n"},
			check: checkPumaFieldsFirst},
		{name: "stats json", args: append(flags, "--json", "stats"), want: []string{`"max_threads":16`}, check: isJSON},
		{name: "gc", args: append(flags, "gc"), want: []string{"gc done: heap ", " objects, took "}},
		{name: "gc json", args: append(flags, "gc", "--json"), want: []string{`"message":"gc done"`}, check: isJSON},
		{name: "gc-stats", args: append(flags, "gc-stats"), want: []string{"num_gc  ", "heap_alloc  ", "gogc_percent  "}},
		{name: "gc-stats json", args: append(flags, "gc-stats", "--json"), want: []string{`"num_gc":`}, check: isJSON},
		{name: "goroutines", args: append(flags, "goroutines"), want: []string{"goroutine ", "[running]"}},
		{name: "thread-backtraces", args: append(flags, "thread-backtraces"), want: []string{"goroutine "}},
		{name: "metrics", args: append(flags, "metrics"), want: []string{"# TYPE hatago_backlog gauge\nhatago_backlog 3\n"},
			check: func(t *testing.T, out string) {
				if _, err := checkExposition(out); err != nil {
					t.Errorf("invalid exposition: %v", err)
				}
			}},
		{name: "stop", args: append(flags, "stop"), want: []string{srv.URL() + ": stopping\n"},
			check: func(t *testing.T, _ string) { waitFor(t, target.stopped, "Stop") }},
		{name: "halt json", args: append(flags, "--json", "halt"), want: []string{`{"message":"halting"}`},
			check: func(t *testing.T, _ string) { waitFor(t, target.halted, "Halt") }},
		{name: "env fallback", env: env, args: []string{"stats"}, want: []string{"max_threads      16\n"}},
		{name: "flags after command", args: []string{"stats", "--control-url", srv.URL(), "--control-token=" + testToken, "--json"},
			want: []string{`"max_threads":16`}},
		{name: "flags on both sides", args: []string{"--control-url", srv.URL(), "stats", "--control-token", testToken},
			want: []string{"max_threads      16\n"}},
		{name: "flags win over env", env: map[string]string{control.EnvURL: freeTCPURL(t), control.EnvToken: "wrong"},
			args: append(flags, "stats"), want: []string{"max_threads      16\n"}},
		{name: "unix socket", args: []string{"--control-url", unixSrv.URL(), "--control-token", testToken, "stats"},
			want: []string{"max_threads      16\n"}},
		{name: "timeout flag", args: append(flags, "--timeout", "5s", "stats"), want: []string{"max_threads      16\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != 0 {
				t.Fatalf("exit code: got %d, want 0; stderr: %s", code, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr: got %q, want nothing", stderr)
			}
			if sub, ok := contains(stdout, tt.want...); !ok {
				t.Errorf("stdout lacks %q:\n%s", sub, stdout)
			}
			if tt.check != nil {
				tt.check(t, stdout)
			}
		})
	}
}

// checkPumaFieldsFirst checks the stats table lists Puma's fields, in
// Puma's order, before Hatago's.
func checkPumaFieldsFirst(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	puma := []string{"started_at", "backlog", "running", "pool_capacity", "busy_threads", "max_threads", "requests_count", "backlog_max"}
	if len(lines) < len(puma)+1 {
		t.Fatalf("got %d lines, want more than %d", len(lines), len(puma))
	}
	for i, name := range puma {
		if got := strings.Fields(lines[i])[0]; got != name {
			t.Errorf("line %d: got %s, want %s", i+1, got, name)
		}
	}
	col := strings.Index(lines[0], "2025")
	for _, l := range lines {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("line %q: values do not start at column %d", l, col)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget()})
	refused := freeTCPURL(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string // in stderr
	}{
		{name: "unreachable", args: []string{"--control-url", refused, "--control-token", testToken, "stats"}, code: 1,
			want: []string{"hatago ctl: cannot reach " + refused + ": connection refused", "--control-url", control.EnvURL}},
		{name: "unreachable via env", env: map[string]string{control.EnvURL: refused}, args: []string{"gc"}, code: 1,
			want: []string{"cannot reach " + refused}},
		{name: "wrong token", args: []string{"--control-url", srv.URL(), "--control-token", "wrong", "stats"}, code: 1,
			want: []string{"hatago ctl: the server at " + srv.URL() + " refused the token", "--control-token", control.EnvToken}},
		{name: "missing token", args: []string{"--control-url", srv.URL(), "stop"}, code: 1,
			want: []string{"requires a token", "--control-token"}},
		{name: "unknown command", args: []string{"--control-url", srv.URL(), "reload"}, code: 2,
			want: []string{`hatago ctl: unknown command "reload"`, "Usage: hatago ctl"}},
		{name: "no command", args: []string{"--control-url", srv.URL()}, code: 2,
			want: []string{"missing command", "Usage: hatago ctl"}},
		{name: "two commands", args: []string{"--control-url", srv.URL(), "stats", "gc"}, code: 2,
			want: []string{"one command at a time", "Usage: hatago ctl"}},
		{name: "unknown flag", args: []string{"--control-host", "x", "stats"}, code: 2,
			want: []string{"flag provided but not defined: -control-host", "Usage: hatago ctl"}},
		{name: "flag without value", args: []string{"stats", "--control-url"}, code: 2,
			want: []string{"flag needs an argument", "Usage: hatago ctl"}},
		{name: "no URL", args: []string{"stats"}, code: 2,
			want: []string{"no control URL", "--control-url", control.EnvURL}},
		{name: "bad URL", args: []string{"--control-url", "127.0.0.1:9293", "stats"}, code: 2,
			want: []string{"--control-url: \"127.0.0.1:9293\" has no scheme"}},
		{name: "bad token", args: []string{"--control-url", srv.URL(), "--control-token", "a b", "stats"}, code: 2,
			want: []string{"--control-token: must be printable ASCII"}},
		{name: "negative timeout", args: []string{"--control-url", srv.URL(), "--timeout", "-1s", "stats"}, code: 2,
			want: []string{"--timeout must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code: got %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing", stdout)
			}
			if sub, ok := contains(stderr, tt.want...); !ok {
				t.Errorf("stderr lacks %q:\n%s", sub, stderr)
			}
			if tt.code == 1 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr: got %q, want one line", stderr)
			}
		})
	}
}

func TestCLIHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"stats", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != 0 {
				t.Errorf("exit code: got %d, want 0", code)
			}
			if !strings.HasPrefix(stdout, "Usage: hatago ctl") || stderr != "" {
				t.Errorf("got stdout %q, stderr %q; want usage on stdout", stdout, stderr)
			}
		})
	}
}
