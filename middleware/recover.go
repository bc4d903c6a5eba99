package middleware

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
)

// RecoverConfig configures Recover. The zero value logs to slog.Default()
// and answers 500.
type RecoverConfig struct {
	// Logger receives one Error record per recovered panic, with the
	// method, path, panic value, stack and request ID (when RequestID ran
	// before). Default slog.Default(), looked up at each panic.
	Logger *slog.Logger
	// OnPanic, if set, answers the client in place of the default 500. It
	// is called with the handler's ResponseWriter, only if the handler had
	// not begun its response, with the panic value and the stack of the
	// goroutine that panicked; the header holds again only what the
	// middleware outside Recover had set. It must be safe for concurrent
	// use. A panic in OnPanic is not recovered.
	OnPanic func(w http.ResponseWriter, r *http.Request, v any, stack []byte)
}

// Recover returns middleware that recovers a panic in the handlers it
// wraps, logs it with its stack, and answers 500 Internal Server Error
// with a short plain-text body (or calls OnPanic): the client gets an
// answer where net/http alone would drop the connection. The middleware is
// safe for concurrent use.
//
// A panic with http.ErrAbortHandler is passed on unchanged and not
// logged: it is how a handler asks net/http to abort the response. When
// the handler had already begun its response (written its header or some
// of its body) a 500 can no longer be sent; Recover logs the panic and
// then panics with http.ErrAbortHandler, so net/http closes the
// connection (HTTP/1) or resets the stream (HTTP/2) and the client sees
// a cut response, not a truncated one that looks complete.
//
// A handler that panics may have set headers meant for the response it
// did not finish, such as a rotated session cookie (Set-Cookie) or a
// Location. Recover notes the header as the middleware outside it left it
// when the request reaches it, and on a panic puts it back exactly, so
// everything the handler set, changed or deleted is undone, before it
// answers. The default answer then also drops, whoever set them, the
// headers that would misdescribe it (Content-Encoding, Content-Range,
// Content-Disposition, ETag, Last-Modified, Cache-Control, Trailer).
// Noting the header costs an allocation only when it has more than 16
// keys.
//
// A Hatago server recovers panics itself; Recover lets a route log and
// answer them its own way, and protects handlers served by plain net/http.
func Recover(cfg RecoverConfig) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cw := &coreWriter{w: w}
			// The header as the middleware outside left it, to go back to
			// on a panic: its keys and value slices, on the stack unless
			// there are many. The values need no copy: Header's methods
			// replace or extend a key's slice, never change its elements.
			var buf [recoverSavedHeaders]recoverHeader
			var saved []recoverHeader
			if h := w.Header(); len(h) > 0 {
				saved = buf[:0]
				if len(h) > len(buf) {
					saved = make([]recoverHeader, 0, len(h))
				}
				for k, vv := range h {
					saved = append(saved, recoverHeader{k, vv})
				}
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				stack := debug.Stack()
				log := cfg.Logger
				if log == nil {
					log = slog.Default()
				}
				attrs := []slog.Attr{
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(stack)),
				}
				if id := RequestIDFrom(r.Context()); id != "" {
					attrs = append(attrs, slog.String("request_id", id))
				}
				if cw.status != 0 {
					attrs = append(attrs, slog.Bool("aborted", true))
				}
				log.LogAttrs(r.Context(), slog.LevelError, "middleware: handler panic", attrs...)
				if cw.status != 0 {
					panic(http.ErrAbortHandler)
				}
				h := w.Header()
				clear(h)
				for _, e := range saved {
					h[e.key] = e.values
				}
				if cfg.OnPanic != nil {
					cfg.OnPanic(w, r, v, stack)
					return
				}
				for _, k := range recoverDropHeaders {
					h.Del(k)
				}
				coreAnswer(w, http.StatusInternalServerError)
			}()
			next.ServeHTTP(cw, r)
		})
	}
}

// recoverHeader is one key of the response header and its values, as
// Recover found them.
type recoverHeader struct {
	key    string
	values []string
}

// recoverSavedHeaders is how many header keys Recover saves without
// allocating.
const recoverSavedHeaders = 16

// recoverDropHeaders are the headers the middleware outside Recover may
// have set that would misdescribe its 500.
var recoverDropHeaders = []string{
	"Content-Encoding", "Content-Range", "Content-Disposition", "Etag",
	"Last-Modified", "Cache-Control", "Trailer",
}

// coreAnswer answers code with a one-line plain-text body that names the
// status, as hatago.DefaultErrorHandler does. Recover, BodyLimit and
// Timeout answer with it.
func coreAnswer(w http.ResponseWriter, code int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	body := strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// coreWriter wraps a ResponseWriter to note the status and the body bytes
// written, for Recover and AccessLog. It is used by the handler's
// goroutine alone, like the ResponseWriter it wraps.
type coreWriter struct {
	w       http.ResponseWriter
	status  int // 0 until the response begins; 101 once hijacked
	written int64
}

var (
	_ http.Flusher  = (*coreWriter)(nil)
	_ http.Hijacker = (*coreWriter)(nil)
	_ io.ReaderFrom = (*coreWriter)(nil)
)

func (cw *coreWriter) Header() http.Header { return cw.w.Header() }

func (cw *coreWriter) WriteHeader(code int) {
	if cw.status == 0 && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		cw.status = code
	}
	cw.w.WriteHeader(code)
}

func (cw *coreWriter) Write(p []byte) (int, error) {
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	n, err := cw.w.Write(p)
	cw.written += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path for io.Copy from a file.
func (cw *coreWriter) ReadFrom(src io.Reader) (int64, error) {
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := cw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{cw.w}, src)
	}
	cw.written += n
	return n, err
}

// FlushError flushes the response; http.ResponseController.Flush calls it.
func (cw *coreWriter) FlushError() error {
	err := http.NewResponseController(cw.w).Flush()
	if err == nil && cw.status == 0 {
		cw.status = http.StatusOK // the flush sent the header
	}
	return err
}

// Flush implements http.Flusher.
func (cw *coreWriter) Flush() { _ = cw.FlushError() }

// Hijack implements http.Hijacker; it fails with http.ErrNotSupported
// where the wrapped writer cannot hijack (HTTP/2).
func (cw *coreWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(cw.w).Hijack()
	if err == nil {
		cw.status = http.StatusSwitchingProtocols
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the methods not wrapped here.
func (cw *coreWriter) Unwrap() http.ResponseWriter { return cw.w }
