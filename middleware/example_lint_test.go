package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/hatago/hatago/middleware"
)

// A handler that decides on its status too late: Lint reports the broken
// rules with the stacks of the offending calls (left out here).
func ExampleLint() {
	report := func(v middleware.Violation) {
		fmt.Printf("%s: %s\n", v.Rule, v.Message)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial result")
		w.WriteHeader(http.StatusInternalServerError) // too late: 200 went out
		w.Header().Set("Retry-After", "1")            // too late as well
	})
	lint := middleware.Lint(middleware.LintConfig{Report: report})

	rec := httptest.NewRecorder()
	lint(h).ServeHTTP(rec, httptest.NewRequest("GET", "/report", nil))
	fmt.Println("the client got", rec.Code)
	// Output:
	// write-header-after-write: WriteHeader(500) after a Write or Flush sent the header with 200; the call was dropped
	// header-after-send: header Retry-After changed after the first Write or Flush sent the header; the client never sees the change (declare trailers in the Trailer header or use http.TrailerPrefix); found when the handler returned
	// the client got 200
}
