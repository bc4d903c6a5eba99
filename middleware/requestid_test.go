package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hatago/hatago/middleware"
)

// requestIDDefault matches the default generator's IDs.
var requestIDDefault = regexp.MustCompile(`^[0-9a-v]{13}-[0-9]+$`)

// requestIDServe serves a request with the given values of header through
// RequestID(cfg), and returns the ID the handler saw in its context, in
// its request header, and the response header.
func requestIDServe(cfg middleware.RequestIDConfig, header string, values ...string) (ctxID, reqID, respID string) {
	h := middleware.RequestID(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctxID = middleware.RequestIDFrom(r.Context())
		reqID = strings.Join(r.Header.Values(header), ",")
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, v := range values {
		r.Header.Add(header, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return ctxID, reqID, strings.Join(rec.Header().Values(header), ",")
}

func TestRequestID(t *testing.T) {
	longest := strings.Repeat("a", 128)
	tests := []struct {
		name     string
		cfg      middleware.RequestIDConfig
		header   string
		incoming []string
		want     string // "" for a new default ID
	}{
		{"none", middleware.RequestIDConfig{}, "X-Request-Id", nil, ""},
		{"valid kept", middleware.RequestIDConfig{}, "X-Request-Id", []string{"abc-123_XYZ:/=+"}, "abc-123_XYZ:/=+"},
		{"128 bytes kept", middleware.RequestIDConfig{}, "X-Request-Id", []string{longest}, longest},
		{"129 bytes replaced", middleware.RequestIDConfig{}, "X-Request-Id", []string{longest + "a"}, ""},
		{"empty replaced", middleware.RequestIDConfig{}, "X-Request-Id", []string{""}, ""},
		{"space replaced", middleware.RequestIDConfig{}, "X-Request-Id", []string{"a b"}, ""},
		{"control replaced", middleware.RequestIDConfig{}, "X-Request-Id", []string{"a\x7fb"}, ""},
		{"non-ASCII replaced", middleware.RequestIDConfig{}, "X-Request-Id", []string{"ид"}, ""},
		{"two values replaced", middleware.RequestIDConfig{}, "X-Request-Id", []string{"a", "b"}, ""},
		{"IgnoreIncoming", middleware.RequestIDConfig{IgnoreIncoming: true}, "X-Request-Id", []string{"abc"}, ""},
		{"own header and generator", middleware.RequestIDConfig{Header: "x-trace", Generate: func() string { return "fixed" }}, "X-Trace", []string{"bad id"}, "fixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctxID, reqID, respID := requestIDServe(tt.cfg, tt.header, tt.incoming...)
			if tt.want == "" {
				if !requestIDDefault.MatchString(respID) {
					t.Errorf("got %q, want a new ID like %v", respID, requestIDDefault)
				}
			} else if respID != tt.want {
				t.Errorf("got %q, want %q", respID, tt.want)
			}
			if ctxID != respID || reqID != respID {
				t.Errorf("got context %q, request header %q, response header %q: want one ID", ctxID, reqID, respID)
			}
		})
	}
}

func TestRequestIDUnique(t *testing.T) {
	const goroutines, each = 8, 500
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				_, _, id := requestIDServe(middleware.RequestIDConfig{}, "X-Request-Id")
				mu.Lock()
				if seen[id] {
					t.Errorf("ID %q given twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got, want := len(seen), goroutines*each; got != want {
		t.Errorf("got %v IDs, want %v", got, want)
	}
}

func TestRequestIDFromWithout(t *testing.T) {
	if got := middleware.RequestIDFrom(context.Background()); got != "" {
		t.Errorf("got %q, want \"\"", got)
	}
}

func TestRequestIDRejectsHeader(t *testing.T) {
	for _, name := range []string{"X Request", "X-Id:", "Ид"} {
		t.Run(name, func(t *testing.T) {
			msg := coreMustPanic(t, func() { middleware.RequestID(middleware.RequestIDConfig{Header: name}) })
			if want := "middleware: RequestID: Header "; !strings.HasPrefix(msg, want) {
				t.Errorf("got %q, want it to begin %q", msg, want)
			}
		})
	}
}

// FuzzRequestID sends any incoming ID: the ID given must always be valid,
// and the incoming one kept exactly when it is valid.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a b", "\x00", "\r\nX-Evil: 1", strings.Repeat("z", 129), "ид", "~!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ctxID, _, respID := requestIDServe(middleware.RequestIDConfig{}, "X-Request-Id", in)
		valid := len(in) >= 1 && len(in) <= 128
		for i := 0; i < len(in); i++ {
			valid = valid && in[i] > ' ' && in[i] < 0x7f
		}
		if valid && respID != in {
			t.Errorf("valid ID %q replaced by %q", in, respID)
		}
		if !valid && !requestIDDefault.MatchString(respID) {
			t.Errorf("invalid ID %q gave %q, want a new ID", in, respID)
		}
		if ctxID != respID {
			t.Errorf("got context %q, response %q", ctxID, respID)
		}
	})
}

// BenchmarkRequestID measures RequestID making a new ID and keeping an
// incoming one.
func BenchmarkRequestID(b *testing.B) {
	h := middleware.RequestID(middleware.RequestIDConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, incoming := range []string{"", "0123456789abcdef"} {
		name := "new"
		if incoming != "" {
			name = "incoming"
		}
		b.Run(name, func(b *testing.B) {
			w := &stackBenchWriter{h: http.Header{}}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			b.ReportAllocs()
			for b.Loop() {
				if incoming != "" {
					r.Header["X-Request-Id"] = []string{incoming}
				} else {
					delete(r.Header, "X-Request-Id")
				}
				h.ServeHTTP(w, r)
			}
		})
	}
}
