package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/hatago/hatago/middleware"
)

func ExampleAccessLog() {
	// A logger for the example's output: no time or duration, which vary.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	h := middleware.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created")
	}),
		middleware.RequestID(middleware.RequestIDConfig{Generate: func() string { return "req-1" }}),
		middleware.AccessLog(middleware.AccessLogConfig{
			Logger: log,
			Skip:   func(r *http.Request) bool { return r.URL.Path == "/health" },
		}),
	)

	for _, path := range []string{"/orders?token=secret", "/health"} {
		r := httptest.NewRequest(http.MethodPost, path, nil)
		r.Header.Set("User-Agent", "example/1.0")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	// Outside a Hatago server, queue is 0 and slot is left out.

	// Output:
	// level=INFO msg=request method=POST path=/orders proto=HTTP/1.1 status=201 bytes=7 queue=0s remote=192.0.2.1:1234 request_id=req-1 user_agent=example/1.0
}
