package logfile

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// open opens a File at path and closes it after the test.
func open(t testing.TB, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// write writes s to f and fails the test on error.
func write(t testing.TB, f *File, s string) {
	t.Helper()
	n, err := f.Write([]byte(s))
	if err != nil || n != len(s) {
		t.Fatalf("Write(%q): got %d, %v; want %d, nil", s, n, err, len(s))
	}
}

// contents returns the file at path as a string.
func contents(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := open(t, path)
	if got := f.Path(); got != path {
		t.Errorf("Path: got %q, want %q", got, path)
	}
	write(t, f, "new line\n")
	if got, want := contents(t, path), "old line\nnew line\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOpenCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := open(t, path)
	write(t, f, "first\n")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 || perm&0o600 != 0o600 {
		t.Errorf("mode: got %v, want 0644 less the umask", perm)
	}
	if got := contents(t, path); got != "first\n" {
		t.Errorf("got %q, want %q", got, "first\n")
	}
}

func TestOpenMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "app.log")
	f, err := Open(path)
	if err == nil {
		f.Close()
		t.Fatal("got no error, want one")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("got %q, want it to name %s", err, path)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	f := open(t, path)
	write(t, f, "one\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, f, "two\n") // before Reopen: still the moved file
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, f, "three\n")
	if got, want := contents(t, path+".1"), "one\ntwo\n"; got != want {
		t.Errorf("rotated file: got %q, want %q", got, want)
	}
	if got, want := contents(t, path), "three\n"; got != want {
		t.Errorf("new file: got %q, want %q", got, want)
	}
}

func TestReopenFailure(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "log")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.log")
	f := open(t, path)
	write(t, f, "before\n")

	// The directory goes away (moved, so the old file can still be read).
	moved := filepath.Join(root, "log.old")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	err := f.Reopen()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Reopen: got %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Reopen: got %q, want it to name %s", err, path)
	}
	write(t, f, "after the failure\n")
	if got, want := contents(t, filepath.Join(moved, "app.log")), "before\nafter the failure\n"; got != want {
		t.Errorf("old file: got %q, want %q", got, want)
	}

	// Once the directory is back, Reopen works again.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, f, "recovered\n")
	if got, want := contents(t, path), "recovered\n"; got != want {
		t.Errorf("new file: got %q, want %q", got, want)
	}
}

func TestReopenDirRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := open(t, filepath.Join(dir, "app.log"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Reopen: got %v, want fs.ErrNotExist", err)
	}
	write(t, f, "to the unlinked file, which is still open\n")
}

func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f := open(t, path)
	write(t, f, "line\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if n, err := f.Write([]byte("late\n")); n != 0 || !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: got %d, %v; want 0, os.ErrClosed", n, err)
	}
	if err := f.Reopen(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Reopen after Close: got %v, want os.ErrClosed", err)
	}
	if err := f.RedirectStderr(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("RedirectStderr after Close: got %v, want os.ErrClosed", err)
	}
	if got := contents(t, path); got != "line\n" {
		t.Errorf("got %q, want %q", got, "line\n")
	}
}

// line is the text writer w writes as its i'th line: long enough that a
// split or interleaved write would show.
func line(w, i int) string {
	return fmt.Sprintf("writer %02d line %06d %s\n", w, i, strings.Repeat(string(rune('a'+w%26)), 200))
}

// countLines reads every file in dir and counts each line; it fails the
// test on a line that no writer wrote whole.
func countLines(t testing.TB, dir string, writers int) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	for _, name := range files {
		r, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var w, i int
			if _, err := fmt.Sscanf(sc.Text(), "writer %d line %d", &w, &i); err != nil || w < 0 || w >= writers || sc.Text()+"\n" != line(w, i) {
				r.Close()
				t.Fatalf("%s: garbled line %q", name, sc.Text())
			}
			seen[sc.Text()+"\n"]++
		}
		r.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return seen
}

// TestRotateConcurrently renames the file away and reopens it, as
// logrotate and SIGHUP do, while writers write: every line lands exactly
// once, whole, in one of the files.
func TestRotateConcurrently(t *testing.T) {
	const (
		writers   = 8
		rotations = 100
	)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	f := open(t, path)

	stop := make(chan struct{})
	wrote := make([]int, writers) // lines written by each writer
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := f.Write([]byte(line(w, i))); err != nil {
					errs <- fmt.Errorf("writer %d line %d: %w", w, i, err)
					return
				}
				wrote[w]++
			}
		})
	}
	var rotateErr error
	for r := range rotations {
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, r)); err != nil {
			rotateErr = err
			break
		}
		if err := f.Reopen(); err != nil {
			rotateErr = err
			break
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if rotateErr != nil {
		t.Fatal(rotateErr)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	seen := countLines(t, dir, writers)
	total := 0
	for w, n := range wrote {
		total += n
		for i := range n {
			if got := seen[line(w, i)]; got != 1 {
				t.Errorf("writer %d line %d: got %d copies, want 1", w, i, got)
			}
		}
	}
	if len(seen) != total {
		t.Errorf("got %d distinct lines, want %d", len(seen), total)
	}
	t.Logf("%d lines over %d rotations", total, rotations)
}

// TestCloseConcurrently closes the file while writers write: each write
// either lands or fails with os.ErrClosed.
func TestCloseConcurrently(t *testing.T) {
	const writers = 8
	dir := t.TempDir()
	f := open(t, filepath.Join(dir, "app.log"))
	wrote := make([]int, writers)
	errs := make(chan error, writers)
	started := make(chan struct{}, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == 10 {
					started <- struct{}{}
				}
				if _, err := f.Write([]byte(line(w, i))); err != nil {
					if !errors.Is(err, os.ErrClosed) {
						errs <- err
					}
					return
				}
				wrote[w]++
			}
		})
	}
	for range writers {
		<-started
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("got %v, want os.ErrClosed", err)
	}
	seen := countLines(t, dir, writers)
	for w, n := range wrote {
		for i := range n {
			if got := seen[line(w, i)]; got != 1 {
				t.Errorf("writer %d line %d: got %d copies, want 1", w, i, got)
			}
		}
	}
}
