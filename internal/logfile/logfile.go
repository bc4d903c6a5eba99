package logfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// File is a log file that [File.Reopen] can replace while it is written.
// Its methods are safe for concurrent use.
type File struct {
	path string

	mu     sync.Mutex // guards the fields below
	cur    *handle    // nil once closed
	stderr bool       // RedirectStderr was called: keep descriptor 2 on cur
}

var _ io.WriteCloser = (*File)(nil)

// handle is one open file and the writes under way on it. A handle is
// closed only after it has been swapped out and its writes have finished.
type handle struct {
	f      *os.File
	writes sync.WaitGroup
}

// Open opens path for appending, creating it (mode 0644, less the umask)
// if it does not exist. It does not create the directory: if that is
// missing, the error (a *fs.PathError naming path) wraps fs.ErrNotExist.
func Open(path string) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	return &File{path: path, cur: &handle{f: f}}, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
}

// Path returns the path the file was opened with, which Reopen opens
// again.
func (l *File) Path() string { return l.path }

// Write appends p to the current file with one call to (*os.File).Write
// (for a regular file, normally one write(2)), so p goes whole to one file: during a [File.Reopen] it
// lands in either the old file or the new one. After [File.Close] it
// returns an error wrapping os.ErrClosed; otherwise the file's own write
// error, if any.
func (l *File) Write(p []byte) (int, error) {
	h := l.acquire()
	if h == nil {
		return 0, l.closedError("write")
	}
	defer h.writes.Done()
	return h.f.Write(p)
}

// acquire returns the current handle with a write counted on it, or nil
// if l is closed. Counting under mu means every write on a handle has
// been counted before the handle is swapped out and waited for.
func (l *File) acquire() *handle {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil {
		l.cur.writes.Add(1)
	}
	return l.cur
}

// Reopen opens the path again and makes it the file that later writes go
// to; then it waits for the writes under way on the old file and closes
// it. Call it after the file was renamed or removed, as logrotate does
// before it sends SIGHUP. If [File.RedirectStderr] was called, Reopen
// moves descriptor 2 to the new file as well.
//
// If the path cannot be opened (its directory is gone, say), Reopen keeps
// writing to the old file and returns an error naming the path, wrapping
// the cause (such as fs.ErrNotExist). After [File.Close] it returns an
// error wrapping os.ErrClosed. An error from closing the old file is
// returned too, but the new file is in use by then.
func (l *File) Reopen() error {
	f, err := openAppend(l.path)
	if err != nil {
		return fmt.Errorf("logfile: reopen: %w", err)
	}
	old, err := l.swap(f)
	if err != nil {
		f.Close()
		return err
	}
	old.writes.Wait()
	if err := old.f.Close(); err != nil {
		return fmt.Errorf("logfile: reopen: close the old file: %w", err)
	}
	return nil
}

// swap makes f the current file and returns the handle it replaced. It
// moves descriptor 2 first, if asked to, so that a failure leaves
// everything on the old file.
func (l *File) swap(f *os.File) (*handle, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return nil, l.closedError("reopen")
	}
	if l.stderr {
		if err := dupStderr(f); err != nil {
			return nil, fmt.Errorf("logfile: reopen: redirect stderr to %s: %w", l.path, err)
		}
	}
	old := l.cur
	l.cur = &handle{f: f}
	return old, nil
}

// RedirectStderr makes descriptor 2, the process's standard error, refer
// to the file, so that output that bypasses File (os.Stderr, a panic's
// stack trace, the Go runtime's fatal errors, a child process that
// inherits descriptor 2) is appended to the log too. From then on each
// [File.Reopen] moves descriptor 2 to the new file.
//
// Call it once, at startup. Descriptor 2 keeps referring to the log after
// [File.Close]; RedirectStderr does not restore the old standard error.
// It returns an error wrapping errors.ErrUnsupported on Windows and other
// systems without dup2, an error wrapping os.ErrClosed after Close, and
// otherwise the error from dup2.
func (l *File) RedirectStderr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return l.closedError("redirect stderr")
	}
	if err := dupStderr(l.cur.f); err != nil {
		return fmt.Errorf("logfile: redirect stderr to %s: %w", l.path, err)
	}
	l.stderr = true
	return nil
}

// Close waits for the writes under way and closes the file. Later writes
// fail with an error wrapping os.ErrClosed. Close is idempotent: a second
// call returns nil. It returns the error from closing the file.
func (l *File) Close() error {
	l.mu.Lock()
	h := l.cur
	l.cur = nil
	l.mu.Unlock()
	if h == nil {
		return nil
	}
	h.writes.Wait()
	if err := h.f.Close(); err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	return nil
}

func (l *File) closedError(op string) error {
	return fmt.Errorf("logfile: %w", &fs.PathError{Op: op, Path: l.path, Err: os.ErrClosed})
}
