package middleware_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hatago/hatago/middleware"
)

func ExampleTimeout() {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Minute): // a slow query, say
			io.WriteString(w, "done")
		case <-r.Context().Done():
			fmt.Println("handler:", context.Cause(r.Context()))
		}
	}
	h := middleware.Timeout(20 * time.Millisecond)(http.HandlerFunc(slow))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/report", nil))
	fmt.Printf("client: %d %q\n", rec.Code, rec.Body.String())
	// Output:
	// handler: middleware: request timeout
	// client: 503 "503 Service Unavailable\n"
}
