package middleware_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatago/hatago/middleware"
)

// lintReports collects what Lint reports, from any goroutine.
type lintReports struct {
	mu sync.Mutex // guards vs
	vs []middleware.Violation
}

func (c *lintReports) report(v middleware.Violation) {
	c.mu.Lock()
	c.vs = append(c.vs, v)
	c.mu.Unlock()
}

func (c *lintReports) rules() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var rules []string
	for _, v := range c.vs {
		rules = append(rules, v.Rule)
	}
	return rules
}

func (c *lintReports) all() []middleware.Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.vs)
}

// lintServe serves one request through Lint and returns the recorder and
// the reports.
func lintServe(t testing.TB, h http.HandlerFunc, req *http.Request) (*httptest.ResponseRecorder, *lintReports) {
	t.Helper()
	c := &lintReports{}
	rec := httptest.NewRecorder()
	middleware.Lint(middleware.LintConfig{Report: c.report})(h).ServeHTTP(rec, req)
	return rec, c
}

func TestLintRules(t *testing.T) {
	get := func() *http.Request { return httptest.NewRequest("GET", "/p", nil) }
	head := func() *http.Request { return httptest.NewRequest("HEAD", "/p", nil) }
	post := func(body string) func() *http.Request {
		return func() *http.Request { return httptest.NewRequest("POST", "/p", strings.NewReader(body)) }
	}
	tests := []struct {
		name     string
		req      func() *http.Request
		handler  http.HandlerFunc
		want     []string // rules, in report order
		wantCode int      // if not 0, the status the client got
		wantBody string   // if not "", the body the client got
		message  string   // if not "", a part of the first report's message
	}{
		{
			name:    "clean write",
			req:     get,
			handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
		},
		{
			name: "clean status then body",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "made")
			},
			wantCode: http.StatusCreated,
		},
		{
			name: "clean informational headers repeat before the final one",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Link", "</a.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Add("Link", "</b.js>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, "<p>")
			},
		},
		{
			name: "write-header-twice",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.WriteHeader(http.StatusInternalServerError)
			},
			want:     []string{"write-header-twice"},
			wantCode: http.StatusOK,
			message:  "WriteHeader(500) after WriteHeader(200)",
		},
		{
			name: "write-header-twice after 101, which is final",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusSwitchingProtocols)
				w.WriteHeader(http.StatusOK)
			},
			want: []string{"write-header-twice"},
		},
		{
			name: "write-header-twice: 1xx after the final status",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.WriteHeader(http.StatusEarlyHints)
			},
			want: []string{"write-header-twice"},
		},
		{
			name: "write-header-after-write",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "oops")
				w.WriteHeader(http.StatusNotFound)
			},
			want:     []string{"write-header-after-write"},
			wantCode: http.StatusOK,
			wantBody: "oops",
		},
		{
			name: "write-header-after-write: after an empty Write",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(nil)
				w.WriteHeader(http.StatusNotFound)
			},
			want: []string{"write-header-after-write"},
		},
		{
			name: "write-header-after-write: after a Flush",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.(http.Flusher).Flush()
				w.WriteHeader(http.StatusNotFound)
			},
			want:     []string{"write-header-after-write"},
			wantCode: http.StatusOK,
		},
		{
			name:     "invalid-status below 100",
			req:      get,
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(42) },
			want:     []string{"invalid-status"},
			wantCode: http.StatusInternalServerError,
			message:  "WriteHeader(42)",
		},
		{
			name:     "invalid-status above 599",
			req:      get,
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(600) },
			want:     []string{"invalid-status"},
			wantCode: http.StatusInternalServerError,
		},
		{
			name:     "clean status 599",
			req:      get,
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) },
			wantCode: 599,
		},
		{
			name: "header-after-send, found at return",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.Header().Set("X-Late", "1")
			},
			want:    []string{"header-after-send"},
			message: "header X-Late changed after WriteHeader(200)",
		},
		{
			name: "header-after-send, found at the next Write",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				io.WriteString(w, "a")
				w.Header().Del("Cache-Control")
				w.Header().Set("Set-Cookie", "s=1")
				io.WriteString(w, "b")
			},
			want:    []string{"header-after-send"},
			message: "header Cache-Control, Set-Cookie changed after the first Write or Flush",
		},
		{
			name: "header-after-send, found at Flush",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.Header().Add("Vary", "Accept")
				w.(http.Flusher).Flush()
			},
			want:    []string{"header-after-send"},
			message: "found at Flush",
		},
		{
			name: "clean trailers change after the header was sent",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Sum, x-count")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, "data")
				w.Header().Set("X-Sum", "abc")
				w.Header().Set("X-Count", "1")
				w.Header().Set(http.TrailerPrefix+"X-Undeclared", "2")
				io.WriteString(w, "more")
			},
		},
		{
			name: "header-after-send: a trailer declared too late",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.Header().Set("Trailer", "X-Sum")
				w.Header().Set("X-Sum", "abc")
			},
			want:    []string{"header-after-send"},
			message: "header Trailer, X-Sum changed",
		},
		{
			name: "content-length-mismatch: more than declared",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "3")
				io.WriteString(w, "ab")
				io.WriteString(w, "cd")
				io.WriteString(w, "ef")
			},
			want:    []string{"content-length-mismatch"},
			message: "Write brings the body to 4 bytes, past its Content-Length 3",
		},
		{
			name: "content-length-mismatch: fewer than declared",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, "hello")
			},
			want:    []string{"content-length-mismatch"},
			message: "written 5 of the 10 bytes",
		},
		{
			name: "content-length-mismatch: nothing written",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "10")
			},
			want: []string{"content-length-mismatch"},
		},
		{
			name: "clean content length",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5")
				io.WriteString(w, "hel")
				io.WriteString(w, "lo")
			},
		},
		{
			name: "clean content length for HEAD, no body",
			req:  head,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5")
			},
		},
		{
			name: "clean content length with 304",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5")
				w.WriteHeader(http.StatusNotModified)
			},
		},
		{
			name: "invalid-content-length",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "five")
				io.WriteString(w, "hello")
			},
			want: []string{"invalid-content-length"},
		},
		{
			name: "invalid-content-length at return",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "-1")
			},
			want: []string{"invalid-content-length"},
		},
		{
			name: "body-not-allowed with 204",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				io.WriteString(w, "x")
			},
			want:    []string{"body-not-allowed"},
			message: "status 204",
		},
		{
			name: "body-not-allowed with 304",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotModified)
				io.WriteString(w, "x")
			},
			want: []string{"body-not-allowed"},
		},
		{
			name: "clean 204 with an empty write",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				w.Write(nil)
			},
		},
		{
			name: "clean body for HEAD",
			req:  head,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "5")
				io.WriteString(w, "hello")
			},
		},
		{
			name: "body-not-closed",
			req:  post("0123456789"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				r.Body = io.NopCloser(io.LimitReader(r.Body, 3))
				io.ReadAll(r.Body)
			},
			want:    []string{"body-not-closed"},
			message: "read in part (3 bytes)",
		},
		{
			name: "clean replacement read to the end",
			req:  post("0123456789"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				r.Body = io.NopCloser(r.Body)
				io.ReadAll(r.Body)
			},
		},
		{
			name: "clean replacement whose Close closes the body it wraps",
			req:  post("0123456789"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				r.Body = http.MaxBytesReader(w, r.Body, 100)
				io.ReadFull(r.Body, make([]byte, 2))
				r.Body.Close()
			},
		},
		{
			name: "clean replacement of an unread body",
			req:  post("0123456789"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader("replaced"))
			},
		},
		{
			name: "clean body half read and left, not replaced",
			req:  post("0123456789"),
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.ReadFull(r.Body, make([]byte, 3))
			},
		},
		{
			name: "clean after a handler panic (nothing judged)",
			req:  get,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "10")
				panic(http.ErrAbortHandler)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			var c *lintReports
			func() {
				defer func() {
					if v := recover(); v != nil && v != http.ErrAbortHandler {
						panic(v)
					}
				}()
				rec, c = lintServe(t, tt.handler, tt.req())
			}()
			if c == nil {
				c = &lintReports{}
			}
			if got := c.rules(); !slices.Equal(got, tt.want) {
				t.Fatalf("got rules %q, want %q; reports:\n%v", got, tt.want, c.all())
			}
			if tt.message != "" {
				if msg := c.all()[0].Message; !strings.Contains(msg, tt.message) {
					t.Errorf("got message %q, want it to contain %q", msg, tt.message)
				}
			}
			if tt.wantCode != 0 && rec.Code != tt.wantCode {
				t.Errorf("got status %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("got body %q, want %q", rec.Body.String(), tt.wantBody)
			}
			for _, v := range c.all() {
				if v.Method != tt.req().Method || v.Path != "/p" {
					t.Errorf("got request %s %s, want %s /p", v.Method, v.Path, tt.req().Method)
				}
			}
		})
	}
}

// TestLintStacks checks that a violation points at the offending line,
// not at Lint, and at the earlier call it conflicts with.
func TestLintStacks(t *testing.T) {
	_, c := lintServe(t, func(w http.ResponseWriter, r *http.Request) {
		lintTestFirstHeader(w)
		lintTestSecondHeader(w)
	}, httptest.NewRequest("GET", "/", nil))
	vs := c.all()
	if len(vs) != 1 {
		t.Fatalf("got %d reports, want 1: %v", len(vs), vs)
	}
	v := vs[0]
	for _, tc := range []struct {
		name  string
		stack []byte
		want  string
	}{
		{"Stack", v.Stack, "middleware_test.lintTestSecondHeader"},
		{"Earlier", v.Earlier, "middleware_test.lintTestFirstHeader"},
	} {
		first, _, _ := strings.Cut(string(tc.stack), "\n")
		if first != "github.com/hatago/hatago/"+tc.want {
			t.Errorf("%s starts with %q, want the caller %s:\n%s", tc.name, first, tc.want, tc.stack)
		}
		if !strings.Contains(string(tc.stack), "lint_test.go:") {
			t.Errorf("%s has no file:line in lint_test.go:\n%s", tc.name, tc.stack)
		}
	}
	s := v.String()
	for _, want := range []string{"middleware: Lint: write-header-twice: GET /: WriteHeader(400)", "\nthis call:\n\tgithub.com/", "\nearlier call:\n\t"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
	if v.Error() != s {
		t.Errorf("Error() differs from String()")
	}
}

//go:noinline
func lintTestFirstHeader(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }

//go:noinline
func lintTestSecondHeader(w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) }

func TestLintReportsOncePerRule(t *testing.T) {
	_, c := lintServe(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for range 5 {
			w.WriteHeader(http.StatusTeapot)
		}
		w.WriteHeader(42)
	}, httptest.NewRequest("GET", "/", nil))
	if got, want := c.rules(), []string{"write-header-twice"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestLintPanic(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		want     string
		wantCode int // the recorder's status after: 200 if nothing reached it
	}{
		{"body-not-allowed", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			io.WriteString(w, "not sent")
		}, "body-not-allowed", http.StatusNoContent},
		{"invalid-status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(1000) }, "invalid-status", http.StatusOK},
		{"at return", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
		}, "content-length-mismatch", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h := middleware.Lint(middleware.LintConfig{Panic: true, Report: func(v middleware.Violation) {
				t.Errorf("Report called with Panic set: %v", v)
			}})(tt.handler)
			var got any
			func() {
				defer func() { got = recover() }()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			}()
			var v middleware.Violation
			if err, ok := got.(error); !ok || !errors.As(err, &v) || v.Rule != tt.want {
				t.Fatalf("got panic %v, want a Violation of rule %s", got, tt.want)
			}
			if rec.Body.Len() != 0 || rec.Code != tt.wantCode || rec.Flushed {
				t.Errorf("the offending call reached the ResponseWriter: status %d, body %q", rec.Code, rec.Body.String())
			}
		})
	}
}

// TestLintUseAfterReturn keeps w and r past the handler's return and uses
// them: every call is reported once as use-after-return and none reaches
// the recorder.
func TestLintUseAfterReturn(t *testing.T) {
	var kept http.ResponseWriter
	var keptReq *http.Request
	rec, c := lintServe(t, func(w http.ResponseWriter, r *http.Request) {
		kept, keptReq = w, r
		io.WriteString(w, "in time")
	}, httptest.NewRequest("POST", "/", strings.NewReader("body")))

	kept.Header().Set("X-Late", "1")
	if n, err := io.WriteString(kept, "late"); n != 0 || err == nil {
		t.Errorf("late Write returned %d, %v; want 0 and an error", n, err)
	}
	kept.WriteHeader(http.StatusTeapot)
	kept.(http.Flusher).Flush()
	if err := http.NewResponseController(kept).Flush(); err == nil {
		t.Errorf("late ResponseController.Flush returned nil, want an error")
	}
	if err := http.NewResponseController(kept).SetWriteDeadline(time.Now()); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("late SetWriteDeadline returned %v, want ErrNotSupported (Unwrap gives a discarding writer)", err)
	}
	if _, _, err := kept.(http.Hijacker).Hijack(); err == nil {
		t.Errorf("late Hijack returned nil error")
	}
	if n, err := keptReq.Body.Read(make([]byte, 4)); n != 0 || err == nil {
		t.Errorf("late body Read returned %d, %v; want 0 and an error", n, err)
	}
	if err := keptReq.Body.Close(); err == nil {
		t.Errorf("late body Close returned nil")
	}

	if got, want := c.rules(), []string{"use-after-return"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (once per request)", got, want)
	}
	if v := c.all()[0]; !strings.Contains(v.Message, "Header after the handler returned") || !strings.Contains(string(v.Stack), "TestLintUseAfterReturn") {
		t.Errorf("got %v, want the late Header call and its stack", v)
	}
	if rec.Body.String() != "in time" || rec.Code != http.StatusOK || rec.Header().Get("X-Late") != "" || rec.Flushed {
		t.Errorf("a late call reached the recorder: status %d, body %q, header %v, flushed %v", rec.Code, rec.Body.String(), rec.Header(), rec.Flushed)
	}
}

// TestLintLateGoroutine is the typical bug: a goroutine keeps w and writes
// after the handler returned, while net/http reuses the connection for the
// next request. Lint must report and drop those writes; if it forwarded
// them, the responses would be corrupted and -race would report a race
// inside net/http.
func TestLintLateGoroutine(t *testing.T) {
	c := &lintReports{}
	var late sync.WaitGroup
	h := middleware.Lint(middleware.LintConfig{Report: c.report})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wrote := make(chan struct{})
		late.Go(func() {
			<-wrote
			// Writes until the handler has returned (those before are
			// fine), then tries the rest.
			for {
				if _, err := io.WriteString(w, "LATE"); err != nil {
					break
				}
				runtime.Gosched()
			}
			w.Header().Set("X-Late", "1")
			w.(http.Flusher).Flush()
			r.Body.Close()
		})
		io.WriteString(w, "ok")
		close(wrote)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer late.Wait()

	client := srv.Client()
	for i := range 20 {
		resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(string(body), "ok")
		if !ok || strings.ReplaceAll(rest, "LATE", "") != "" {
			t.Fatalf("request %d: got body %q, want \"ok\" and the LATE writes made before the return", i, body)
		}
		if resp.Header.Get("X-Late") != "" {
			t.Fatalf("request %d: a late header reached the client", i)
		}
	}
	late.Wait()
	n := 0
	for _, v := range c.all() {
		if v.Rule != "use-after-return" {
			t.Errorf("got rule %s, want only use-after-return: %v", v.Rule, v)
		}
		if !strings.Contains(string(v.Stack), "TestLintLateGoroutine.func") {
			t.Errorf("the report's stack does not show the goroutine:\n%s", v.Stack)
		}
		n++
	}
	if n != 20 {
		t.Errorf("got %d reports, want one per request: 20", n)
	}
}

// TestLintConcurrentWriters writes from two goroutines while the handler
// runs (a contract violation in itself): Lint's own bookkeeping must not
// be the race -race reports.
func TestLintConcurrentWriters(t *testing.T) {
	c := &lintReports{}
	h := middleware.Lint(middleware.LintConfig{Report: c.report})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					w.Write([]byte("x"))
					w.(http.Flusher).Flush()
				}
			})
		}
		wg.Wait()
	}))
	rec := &lockedRecorder{rec: httptest.NewRecorder()}
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.rec.Body.Len(); got != 200 {
		t.Errorf("got %d bytes, want 200", got)
	}
	if got := c.rules(); len(got) != 0 {
		t.Errorf("got %q, want no reports", got)
	}
}

// lockedRecorder is a recorder for TestLintConcurrentWriters; Lint
// serializes the calls itself, so its lock is never contended, and
// TryLock proves it.
type lockedRecorder struct {
	mu  sync.Mutex
	rec *httptest.ResponseRecorder
}

func (l *lockedRecorder) Header() http.Header { return l.rec.Header() }
func (l *lockedRecorder) Write(p []byte) (int, error) {
	if !l.mu.TryLock() {
		panic("two calls reached the ResponseWriter at once")
	}
	defer l.mu.Unlock()
	return l.rec.Write(p)
}
func (l *lockedRecorder) WriteHeader(code int) { l.rec.WriteHeader(code) }
func (l *lockedRecorder) Flush() {
	if !l.mu.TryLock() {
		panic("two calls reached the ResponseWriter at once")
	}
	defer l.mu.Unlock()
	l.rec.Flush()
}

// TestLintResponseController serves through a real server: Flush,
// SetWriteDeadline (through Unwrap) and Hijack work through Lint's writer.
func TestLintResponseController(t *testing.T) {
	c := &lintReports{}
	flushed := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		io.WriteString(w, "first\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		<-flushed // the client read the first line: the flush went through
		io.WriteString(w, "second\n")
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		brw.Flush()
	})
	srv := httptest.NewServer(middleware.Lint(middleware.LintConfig{Report: c.report})(mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/flush")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("got %q, %v; want the flushed first line", line, err)
	}
	close(flushed)
	rest, _ := io.ReadAll(br)
	resp.Body.Close()
	if string(rest) != "second\n" {
		t.Errorf("got %q, want the second line", rest)
	}

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n")
	hresp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hresp.Body)
	if string(body) != "hijacked" {
		t.Errorf("got %q, want the hijacked answer", body)
	}
	if got := c.rules(); len(got) != 0 {
		t.Errorf("got %q, want no reports", got)
	}
}

// TestLintDefaultReport checks the default: an Error record through
// slog.Default().
func TestLintDefaultReport(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	rec := httptest.NewRecorder()
	middleware.Lint(middleware.LintConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusOK)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	out := buf.String()
	for _, want := range []string{"level=ERROR", `msg="middleware: Lint: write-header-twice"`, "rule=write-header-twice", "path=/x", "stack=", "earlier="} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q does not contain %q", out, want)
		}
	}
}

func TestLintKeepsNoBody(t *testing.T) {
	var got io.ReadCloser
	lintServe(t, func(w http.ResponseWriter, r *http.Request) { got = r.Body }, httptest.NewRequest("GET", "/", nil))
	if got != http.NoBody {
		t.Errorf("got body %T, want http.NoBody", got)
	}
}

func TestLintNilHandler(t *testing.T) {
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "middleware: Lint") {
			t.Errorf("got panic %v, want one naming Lint", v)
		}
	}()
	middleware.Lint(middleware.LintConfig{})(nil)
}

func BenchmarkLint(b *testing.B) {
	h := middleware.Lint(middleware.LintConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// FuzzLintContentLength sets any Content-Length and writes any number of
// bytes: Lint must agree with net/http on what the header says, and never
// panic.
func FuzzLintContentLength(f *testing.F) {
	for _, seed := range []struct {
		cl   string
		n    uint16
		head bool
	}{{"5", 5, false}, {"5", 7, false}, {"10", 3, false}, {"10", 0, true}, {"-1", 1, false}, {"0x10", 16, false}, {" 5", 5, false}, {"99999999999999999999", 1, false}} {
		f.Add(seed.cl, seed.n, seed.head)
	}
	f.Fuzz(func(t *testing.T, cl string, n uint16, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		_, c := lintServe(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Length"] = []string{cl}
			w.Write(make([]byte, n))
		}, httptest.NewRequest(method, "/", nil))
		var want []string
		v, err := strconv.ParseInt(cl, 10, 64)
		switch {
		case cl == "":
		case err != nil || v < 0:
			want = []string{"invalid-content-length"}
		case int64(n) > v || (int64(n) < v && !head):
			want = []string{"content-length-mismatch"}
		}
		if got := c.rules(); !slices.Equal(got, want) {
			t.Errorf("Content-Length %q, %d bytes, HEAD %v: got %q, want %q", cl, n, head, got, want)
		}
	})
}

// FuzzLintTrailer declares any Trailer header and then sets a key after
// the header was sent: only a declared trailer may change.
func FuzzLintTrailer(f *testing.F) {
	f.Add("X-Sum", "x-sum")
	f.Add("X-Sum, X-Count", "X-Count")
	f.Add("X-Sum", "X-Other")
	f.Add(",,", "X")
	f.Fuzz(func(t *testing.T, declared, key string) {
		key = http.CanonicalHeaderKey(strings.TrimSpace(key))
		if key == "" || key == "Trailer" || strings.HasPrefix(key, http.TrailerPrefix) {
			return
		}
		_, c := lintServe(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", declared)
			w.WriteHeader(http.StatusOK)
			w.Header().Set(key, "v")
		}, httptest.NewRequest("GET", "/", nil))
		isDeclared := false
		for k := range strings.SplitSeq(declared, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(k)) == key {
				isDeclared = true
			}
		}
		var want []string
		if !isDeclared {
			want = []string{"header-after-send"}
		}
		if got := c.rules(); !slices.Equal(got, want) {
			t.Errorf("Trailer %q, then %q: got %q, want %q", declared, key, got, want)
		}
	})
}
