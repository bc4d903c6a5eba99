package hatagotest

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/hatago/hatago/middleware"
)

// Lint returns h wrapped in middleware.Lint, reporting each violation
// with tb.Errorf: the rule, the message and the stacks of the offending
// and the earlier call. A violation found after the test ended (a
// goroutine the handler left behind, still using its ResponseWriter) goes
// to standard error instead, since the test can no longer fail. The
// handler Lint returns is safe for concurrent use if h is.
func Lint(tb testing.TB, h http.Handler) http.Handler {
	tb.Helper()
	g := &endGuard{}
	tb.Cleanup(g.end)
	return middleware.Lint(middleware.LintConfig{Report: func(v middleware.Violation) {
		if !g.do(func() { tb.Errorf("%v", v) }) {
			fmt.Fprintf(os.Stderr, "hatagotest: after %s ended: %v\n", tb.Name(), v)
		}
	}})(h)
}
