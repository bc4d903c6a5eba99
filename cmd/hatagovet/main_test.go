package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// finding matches the position that begins each line the analyzer reports.
var finding = regexp.MustCompile(`(?m)\.go:\d+:\d+: `)

// TestCommand builds hatagovet and runs it on the module in testdata/racy,
// standalone and as go vet's -vettool, with and without -tests; and on
// examples/counter, where it must flag the broken counter and none of the
// four fixed forms.
func TestCommand(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "hatagovet")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	const (
		handler = "racy.go:15:2: (*Counter).ServeHTTP writes field n of its receiver without a lock"
		test    = "racy_test.go:11:3: handler closure writes paths, captured from TestRecord"
		racy    = "testdata/racy"
		counter = "../../examples/counter"
		broken  = "counter.go:60:2: (*Broken).ServeHTTP writes field total of its receiver without a lock"
	)
	tests := []struct {
		name     string
		dir      string
		cmd      []string
		wantCode int
		want     []string
		notWant  []string
	}{
		{"standalone", racy, []string{bin, "./..."}, 3, []string{handler}, []string{test, "Guarded"}},
		{"standalone -tests", racy, []string{bin, "-tests", "./..."}, 3, []string{handler, test}, nil},
		{"vettool", racy, []string{goBin, "vet", "-vettool=" + bin, "./..."}, 1, []string{handler}, []string{test, "Guarded"}},
		{"vettool -tests", racy, []string{goBin, "vet", "-vettool=" + bin, "-tests", "./..."}, 1, []string{handler, test}, nil},
		// One finding, the broken form's write; the fixed forms' writes
		// (under a mutex, through an atomic, in the owning goroutine, on a
		// visit built by middleware.PerRequest) are all recognised.
		{"counter example", counter, []string{bin, "."}, 3, []string{broken},
			[]string{"(*Mutex)", "(*Atomic)", "(*Owner)", "(*visit)", "main.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(tt.cmd[0], tt.cmd[1:]...)
			cmd.Dir = tt.dir
			cmd.Env = append(cmd.Environ(), "GOWORK=off", "GOFLAGS=")
			out, err := cmd.CombinedOutput()
			code := 0
			if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output: got\n%s\nwant it to contain %q", out, w)
				}
			}
			if n := len(finding.FindAll(out, -1)); tt.dir == counter && n != 1 {
				t.Errorf("counter example: got %d findings, want 1:\n%s", n, out)
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("output: got\n%s\nwant no %q", out, w)
				}
			}
		})
	}
}
