package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

type fakeTarget struct{}

func (fakeTarget) Stats() control.Stats { return control.Stats{MaxThreads: 5} }
func (fakeTarget) Stop()                {}
func (fakeTarget) Halt()                {}

func TestRun(t *testing.T) {
	srv, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Token: "tok", Target: fakeTarget{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	env := map[string]string{control.EnvURL: srv.URL(), control.EnvToken: "tok"}

	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{name: "no command", args: nil, code: 2, wantStderr: "Usage: hatago COMMAND"},
		{name: "help", args: []string{"help"}, code: 0, wantStdout: "Usage: hatago COMMAND"},
		{name: "-h", args: []string{"-h"}, code: 0, wantStdout: "ctl"},
		{name: "unknown", args: []string{"serve"}, code: 2, wantStderr: `hatago: unknown command "serve"`},
		{name: "ctl stats", args: []string{"ctl", "stats", "--json"}, code: 0, wantStdout: `"max_threads":5`},
		{name: "ctl usage error", args: []string{"ctl"}, code: 2, wantStderr: "Usage: hatago ctl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, func(k string) string { return env[k] })
			if code != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr %s)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
