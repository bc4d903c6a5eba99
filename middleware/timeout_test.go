package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/middleware"
)

// timeoutLate is what a handler that outlived Timeout's answer saw when
// it went on.
type timeoutLate struct {
	write, flush, hijack error
	cause                error
}

// TestTimeoutAnswersWhileHandlerRuns serves a handler that ignores its
// context and blocks until the test has read the 503: the answer must come
// while the handler still runs, and the handler's later writes must fail.
func TestTimeoutAnswersWhileHandlerRuns(t *testing.T) {
	servers := []struct {
		name  string
		start func(testing.TB, http.Handler) string
	}{
		{"net/http", func(t testing.TB, h http.Handler) string {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			return srv.URL
		}},
		{"hatago", func(t testing.TB, h http.Handler) string { return coreStartHatago(t, h, hatago.Config{}) }},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			release := make(chan struct{})
			late := make(chan timeoutLate, 1)
			h := middleware.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Handler", "1")
				<-release
				var l timeoutLate
				w.WriteHeader(http.StatusOK)
				_, l.write = io.WriteString(w, "too late")
				l.flush = http.NewResponseController(w).Flush()
				_, _, l.hijack = http.NewResponseController(w).Hijack()
				l.cause = context.Cause(r.Context())
				late <- l
			}), stackTag("outer"), middleware.Timeout(30*time.Millisecond))
			url := s.start(t, h)
			defer close(release) // also when the test fails before it

			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, http.StatusServiceUnavailable; got != want {
				t.Errorf("got status %v, want %v", got, want)
			}
			if got, want := string(body), "503 Service Unavailable\n"; got != want {
				t.Errorf("got body %q, want %q", got, want)
			}
			if !resp.Close {
				t.Error("got no Connection: close")
			}
			if got := resp.Header.Get("X-Order"); got != "outer" {
				t.Errorf("got X-Order %q, want the outer middleware's header kept", got)
			}
			if got := resp.Header.Get("X-Handler"); got != "" {
				t.Errorf("got X-Handler %q: the handler's header leaked into the answer", got)
			}

			release <- struct{}{}
			l := <-late
			for name, err := range map[string]error{"Write": l.write, "Flush": l.flush, "Hijack": l.hijack} {
				if !errors.Is(err, http.ErrHandlerTimeout) {
					t.Errorf("%s after the answer: got %v, want %v", name, err, http.ErrHandlerTimeout)
				}
			}
			if l.cause != middleware.ErrTimeout {
				t.Errorf("got cause %v, want %v", l.cause, middleware.ErrTimeout)
			}
		})
	}
}

// The tests that serve with a recorder run in a synctest bubble: its clock
// moves only when every goroutine in it is blocked, so a handler that
// must finish, or begin its response, before the deadline always does,
// however loaded the machine, and the deadline passes at once when the
// handler waits for it. Those that need a real server (sockets do not
// block durably in a bubble) only rely on the deadline passing some time.

// TestTimeoutHandlerHeedsContext: a handler that returns when its context
// ends sees the cause ErrTimeout, and the client still gets the 503.
func TestTimeoutHandlerHeedsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 10 * time.Second
		start := time.Now()
		var cause, ctxErr error
		var waited time.Duration
		h := middleware.Timeout(d)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			cause, ctxErr, waited = context.Cause(r.Context()), r.Context().Err(), time.Since(start)
		}))
		rec := coreGet(h, "/")
		if cause != middleware.ErrTimeout || ctxErr != context.DeadlineExceeded {
			t.Errorf("got cause %v, err %v; want %v, %v", cause, ctxErr, middleware.ErrTimeout, context.DeadlineExceeded)
		}
		if waited != d {
			t.Errorf("the context ended after %v, want %v", waited, d)
		}
		if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "503 Service Unavailable\n" {
			t.Errorf("got %v %q, want the 503", rec.Code, rec.Body.String())
		}
	})
}

// TestTimeoutInTime: a handler that finishes in time is untouched, and
// nothing writes to the response afterwards, even once the deadline has
// passed (go test -race watches the recorder, which is not safe for
// concurrent use).
func TestTimeoutInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 10 * time.Second
		var ctx context.Context
		h := middleware.Timeout(d)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx = r.Context()
			w.Header().Set("Content-Type", "text/x-test")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "done")
		}))
		rec := coreGet(h, "/")
		time.Sleep(3 * d) // past the deadline: a timer left running would fire
		synctest.Wait()
		if rec.Code != http.StatusCreated || rec.Body.String() != "done" || rec.Header().Get("Content-Type") != "text/x-test" {
			t.Errorf("got %v %q %q, want 201 done text/x-test", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
		}
		if got := rec.Header().Get("Connection"); got != "" {
			t.Errorf("got Connection %q, want none", got)
		}
		if got := context.Cause(ctx); got != context.Canceled {
			t.Errorf("got cause %v, want %v", got, context.Canceled)
		}
	})
}

// TestTimeoutBegunResponse: once the handler has begun its response the
// deadline only cancels its context; its writes go on.
func TestTimeoutBegunResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cause, err error
		h := middleware.Timeout(10 * time.Second)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "a")
			<-r.Context().Done()
			cause = context.Cause(r.Context())
			_, err = io.WriteString(w, "b")
			w.Header().Set("X-After", "ignored") // the real header map now: no race with the timer
		}))
		rec := coreGet(h, "/")
		if rec.Code != http.StatusOK || rec.Body.String() != "ab" {
			t.Errorf("got %v %q, want 200 ab", rec.Code, rec.Body.String())
		}
		if cause != middleware.ErrTimeout || err != nil {
			t.Errorf("got cause %v, write error %v; want %v, nil", cause, err, middleware.ErrTimeout)
		}
	})
}

// TestTimeoutClientGone: a context cancelled by the client (or the server)
// is not a timeout: nothing is answered for it.
func TestTimeoutClientGone(t *testing.T) {
	var cause error
	h := middleware.Timeout(time.Hour)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		cause = context.Cause(r.Context())
	}))
	ctx, cancel := context.WithCancelCause(context.Background())
	gone := errors.New("client gone")
	cancel(gone)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
	if cause != gone {
		t.Errorf("got cause %v, want %v", cause, gone)
	}
	if rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "" {
		t.Errorf("got an answer %v %q, want none", rec.Code, rec.Body.String())
	}
}

// TestTimeoutUnblocksBodyRead: a handler blocked reading the body of a
// client that stopped sending has its read fail once the client is
// answered.
func TestTimeoutUnblocksBodyRead(t *testing.T) {
	readErr := make(chan error, 1)
	srv := httptest.NewServer(middleware.Timeout(30 * time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	})))
	defer srv.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("some of the body")) // then nothing more
	req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got status %v, want 503", resp.StatusCode)
	}
	if err := <-readErr; err == nil {
		t.Error("the handler's read did not fail")
	}
}

// TestTimeoutRace lets the deadline and the handler's writes meet at every
// moment: the response must be the handler's or the 503, whole, and go
// test -race must see the handler's goroutine and the timer serialised.
func TestTimeoutRace(t *testing.T) {
	counts := map[int]int{}
	for i := range 300 {
		wait := time.Duration(i%40) * 25 * time.Microsecond
		h := middleware.Timeout(500 * time.Microsecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Handler", "1")
			time.Sleep(wait)
			w.Header().Set("Content-Type", "text/x-test")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, "handler")
			http.NewResponseController(w).Flush()
		}))
		rec := coreGet(h, "/")
		counts[rec.Code]++
		switch got := fmt.Sprintf("%d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()); got {
		case "202 text/x-test handler", "503 text/plain; charset=utf-8 503 Service Unavailable\n":
		default:
			t.Fatalf("got a mixed response %q", got)
		}
	}
	t.Logf("outcomes by status: %v", counts)
}

func TestTimeoutRejectsD(t *testing.T) {
	msg := coreMustPanic(t, func() { middleware.Timeout(0) })
	if want := "middleware: Timeout: d must be positive, got 0s"; !strings.Contains(msg, want) {
		t.Errorf("got %q, want %q", msg, want)
	}
}

// BenchmarkTimeout measures Timeout on a handler that answers in time.
func BenchmarkTimeout(b *testing.B) {
	h := middleware.Timeout(time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	}))
	w := &stackBenchWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}
