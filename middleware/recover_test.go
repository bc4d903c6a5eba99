package middleware_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hatago/hatago/middleware"
)

// coreLog is a slog JSON log in memory, safe for concurrent use.
type coreLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *coreLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// logger returns a logger writing JSON records to l at every level.
func (l *coreLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records written so far.
func (l *coreLog) records(t testing.TB) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// recoverPanicking returns a handler that sets some headers and panics
// with v, after writing body if it is not empty.
func recoverPanicking(v any, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Handler", "1")
		if body != "" {
			io.WriteString(w, body)
		}
		panic(v)
	})
}

func TestRecoverAnswers500(t *testing.T) {
	tests := []struct {
		name      string
		v         any
		wantPanic string
	}{
		{"string", "boom", "boom"},
		{"error", errors.New("broken"), "broken"},
		{"nil", nil, "panic called with nil argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log coreLog
			h := middleware.Chain(recoverPanicking(tt.v, ""),
				stackTag("outer"), middleware.RequestID(middleware.RequestIDConfig{}),
				middleware.Recover(middleware.RecoverConfig{Logger: log.logger()}))
			rec := coreGet(h, "/p?q=1")
			if got, want := rec.Code, http.StatusInternalServerError; got != want {
				t.Errorf("got status %v, want %v", got, want)
			}
			if got, want := rec.Body.String(), "500 Internal Server Error\n"; got != want {
				t.Errorf("got body %q, want %q", got, want)
			}
			hdr := rec.Header()
			for k, want := range map[string]string{
				"Content-Type": "text/plain; charset=utf-8", "Content-Length": "26", "X-Content-Type-Options": "nosniff",
				"Content-Encoding": "", "Cache-Control": "", // the handler's, which would misdescribe the answer
				"X-Order":   "outer", // the outer middleware's, kept
				"X-Handler": "",      // the handler's, undone
			} {
				if got := hdr.Get(k); got != want {
					t.Errorf("got %s %q, want %q", k, got, want)
				}
			}
			recs := log.records(t)
			if len(recs) != 1 {
				t.Fatalf("got %d log records, want 1", len(recs))
			}
			r := recs[0]
			if r["level"] != "ERROR" || r["msg"] != "middleware: handler panic" || r["method"] != "GET" || r["path"] != "/p" {
				t.Errorf("got record %v", r)
			}
			if got, _ := r["panic"].(string); !strings.Contains(got, tt.wantPanic) {
				t.Errorf("got panic %q, want it to hold %q", got, tt.wantPanic)
			}
			if got, _ := r["stack"].(string); !strings.Contains(got, "recover_test.go") {
				t.Errorf("the stack does not show the panicking handler:\n%s", got)
			}
			if got, want := r["request_id"], hdr.Get("X-Request-Id"); got != want || want == "" {
				t.Errorf("got request_id %v, want %q", got, want)
			}
			if _, ok := r["aborted"]; ok {
				t.Error("a panic before the response began is logged as aborted")
			}
		})
	}
}

// TestRecoverRestoresHeader: a handler that rotated the session cookie
// or set a Location and then panicked must not have them sent with the
// 500; the header is what the middleware outside Recover left, exactly.
func TestRecoverRestoresHeader(t *testing.T) {
	tests := []struct {
		name  string
		extra int // more keys set outside, to go past what Recover saves on its stack
	}{
		{"few keys", 0},
		{"many keys", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					h := w.Header()
					h.Set("Set-Cookie", "theme=dark")
					h.Set("Vary", "Origin")
					h.Set("X-Frame-Options", "DENY")
					h.Set("Cache-Control", "no-store")
					for i := range tt.extra {
						h.Set(fmt.Sprintf("X-Extra-%d", i), "1")
					}
					next.ServeHTTP(w, r)
				})
			}
			var onPanic http.Header
			for _, custom := range []bool{false, true} {
				cfg := middleware.RecoverConfig{Logger: slog.New(slog.DiscardHandler)}
				if custom {
					cfg.OnPanic = func(w http.ResponseWriter, r *http.Request, v any, stack []byte) {
						onPanic = w.Header().Clone()
						w.WriteHeader(http.StatusInternalServerError)
					}
				}
				h := middleware.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					h := w.Header()
					h.Add("Set-Cookie", "session=rotated; HttpOnly")
					h.Set("Location", "/account")
					h.Add("Vary", "Cookie")
					h.Del("X-Frame-Options")
					h.Set("X-Handler", "1")
					h["X-Extra-0"] = []string{"changed"}
					panic("after rotating the session")
				}), outer, middleware.Recover(cfg))
				got := coreGet(h, "/login").Result().Header
				if custom {
					got = onPanic
				}
				want := http.Header{
					"Set-Cookie":      {"theme=dark"},
					"Vary":            {"Origin"},
					"X-Frame-Options": {"DENY"},
				}
				if custom {
					want.Set("Cache-Control", "no-store")
				} else {
					want.Set("Content-Type", "text/plain; charset=utf-8")
					want.Set("Content-Length", "26")
					want.Set("X-Content-Type-Options", "nosniff")
				}
				for i := range tt.extra {
					want.Set(fmt.Sprintf("X-Extra-%d", i), "1")
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("OnPanic set %v: got header\n%v\nwant\n%v", custom, got, want)
				}
			}
		})
	}
}

func TestRecoverOnPanic(t *testing.T) {
	var gotV any
	var gotStack []byte
	h := middleware.Recover(middleware.RecoverConfig{
		Logger: slog.New(slog.DiscardHandler),
		OnPanic: func(w http.ResponseWriter, r *http.Request, v any, stack []byte) {
			gotV, gotStack = v, stack
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "custom")
		},
	})(recoverPanicking("boom", ""))
	rec := coreGet(h, "/")
	if rec.Code != http.StatusTeapot || rec.Body.String() != "custom" {
		t.Errorf("got %v %q, want 418 custom", rec.Code, rec.Body.String())
	}
	if gotV != "boom" {
		t.Errorf("got value %v, want boom", gotV)
	}
	if !bytes.Contains(gotStack, []byte("recover_test.go")) {
		t.Errorf("the stack does not show the panicking handler:\n%s", gotStack)
	}
}

// TestRecoverPassesOn checks the panics Recover must not answer: an
// http.ErrAbortHandler, passed on as it is and not logged, and a panic
// after the response began, logged and turned into http.ErrAbortHandler.
func TestRecoverPassesOn(t *testing.T) {
	tests := []struct {
		name     string
		h        http.Handler
		wantLogs int
	}{
		{"ErrAbortHandler", recoverPanicking(http.ErrAbortHandler, ""), 0},
		{"after a write", recoverPanicking("late", "partial"), 1},
		{"after WriteHeader", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			panic("late")
		}), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log coreLog
			h := middleware.Recover(middleware.RecoverConfig{Logger: log.logger()})(tt.h)
			var got any
			func() {
				defer func() { got = recover() }()
				coreGet(h, "/")
			}()
			if got != http.ErrAbortHandler {
				t.Errorf("got panic %v, want http.ErrAbortHandler", got)
			}
			recs := log.records(t)
			if len(recs) != tt.wantLogs {
				t.Fatalf("got %d log records, want %d", len(recs), tt.wantLogs)
			}
			if tt.wantLogs > 0 && (recs[0]["panic"] != "late" || recs[0]["aborted"] != true) {
				t.Errorf("got record %v, want panic late, aborted true", recs[0])
			}
		})
	}
}

// TestRecoverAbortsBegunResponse serves a handler that panics halfway
// through a chunked body on a real server: the client must see an error,
// never a response that looks whole (as it would if Recover appended its
// 500 to the body and returned).
func TestRecoverAbortsBegunResponse(t *testing.T) {
	tests := []struct {
		name  string
		flush bool // the header and part of the body reached the client
	}{
		{"buffered", false},
		{"flushed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := middleware.Recover(middleware.RecoverConfig{Logger: slog.New(slog.DiscardHandler)})(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, "the first half")
					if tt.flush {
						http.NewResponseController(w).Flush()
					}
					panic("halfway")
				}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				if tt.flush {
					t.Errorf("got %v, want the flushed header", err)
				}
				return // cut before the header: an error, as it must be
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Fatalf("got a whole response: %v %q", resp.StatusCode, body)
			}
			if !tt.flush {
				t.Errorf("got a header (%v) for a response that was never flushed", resp.StatusCode)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("got error %v, want %v", err, io.ErrUnexpectedEOF)
			}
		})
	}
}

// BenchmarkRecover measures the cost of Recover on a request that does not
// panic.
func BenchmarkRecover(b *testing.B) {
	h := middleware.Recover(middleware.RecoverConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	w := &stackBenchWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkRecoverOuterHeaders is BenchmarkRecover with keys header keys
// set by the middleware outside, which Recover notes on each request.
func BenchmarkRecoverOuterHeaders(b *testing.B) {
	for _, keys := range []int{4, 16, 32} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			h := middleware.Recover(middleware.RecoverConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			}))
			w := &stackBenchWriter{h: http.Header{}}
			for i := range keys {
				w.h.Set(fmt.Sprintf("X-Outer-%d", i), "1")
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
