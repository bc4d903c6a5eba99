package hatagotest

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// endGuard runs calls on a testing.TB until the test ends: after that
// they would panic.
type endGuard struct {
	mu    sync.Mutex // guards ended; held across f, so end waits for it
	ended bool
}

// do runs f and returns true, unless the test has ended.
func (g *endGuard) do(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return false
	}
	f()
	return true
}

func (g *endGuard) end() {
	g.mu.Lock()
	g.ended = true
	g.mu.Unlock()
}

// tbWriter writes log lines with tb.Log until the test ends, then to
// standard error.
type tbWriter struct {
	tb    testing.TB
	guard endGuard
}

// newTBWriter returns a tbWriter for tb. Its Cleanup is registered first,
// so it runs after those registered later, such as a server's Shutdown
// that logs.
func newTBWriter(tb testing.TB) *tbWriter {
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.guard.end)
	return w
}

func (w *tbWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	if !w.guard.do(func() { w.tb.Log(line) }) {
		fmt.Fprintf(os.Stderr, "%s (after %s ended)\n", line, w.tb.Name())
	}
	return len(p), nil
}
