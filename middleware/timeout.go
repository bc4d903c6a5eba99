package middleware

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrTimeout is the cause (context.Cause) of the request context of a
// handler that ran past the deadline of Timeout; ctx.Err() is then
// context.DeadlineExceeded, as for any deadline.
var ErrTimeout = errors.New("middleware: request timeout")

// Timeout returns middleware that gives each request d to be answered. The
// middleware is safe for concurrent use. It panics if d is not positive.
//
// The handler runs in the request's own goroutine, with a context that is
// cancelled at the deadline with the cause ErrTimeout. If the handler has
// not begun its response by then, the client is answered at once, from a
// timer, without waiting for the handler: 503 Service Unavailable with a
// short plain-text body (as a Hatago server's Config.RequestTimeout
// answers) and, on HTTP/1, "Connection: close". From then on the
// handler's writes are dropped: Write, Flush and Hijack fail with
// http.ErrHandlerTimeout, and a handler blocked reading the request body
// has its read fail. A handler that returns after the deadline without
// having written anything gets the same 503.
//
// On HTTP/2 the client has the whole answer at once, but the stream ends
// (net/http sends its END_STREAM) only when the handler returns.
//
// If the handler had begun its response when the deadline passed, no
// status can be sent any more: Timeout only cancels the context, and the
// handler's writes go on. A handler that streams should watch its
// context.
//
// Until the handler begins its response, w.Header() is a copy of the
// response's header that the handler alone touches (so the timer can
// answer meanwhile without a data race); Timeout copies it into the
// response when the handler writes its header. A handler should call
// w.Header() again after writing its header, to set trailers.
//
// Timeout returns only when the handler returns, and nothing is written
// to the ResponseWriter after that. A handler that ignores its context
// keeps its goroutine (and, in a Hatago server, its slot) until it
// returns, whatever the client was told: the deadline bounds the wait of
// the client, not the work.
func Timeout(d time.Duration) Middleware {
	if d <= 0 {
		panic(fmt.Sprintf("middleware: Timeout: d must be positive, got %v", d))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeoutCause(r.Context(), d, ErrTimeout)
			defer cancel()
			tw := &timeoutWriter{w: w, http1: r.ProtoMajor == 1}
			// A timer of its own, set after the context's, is cheaper than
			// context.AfterFunc; when it fires the context's deadline has
			// passed, so the wait for Done is short.
			t := time.AfterFunc(d, func() {
				<-ctx.Done()
				tw.expire(ctx)
			})
			defer t.Stop()
			returned := false
			defer func() { tw.finish(ctx, returned) }()
			next.ServeHTTP(tw, r.WithContext(ctx))
			returned = true
		})
	}
}

// timeoutWriter is the ResponseWriter the handler of Timeout gets. Its
// lock serialises the handler's goroutine and the timer's: whichever
// begins the response first owns it. Once the handler has written its
// header, the timer no longer writes, so the handler writes its body
// without the lock.
type timeoutWriter struct {
	w     http.ResponseWriter
	http1 bool

	mu       sync.Mutex  // guards the fields below, and w until the handler writes its header
	h        http.Header // the handler's header until it writes it; nil if not asked for
	status   int         // the status the handler wrote; 0 before
	hijacked bool
	answered bool // Timeout answered 503: the handler's writes are dropped
	done     bool // ServeHTTP is returning: nothing may be written any more
}

var (
	_ http.Flusher  = (*timeoutWriter)(nil)
	_ http.Hijacker = (*timeoutWriter)(nil)
	_ io.ReaderFrom = (*timeoutWriter)(nil)
)

// expire runs once ctx has ended at or after Timeout's deadline; it
// answers the client if the handler has not begun to.
func (tw *timeoutWriter) expire(ctx context.Context) {
	if context.Cause(ctx) != ErrTimeout {
		return // the handler returned, or the client left
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.done || tw.status != 0 || tw.hijacked || tw.answered {
		return
	}
	tw.answerLocked()
	// A handler blocked reading the body would not notice the
	// cancellation; the connection closes after this answer anyway.
	_ = http.NewResponseController(tw.w).SetReadDeadline(time.Now())
}

// finish runs as ServeHTTP returns: afterwards the timer writes nothing.
// A handler that returned after the deadline without writing, having
// heeded its context, is answered here if the timer has not yet.
func (tw *timeoutWriter) finish(ctx context.Context, returned bool) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.done = true
	if returned && tw.status == 0 && !tw.hijacked && !tw.answered && context.Cause(ctx) == ErrTimeout {
		tw.answerLocked()
	}
}

func (tw *timeoutWriter) answerLocked() {
	tw.answered = true
	if tw.http1 {
		tw.w.Header().Set("Connection", "close")
	}
	coreAnswer(tw.w, http.StatusServiceUnavailable)
	_ = http.NewResponseController(tw.w).Flush()
}

func (tw *timeoutWriter) Header() http.Header {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.status != 0 && !tw.answered {
		return tw.w.Header()
	}
	if tw.h == nil {
		tw.h = tw.w.Header().Clone()
		if tw.h == nil {
			tw.h = http.Header{}
		}
	}
	return tw.h
}

func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.answered {
		return
	}
	tw.writeHeaderLocked(code)
}

func (tw *timeoutWriter) writeHeaderLocked(code int) {
	if tw.status != 0 {
		tw.w.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	if tw.h != nil {
		dst := tw.w.Header()
		clear(dst)
		maps.Copy(dst, tw.h)
	}
	if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
		tw.status, tw.h = code, nil
	}
	tw.w.WriteHeader(code)
}

// beginLocked checks that the handler may still write and writes its
// header if it has not.
func (tw *timeoutWriter) beginLocked() error {
	if tw.answered {
		return http.ErrHandlerTimeout
	}
	if tw.status == 0 {
		tw.writeHeaderLocked(http.StatusOK)
	}
	return nil
}

func (tw *timeoutWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	err := tw.beginLocked()
	tw.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return tw.w.Write(p)
}

// ReadFrom keeps net/http's sendfile path for io.Copy from a file.
func (tw *timeoutWriter) ReadFrom(src io.Reader) (int64, error) {
	tw.mu.Lock()
	err := tw.beginLocked()
	tw.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if rf, ok := tw.w.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{tw.w}, src)
}

// FlushError flushes the response; http.ResponseController.Flush calls it.
func (tw *timeoutWriter) FlushError() error {
	tw.mu.Lock()
	err := tw.beginLocked()
	tw.mu.Unlock()
	if err != nil {
		return err
	}
	return http.NewResponseController(tw.w).Flush()
}

// Flush implements http.Flusher.
func (tw *timeoutWriter) Flush() { _ = tw.FlushError() }

// Hijack implements http.Hijacker. After a hijack the timer only cancels
// the context.
func (tw *timeoutWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.answered {
		return nil, nil, http.ErrHandlerTimeout
	}
	c, brw, err := http.NewResponseController(tw.w).Hijack()
	if err == nil {
		tw.hijacked = true
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the methods not wrapped here
// (SetReadDeadline, SetWriteDeadline, EnableFullDuplex).
func (tw *timeoutWriter) Unwrap() http.ResponseWriter { return tw.w }
