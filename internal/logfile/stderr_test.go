//go:build unix

package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// childEnv names the variable that makes the test binary, run again by
// TestRedirectStderr, play the child: its value is the log's path.
const childEnv = "LOGFILE_TEST_STDERR_CHILD"

// TestRedirectStderr runs the test binary again as a child that puts its
// standard error on a log, rotates the log, and panics: what the child
// wrote to os.Stderr before the rotation is in the rotated file, and what
// came after it, the panic's stack trace included, is in the new one.
func TestRedirectStderr(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		redirectChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "app.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRedirectStderr$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("child: got %v, want exit status 2 from its panic\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}

	rotated, current := contents(t, path+".1"), contents(t, path)
	for _, c := range []struct {
		file, text string
		want       bool
	}{
		{rotated, "os.Stderr before rotation\n", true},
		{rotated, "File.Write before rotation\n", true},
		{rotated, "after rotation", false},
		{current, "os.Stderr after rotation\n", true},
		{current, "File.Write after rotation\n", true},
		{current, "a grandchild on inherited stderr\n", true},
		{current, "panic: boom in the child", true},
		{current, "goroutine ", true},
		{current, "before rotation", false},
	} {
		if got := strings.Contains(c.file, c.text); got != c.want {
			name := path
			if c.file == rotated {
				name += ".1"
			}
			t.Errorf("%s has %q: got %v, want %v; it holds:\n%s", name, c.text, got, c.want, c.file)
		}
	}
	if strings.Contains(stderr.String(), "boom") {
		t.Errorf("the panic reached the child's original stderr:\n%s", &stderr)
	}
}

// redirectChild is the child's part of TestRedirectStderr. It ends in a
// panic; on any other failure it says why on stdout (its stderr being the
// log by then) and exits 1.
func redirectChild(path string) {
	fail := func(err error) {
		fmt.Println("child:", err)
		os.Exit(1)
	}
	f, err := Open(path)
	if err != nil {
		fail(err)
	}
	if err := f.RedirectStderr(); err != nil {
		fail(err)
	}
	fmt.Fprintln(os.Stderr, "os.Stderr before rotation")
	fmt.Fprintln(f, "File.Write before rotation")
	if err := os.Rename(path, path+".1"); err != nil {
		fail(err)
	}
	if err := f.Reopen(); err != nil {
		fail(err)
	}
	fmt.Fprintln(os.Stderr, "os.Stderr after rotation")
	fmt.Fprintln(f, "File.Write after rotation")
	sh := exec.Command("/bin/sh", "-c", "echo a grandchild on inherited stderr >&2")
	sh.Stderr = os.Stderr // descriptor 2 itself, now the new log
	if err := sh.Run(); err != nil {
		fail(err)
	}
	panic("boom in the child")
}
