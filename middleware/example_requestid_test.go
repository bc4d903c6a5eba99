package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hatago/hatago/middleware"
)

func ExampleRequestID() {
	n := 0
	h := middleware.RequestID(middleware.RequestIDConfig{
		// The default generator makes IDs like "m3fc5jrbaoc9q-42"; this
		// one is predictable, for the example.
		Generate: func() string { n++; return fmt.Sprintf("gen-%d", n) },
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, middleware.RequestIDFrom(r.Context()))
	}))

	for _, incoming := range []string{"", "abc-123", "has spaces\r\nX-Evil: 1"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if incoming != "" {
			r.Header.Set("X-Request-Id", incoming)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Printf("%q -> header %q, context %q\n", incoming, rec.Header().Get("X-Request-Id"), rec.Body.String())
	}
	// Output:
	// "" -> header "gen-1", context "gen-1"
	// "abc-123" -> header "abc-123", context "abc-123"
	// "has spaces\r\nX-Evil: 1" -> header "gen-2", context "gen-2"
}
