package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/middleware"
)

// coreStartHatago serves h with a real Hatago server on a free loopback
// port, stopped when the test ends, and returns its URL.
func coreStartHatago(t testing.TB, h http.Handler, cfg hatago.Config) string {
	t.Helper()
	cfg.Binds = []string{"tcp://127.0.0.1:0"}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := hatago.New(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return "http://" + srv.Addrs()[0].String()
}

func TestAccessLog(t *testing.T) {
	tests := []struct {
		name    string
		h       http.HandlerFunc
		status  float64
		bytes   float64
		flushed bool
	}{
		{"status and body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "hello")
		}, 201, 5, false},
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}, 200, 0, false},
		{"informational first", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		}, 202, 0, false},
		{"io.Copy", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(w, strings.NewReader(strings.Repeat("x", 1000)))
		}, 200, 1000, false},
		{"flush through the wrapper", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "a")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}, 200, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log coreLog
			h := middleware.Chain(tt.h, middleware.RequestID(middleware.RequestIDConfig{}),
				middleware.AccessLog(middleware.AccessLogConfig{Logger: log.logger()}))
			r := httptest.NewRequest(http.MethodPost, "/things?secret=1", nil)
			r.Header.Set("User-Agent", "test/1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Flushed != tt.flushed {
				t.Errorf("got flushed %v, want %v", rec.Flushed, tt.flushed)
			}
			recs := log.records(t)
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			got := recs[0]
			want := map[string]any{
				"level": "INFO", "msg": "request", "method": "POST", "path": "/things", "proto": "HTTP/1.1",
				"status": tt.status, "bytes": tt.bytes, "queue": 0.0, "remote": "192.0.2.1:1234",
				"request_id": rec.Header().Get("X-Request-Id"), "user_agent": "test/1",
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("got %s %v, want %v", k, got[k], v)
				}
			}
			if d, ok := got["duration"].(float64); !ok || d < 0 {
				t.Errorf("got duration %v, want a duration", got["duration"])
			}
			for _, k := range []string{"slot", "panic"} {
				if _, ok := got[k]; ok {
					t.Errorf("got %s %v, want none", k, got[k])
				}
			}
		})
	}
}

func TestAccessLogPanic(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status float64
	}{
		{"before the response", "", 500},
		{"after a write", "partial", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log coreLog
			h := middleware.AccessLog(middleware.AccessLogConfig{Logger: log.logger()})(recoverPanicking("boom", tt.body))
			var v any
			func() {
				defer func() { v = recover() }()
				coreGet(h, "/")
			}()
			if v != "boom" {
				t.Errorf("got panic %v, want boom passed on", v)
			}
			recs := log.records(t)
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			if recs[0]["status"] != tt.status || recs[0]["panic"] != true {
				t.Errorf("got status %v panic %v, want %v true", recs[0]["status"], recs[0]["panic"], tt.status)
			}
		})
	}
}

func TestAccessLogNotLogged(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*slog.Logger) middleware.AccessLogConfig
	}{
		{"Skip", func(l *slog.Logger) middleware.AccessLogConfig {
			return middleware.AccessLogConfig{Logger: l, Skip: func(r *http.Request) bool { return r.URL.Path == "/health" }}
		}},
		{"level disabled", func(l *slog.Logger) middleware.AccessLogConfig {
			return middleware.AccessLogConfig{Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log coreLog
			rec := httptest.NewRecorder()
			var got http.ResponseWriter
			h := middleware.AccessLog(tt.cfg(log.logger()))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = w }))
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
			if n := len(log.records(t)); n != 0 {
				t.Errorf("got %d records, want 0", n)
			}
			if got != rec {
				t.Errorf("the handler got %T, want the ResponseWriter unwrapped", got)
			}
		})
	}
}

// TestAccessLogHatago serves through a real Hatago server, which tells
// the handler its slot and the time it waited for one.
func TestAccessLogHatago(t *testing.T) {
	var log coreLog
	h := middleware.AccessLog(middleware.AccessLogConfig{Logger: log.logger(), Level: slog.LevelDebug})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	url := coreStartHatago(t, h, hatago.Config{MaxSlots: 2})
	resp, err := http.Get(url + "/x")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	recs := log.records(t)
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	got := recs[0]
	if got["level"] != "DEBUG" || got["status"] != 200.0 || got["bytes"] != 2.0 || got["path"] != "/x" {
		t.Errorf("got record %v", got)
	}
	if q, ok := got["queue"].(float64); !ok || q < 0 {
		t.Errorf("got queue %v, want a duration", got["queue"])
	}
	if s, ok := got["slot"].(float64); !ok || s < 0 || s > 1 {
		t.Errorf("got slot %v, want 0 or 1", got["slot"])
	}
	if r, _ := got["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
		t.Errorf("got remote %q", r)
	}
}

// BenchmarkAccessLog measures the middleware with a JSON handler writing
// to io.Discard, and with a logger not enabled at the level.
func BenchmarkAccessLog(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	tests := []struct {
		name string
		log  *slog.Logger
	}{
		{"json", slog.New(slog.NewJSONHandler(io.Discard, nil))},
		{"disabled", slog.New(slog.DiscardHandler)},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			mw := middleware.AccessLog(middleware.AccessLogConfig{Logger: tt.log})(h)
			w := &stackBenchWriter{h: http.Header{}}
			r := httptest.NewRequest(http.MethodGet, "/api/users", nil)
			r.Header.Set("User-Agent", "bench/1")
			b.ReportAllocs()
			for b.Loop() {
				mw.ServeHTTP(w, r)
			}
		})
	}
}
