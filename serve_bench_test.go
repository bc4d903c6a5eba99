package hatago

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// nopWriter is the cheapest http.ResponseWriter, so the benchmarks below
// measure the server's own work around a handler.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

var hello = []byte("Hello, World!")

func plaintext(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = []string{"text/plain"}
	w.Write(hello)
}

// BenchmarkServe is Hatago's whole per-request path around a plaintext
// handler, without the network: admission, context, response wrapper,
// panic guard, stats. Compare with BenchmarkBareHandler.
func BenchmarkServe(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  Config
		h2   bool // a request with a context of its own, as on HTTP/2
	}{
		{"defaults", Config{}, false},
		{"no-request-timeout", Config{RequestTimeout: -1}, false},
		{"own-context", Config{}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.cfg.Logger = slog.New(slog.DiscardHandler)
			s, err := New(http.HandlerFunc(plaintext), tc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			if !tc.h2 {
				// As net/http serves it: under the connection's context.
				c1, c2 := net.Pipe()
				defer c1.Close()
				defer c2.Close()
				conn := s.conns.open(context.Background(), c1, tc.cfg.RequestTimeout >= 0)
				r = r.WithContext(conn)
			}
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				s.serve(w, r)
			}
		})
	}
}

// BenchmarkBareHandler is the plaintext handler alone.
func BenchmarkBareHandler(b *testing.B) {
	r := httptest.NewRequest("GET", "/", nil)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		plaintext(w, r)
	}
}
