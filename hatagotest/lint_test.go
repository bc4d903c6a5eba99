package hatagotest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hatago/hatago/hatagotest"
)

func TestLint(t *testing.T) {
	var kept http.ResponseWriter
	f := runFake(t, func(tb testing.TB) {
		h := hatagotest.Lint(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kept = w
			w.WriteHeader(http.StatusOK)
			w.WriteHeader(http.StatusNotFound)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/lint", nil))
		io.WriteString(kept, "late, while the test runs")
	})
	errs, _ := f.reported()
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2: %q", len(errs), errs)
	}
	for i, want := range []string{"write-header-twice: GET /lint", "use-after-return: GET /lint"} {
		if !strings.Contains(errs[i], want) || !strings.Contains(errs[i], "this call:") {
			t.Errorf("error %d: got %q, want the rule, request and stack: %q", i, errs[i], want)
		}
	}

	// After the test ended, a report must not reach it (t.Errorf would
	// panic): it goes to standard error.
	f.end()
	io.WriteString(kept, "late, after the test")
	if errs, _ := f.reported(); len(errs) != 2 {
		t.Errorf("got %d errors, want still 2", len(errs))
	}
}
