package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hatago/hatago/middleware"
)

func TestBodyLimit(t *testing.T) {
	const limit = 10
	var called atomic.Int32
	h := middleware.BodyLimit(limit)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called.Add(1)
		w.Header().Set("X-Content-Length", fmt.Sprint(r.ContentLength))
		b, err := io.ReadAll(r.Body)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "read %d", len(b))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := []struct {
		name      string
		body      string
		chunked   bool // no Content-Length
		status    int
		respBody  string
		called    bool
		connClose bool
	}{
		{"length at the limit", strings.Repeat("a", limit), false, 200, "read 10", true, false},
		{"length over", strings.Repeat("a", limit+1), false, 413, "413 Request Entity Too Large\n", false, true},
		{"chunked at the limit", strings.Repeat("a", limit), true, 200, "read 10", true, false},
		// net/http closes the connection itself when http.MaxBytesReader
		// has its own ResponseWriter.
		{"chunked over", strings.Repeat("a", 1000), true, 413, "too large\n", true, true},
		{"empty", "", false, 200, "read 0", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called.Store(0)
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || string(got) != tt.respBody {
				t.Errorf("got %v %q, want %v %q", resp.StatusCode, got, tt.status, tt.respBody)
			}
			if cl := resp.Header.Get("X-Content-Length"); tt.called && (cl == "-1") != tt.chunked {
				t.Errorf("the handler saw Content-Length %s; want chunked: %v", cl, tt.chunked)
			}
			if (called.Load() == 1) != tt.called {
				t.Errorf("handler called: %v, want %v", called.Load() == 1, tt.called)
			}
			if resp.Close != tt.connClose {
				t.Errorf("got Connection: close %v, want %v", resp.Close, tt.connClose)
			}
		})
	}
}

// TestBodyLimitLeavesRequest checks that the caller's request keeps its
// own body, and that a request without one passes as it is.
func TestBodyLimitLeavesRequest(t *testing.T) {
	var got io.ReadCloser
	h := middleware.BodyLimit(5)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Body }))
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("abc"))
	body := r.Body
	h.ServeHTTP(httptest.NewRecorder(), r)
	if r.Body != body || got == body {
		t.Error("BodyLimit changed the caller's request, or did not wrap the body")
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != http.NoBody {
		t.Errorf("got body %T, want http.NoBody", got)
	}
}

func TestBodyLimitRejectsN(t *testing.T) {
	for _, n := range []int64{0, -1} {
		msg := coreMustPanic(t, func() { middleware.BodyLimit(n) })
		if want := fmt.Sprintf("middleware: BodyLimit: n must be positive, got %d", n); msg != want {
			t.Errorf("got %q, want %q", msg, want)
		}
	}
}
