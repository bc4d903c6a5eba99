package middleware

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// LintConfig configures Lint. The zero value logs each violation through
// slog.Default().
type LintConfig struct {
	// Report receives each violation, at most once per rule and request,
	// on the goroutine that made the offending call (for the rules checked
	// when the handler returns, the handler's goroutine). It must be safe
	// for concurrent use: a goroutine the handler left behind may report
	// while other requests do. Default: one Error record through
	// slog.Default() (looked up at each violation) with the rule, message,
	// request and stacks.
	Report func(Violation)
	// Panic, if true, panics with the Violation instead of reporting it,
	// before the offending call reaches the ResponseWriter (the server then
	// answers as for any panic), and on every violation, not once per
	// rule. Handy in tests: the test fails at the line that broke the
	// rule. A violation found on a goroutine the handler left behind
	// (use-after-return) panics on that goroutine, where nothing recovers
	// it, so the program stops: loud, which in a test is the point.
	Panic bool
}

// Violation is one broken rule of the handler contract, as Lint reports
// it. Its String and Error methods give the rule, the message and both
// stacks; Lint panics with a Violation when LintConfig.Panic is set.
type Violation struct {
	// Rule is the rule's stable id, such as "write-header-twice" (see Lint
	// for the list).
	Rule string
	// Message says what happened, in a sentence.
	Message string
	// Method and Path are the request's.
	Method, Path string
	// Stack is where the offending call was made, innermost call first,
	// one "function\n\tfile:line\n" pair per frame, Lint's own frames left
	// out. It is nil for the rules checked when the handler returns, where
	// there is no offending call to point at.
	Stack []byte
	// Earlier is the stack of the earlier call the offending one conflicts
	// with: the call that sent the header (for write-header-twice,
	// write-header-after-write, header-after-send, body-not-allowed and
	// content-length-mismatch), or the first Read of the body
	// (body-not-closed). Nil when there is none.
	Earlier []byte
}

// String returns the violation on several lines: "middleware: Lint:",
// the rule, the request and the message, then the stacks, indented.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "middleware: Lint: %s: %s %s: %s", v.Rule, v.Method, v.Path, v.Message)
	writeStack := func(title string, s []byte) {
		if len(s) == 0 {
			return
		}
		b.WriteString("\n" + title + ":")
		for line := range strings.Lines(string(s)) {
			b.WriteString("\n\t" + strings.TrimSuffix(line, "\n"))
		}
	}
	writeStack("this call", v.Stack)
	writeStack("earlier call", v.Earlier)
	return b.String()
}

// Error returns the same text as String, so a Violation can be handled
// and wrapped as an error.
func (v Violation) Error() string { return v.String() }

// Lint returns middleware that checks that the handlers it wraps keep the
// http.ResponseWriter and request body contract, and reports each broken
// rule as a Violation: the role of Rack::Lint, for development and tests
// (package hatagotest wraps handlers with it). Lint adds a mutex and a
// stack capture per response, so it is not meant for production traffic.
// The middleware is safe for concurrent use, and so is the ResponseWriter
// it passes down: a goroutine that breaks the contract is reported, and
// Lint itself is never the data race. It panics if given a nil handler.
//
// The rules, by id:
//
//   - write-header-twice: WriteHeader after an earlier WriteHeader sent a
//     final status (not 1xx; 101 Switching Protocols is final). 1xx
//     informational headers may be sent any number of times before it.
//     The late call is dropped, as net/http would drop it.
//   - write-header-after-write: WriteHeader after a Write or Flush already
//     sent the header with an implicit 200. The call is dropped.
//   - invalid-status: WriteHeader with a code outside 100 to 599 (RFC 9110
//     defines no others; net/http panics below 100 and above 999). Lint
//     sends 500 Internal Server Error in its place, which is what the
//     client of a panicking handler gets from a Hatago server, so nothing
//     invalid reaches net/http and the client is not told all went well.
//   - header-after-send: the header map changed after the header was sent:
//     the change never reached the client. Lint takes a copy of the header
//     when it is sent and compares at each later Write, Flush and
//     WriteHeader, and when the handler returns, naming the keys that
//     changed. Trailers may change: keys declared in the Trailer header
//     when it was sent, and keys starting with http.TrailerPrefix.
//   - use-after-return: Header, Write, WriteHeader, Flush, Hijack or
//     Unwrap (which http.ResponseController calls) on the ResponseWriter,
//     or Read or Close on the request body, after the handler returned:
//     typically a goroutine that kept w or r. net/http reuses both once the
//     handler returns, so Lint forwards nothing: the call is dropped (Write
//     and Read return an error, Header a map of its own, Unwrap a writer
//     that discards) and reported with the late caller's stack. A call
//     already running on the request body when the handler returns is not
//     interrupted; the next one is caught.
//   - body-not-closed: when the handler returns, r.Body on the request Lint
//     passed down is no longer the body Lint put there (a middleware below
//     Lint, or the handler, replaced it with a reader of its own: a
//     decompressor, a limit, a tee), and the body it replaced was read in
//     part but neither to its end (io.EOF or an error) nor closed. net/http
//     closes only the body it made, so a replacement must be closed by the
//     code that installed it, and its Close must close the body it wraps;
//     an abandoned one keeps whatever it holds (a decompressor's buffers, a
//     goroutine feeding a pipe, a temporary file). A body the handler
//     merely left unread or half read is not reported: in Go a handler
//     need not read or close r.Body, net/http closes it (and reads up to
//     256 KiB of what is left so the connection can be reused; past that
//     the connection is closed, and closing the body would not change it).
//   - content-length-mismatch: the handler set Content-Length and wrote
//     more body bytes than it says (reported at the Write that crosses it;
//     net/http fails that Write with http.ErrContentLength), or fewer by
//     the time it returned (net/http then closes the connection, and the
//     client sees a cut-off response). Fewer is not checked for HEAD requests or
//     for statuses without a body (1xx, 204, 304), where Content-Length
//     may describe the body a GET would have.
//   - invalid-content-length: the Content-Length header, when the header is
//     sent, is not a non-negative decimal integer (net/http logs it and
//     drops the header).
//   - body-not-allowed: a Write of one or more bytes when the status allows
//     no body: 1xx (such as 101), 204 or 304. net/http fails it with
//     http.ErrBodyNotAllowed. A body written for a HEAD request is not
//     reported: net/http discards it by design, so a GET handler serves
//     HEAD unchanged.
//
// Each rule is reported at most once per request. Lint does not see
// through what it cannot wrap: a header map or ResponseWriter a goroutine
// took (with Header or Unwrap) before the handler returned and uses after
// is for the race detector to find (see hatagotest.Hammer).
//
// The ResponseWriter Lint passes down implements http.Flusher (and
// FlushError), http.Hijacker and Unwrap, so http.ResponseController works
// through it; after a successful Hijack only use-after-return is checked.
// The request body keeps http.NoBody as it is.
func Lint(cfg LintConfig) Middleware {
	if cfg.Report == nil {
		cfg.Report = lintLog
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("middleware: Lint: next handler is nil")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			x := &lintExchange{}
			x.state = lintState{cfg: cfg, method: r.Method, path: r.URL.Path}
			x.writer = lintWriter{st: &x.state, w: w, contentLength: -1}
			var body *lintBody
			if r.Body != nil && r.Body != http.NoBody {
				body = &x.body
				*body = lintBody{st: &x.state, rc: r.Body}
				r = r.WithContext(r.Context()) // a copy: the caller's request keeps its body
				r.Body = body
			}
			returned := false
			defer func() {
				if !returned { // a panic: close the books without judging the response
					x.writer.end(nil, "")
					if body != nil {
						body.end(nil, nil)
					}
				}
			}()
			next.ServeHTTP(&x.writer, r)
			returned = true
			var found []lintFinding
			found = x.writer.end(found, r.Method)
			if body != nil {
				found = body.end(found, r)
			}
			x.state.emit(found)
		})
	}
}

// lintLog is Report's default.
func lintLog(v Violation) {
	attrs := []slog.Attr{
		slog.String("rule", v.Rule),
		slog.String("message", v.Message),
		slog.String("method", v.Method),
		slog.String("path", v.Path),
	}
	if v.Stack != nil {
		attrs = append(attrs, slog.String("stack", string(v.Stack)))
	}
	if v.Earlier != nil {
		attrs = append(attrs, slog.String("earlier", string(v.Earlier)))
	}
	slog.Default().LogAttrs(context.Background(), slog.LevelError, "middleware: Lint: "+v.Rule, attrs...)
}

// lintRule numbers the rules, for the once-per-request bits.
type lintRule uint8

const (
	lintWriteHeaderTwice lintRule = iota
	lintWriteHeaderAfterWrite
	lintInvalidStatus
	lintHeaderAfterSend
	lintUseAfterReturn
	lintBodyNotClosed
	lintContentLengthMismatch
	lintInvalidContentLength
	lintBodyNotAllowed
)

var lintRuleIDs = [...]string{
	lintWriteHeaderTwice:      "write-header-twice",
	lintWriteHeaderAfterWrite: "write-header-after-write",
	lintInvalidStatus:         "invalid-status",
	lintHeaderAfterSend:       "header-after-send",
	lintUseAfterReturn:        "use-after-return",
	lintBodyNotClosed:         "body-not-closed",
	lintContentLengthMismatch: "content-length-mismatch",
	lintInvalidContentLength:  "invalid-content-length",
	lintBodyNotAllowed:        "body-not-allowed",
}

// errLintReturned is what a dropped Write, Read, Close, Flush or Hijack
// after the handler returned gives back.
var errLintReturned = errors.New("middleware: Lint: the handler has returned; call dropped")

// lintExchange holds what Lint keeps for one request, in one allocation.
type lintExchange struct {
	state  lintState
	writer lintWriter
	body   lintBody
}

// lintState is what the writer and the body of one request share.
type lintState struct {
	cfg          LintConfig
	method, path string
	reported     atomic.Uint32 // a bit per lintRule already reported
}

// lintFinding is a violation before it is reported: its stacks are
// formatted only if it is.
type lintFinding struct {
	rule     lintRule
	msg      string
	earlier  lintStack // may be empty
	atReturn bool      // found when the handler returned: no offending call
}

// emit reports the findings, or panics with the first one if cfg.Panic. It
// runs on the goroutine that made the offending call, with no lock held.
func (s *lintState) emit(found []lintFinding) {
	for _, f := range found {
		bit := uint32(1) << f.rule
		if !s.cfg.Panic && s.reported.Or(bit)&bit != 0 {
			continue
		}
		v := Violation{
			Rule:    lintRuleIDs[f.rule],
			Message: f.msg,
			Method:  s.method,
			Path:    s.path,
			Earlier: f.earlier.format(),
		}
		if !f.atReturn {
			var here lintStack
			here.capture()
			v.Stack = here.format()
		}
		if s.cfg.Panic {
			panic(v)
		}
		s.cfg.Report(v)
	}
}

// lintLate is the use-after-return finding for a call named what.
func lintLate(what string) []lintFinding {
	return []lintFinding{{
		rule: lintUseAfterReturn,
		msg:  what + " after the handler returned (a goroutine kept the request's ResponseWriter or body?); the call was dropped",
	}}
}

// lintWriter is the ResponseWriter Lint passes down.
type lintWriter struct {
	st *lintState
	w  http.ResponseWriter

	// mu guards the fields below, and is held across every call forwarded
	// to w: that is what makes "nothing reaches w after the handler
	// returned" true when a stray goroutine races with the return.
	mu            sync.Mutex
	done          bool // the handler returned
	hijacked      bool
	status        int  // the final status sent; 0 before
	implicit      bool // a Write or Flush sent the header, not WriteHeader
	sentAt        lintStack
	sent          http.Header     // the header as sent
	trailers      map[string]bool // declared in the Trailer header as sent
	contentLength int64           // from the header as sent; -1: none
	written       int64
}

var (
	_ http.Flusher  = (*lintWriter)(nil)
	_ http.Hijacker = (*lintWriter)(nil)
	_ io.ReadCloser = (*lintBody)(nil)
)

// Header returns the ResponseWriter's header map; after the handler
// returned, a map of its own.
func (lw *lintWriter) Header() http.Header {
	lw.mu.Lock()
	if lw.done {
		lw.mu.Unlock()
		lw.st.emit(lintLate("Header"))
		return http.Header{}
	}
	h := lw.w.Header()
	lw.mu.Unlock()
	return h
}

// WriteHeader checks and forwards a status.
func (lw *lintWriter) WriteHeader(code int) {
	lw.mu.Lock()
	if lw.done {
		lw.mu.Unlock()
		lw.st.emit(lintLate(fmt.Sprintf("WriteHeader(%d)", code)))
		return
	}
	if lw.hijacked {
		lw.w.WriteHeader(code)
		lw.mu.Unlock()
		return
	}
	if lw.status != 0 {
		f := lintFinding{rule: lintWriteHeaderTwice, earlier: lw.sentAt,
			msg: fmt.Sprintf("WriteHeader(%d) after WriteHeader(%d) sent the header; the call was dropped", code, lw.status)}
		if lw.implicit {
			f.rule = lintWriteHeaderAfterWrite
			f.msg = fmt.Sprintf("WriteHeader(%d) after a Write or Flush sent the header with 200; the call was dropped", code)
		}
		found := lw.headerChangesLocked([]lintFinding{f}, "WriteHeader")
		lw.mu.Unlock()
		lw.st.emit(found)
		return
	}
	var found []lintFinding
	if code < 100 || code > 599 {
		found = append(found, lintFinding{rule: lintInvalidStatus,
			msg: fmt.Sprintf("WriteHeader(%d): a status is 100 to 599; sent 500 in its place", code)})
		code = http.StatusInternalServerError
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		lw.w.WriteHeader(code) // informational: more may follow
		lw.mu.Unlock()
		return
	}
	cl, found := lintContentLength(lw.w.Header(), found)
	if lw.st.cfg.Panic && len(found) > 0 {
		lw.mu.Unlock()
		lw.st.emit(found)
		return
	}
	lw.sentAt.capture()
	lw.status, lw.contentLength = code, cl
	lw.w.WriteHeader(code)
	lw.snapshotLocked()
	lw.mu.Unlock()
	lw.st.emit(found)
}

// Write checks and forwards body bytes; after the handler returned it
// drops them and returns an error.
func (lw *lintWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	if lw.done {
		lw.mu.Unlock()
		lw.st.emit(lintLate("Write"))
		return 0, errLintReturned
	}
	if lw.hijacked {
		defer lw.mu.Unlock()
		return lw.w.Write(p)
	}
	var found []lintFinding
	sending := lw.status == 0
	status, cl := lw.status, lw.contentLength
	if sending {
		status = http.StatusOK
		cl, found = lintContentLength(lw.w.Header(), found)
	} else {
		found = lw.headerChangesLocked(found, "Write")
	}
	if len(p) > 0 && !lintBodyAllowed(status) {
		found = append(found, lintFinding{rule: lintBodyNotAllowed, earlier: lw.sentAt,
			msg: fmt.Sprintf("Write of %d bytes with status %d, which allows no body", len(p), status)})
	}
	if total := lw.written + int64(len(p)); cl >= 0 && total > cl && lw.written <= cl {
		found = append(found, lintFinding{rule: lintContentLengthMismatch, earlier: lw.sentAt,
			msg: fmt.Sprintf("Write brings the body to %d bytes, past its Content-Length %d", total, cl)})
	}
	if lw.st.cfg.Panic && len(found) > 0 {
		lw.mu.Unlock()
		lw.st.emit(found)
		return 0, errLintReturned // not reached
	}
	if sending {
		lw.sentAt.capture()
		lw.status, lw.implicit, lw.contentLength = status, true, cl
	}
	lw.written += int64(len(p))
	n, err := lw.w.Write(p)
	if sending {
		lw.snapshotLocked()
	}
	lw.mu.Unlock()
	lw.st.emit(found)
	return n, err
}

// Flush forwards a flush, if the ResponseWriter beneath can.
func (lw *lintWriter) Flush() { _ = lw.FlushError() }

// FlushError forwards a flush and returns its error, for
// http.ResponseController.Flush.
func (lw *lintWriter) FlushError() error {
	lw.mu.Lock()
	if lw.done {
		lw.mu.Unlock()
		lw.st.emit(lintLate("Flush"))
		return errLintReturned
	}
	if lw.hijacked {
		defer lw.mu.Unlock()
		return http.NewResponseController(lw.w).Flush()
	}
	var found []lintFinding
	sending := lw.status == 0
	cl := lw.contentLength
	if sending {
		cl, found = lintContentLength(lw.w.Header(), found)
	} else {
		found = lw.headerChangesLocked(found, "Flush")
	}
	if lw.st.cfg.Panic && len(found) > 0 {
		lw.mu.Unlock()
		lw.st.emit(found)
		return errLintReturned // not reached
	}
	err := http.NewResponseController(lw.w).Flush()
	if sending {
		if errors.Is(err, http.ErrNotSupported) {
			found = nil // nothing was sent
		} else {
			lw.sentAt.capture()
			lw.status, lw.implicit, lw.contentLength = http.StatusOK, true, cl
			lw.snapshotLocked()
		}
	}
	lw.mu.Unlock()
	lw.st.emit(found)
	return err
}

// Hijack forwards a hijack (through http.ResponseController, so it works
// through further wrappers); after one, Lint checks only use-after-return.
func (lw *lintWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	lw.mu.Lock()
	if lw.done {
		lw.mu.Unlock()
		lw.st.emit(lintLate("Hijack"))
		return nil, nil, errLintReturned
	}
	defer lw.mu.Unlock()
	c, rw, err := http.NewResponseController(lw.w).Hijack()
	if err == nil {
		lw.hijacked = true
	}
	return c, rw, err
}

// Unwrap returns the ResponseWriter beneath, for http.ResponseController;
// after the handler returned, one that discards everything.
func (lw *lintWriter) Unwrap() http.ResponseWriter {
	lw.mu.Lock()
	if lw.done {
		lw.mu.Unlock()
		lw.st.emit(lintLate("Unwrap (http.ResponseController)"))
		return lintDiscard{h: http.Header{}}
	}
	defer lw.mu.Unlock()
	return lw.w
}

// end marks the handler returned and, if method is not empty (the handler
// did not panic), checks the response as it was left.
func (lw *lintWriter) end(found []lintFinding, method string) []lintFinding {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.done = true
	if method == "" || lw.hijacked {
		return found
	}
	status, cl := lw.status, lw.contentLength
	if status == 0 {
		// net/http sends the header now, with 200 and no body.
		status = http.StatusOK
		var invalid []lintFinding
		if cl, invalid = lintContentLength(lw.w.Header(), nil); invalid != nil {
			invalid[0].atReturn = true
			found = append(found, invalid...)
		}
	} else {
		found = lw.headerChangesLocked(found, "")
	}
	if cl >= 0 && lw.written < cl && method != http.MethodHead && lintBodyAllowed(status) {
		found = append(found, lintFinding{rule: lintContentLengthMismatch, earlier: lw.sentAt, atReturn: true,
			msg: fmt.Sprintf("the handler returned having written %d of the %d bytes its Content-Length promised", lw.written, cl)})
	}
	return found
}

// snapshotLocked copies the header just sent, for header-after-send.
func (lw *lintWriter) snapshotLocked() {
	lw.sent = lw.w.Header().Clone()
	lw.trailers = nil
	for _, v := range lw.sent["Trailer"] {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				if lw.trailers == nil {
					lw.trailers = make(map[string]bool)
				}
				lw.trailers[http.CanonicalHeaderKey(k)] = true
			}
		}
	}
}

// headerChangesLocked appends a header-after-send finding if the header
// changed since it was sent; at names the call that found it, "" for the
// handler's return. The copy is brought up to date, so a change is
// reported once.
func (lw *lintWriter) headerChangesLocked(found []lintFinding, at string) []lintFinding {
	if lw.sent == nil {
		return found
	}
	h := lw.w.Header()
	var changed []string
	note := func(k string) {
		if !lw.trailers[k] && !strings.HasPrefix(k, http.TrailerPrefix) {
			changed = append(changed, k)
		}
	}
	for k, v := range h {
		if old, ok := lw.sent[k]; !ok || !slices.Equal(old, v) {
			note(k)
		}
	}
	for k := range lw.sent {
		if _, ok := h[k]; !ok {
			note(k)
		}
	}
	if len(changed) == 0 {
		return found
	}
	slices.Sort(changed)
	lw.sent = h.Clone()
	f := lintFinding{rule: lintHeaderAfterSend, earlier: lw.sentAt}
	sentBy := fmt.Sprintf("WriteHeader(%d)", lw.status)
	if lw.implicit {
		sentBy = "the first Write or Flush"
	}
	f.msg = fmt.Sprintf("header %s changed after %s sent the header; the client never sees the change (declare trailers in the Trailer header or use http.TrailerPrefix)",
		strings.Join(changed, ", "), sentBy)
	if at == "" {
		f.atReturn = true
		f.msg += "; found when the handler returned"
	} else {
		f.msg += "; found at " + at
	}
	return append(found, f)
}

// lintContentLength returns the Content-Length h declares, or -1, and
// appends an invalid-content-length finding for a malformed one.
func lintContentLength(h http.Header, found []lintFinding) (int64, []lintFinding) {
	s := h.Get("Content-Length")
	if s == "" {
		return -1, found
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1, append(found, lintFinding{rule: lintInvalidContentLength,
			msg: fmt.Sprintf("Content-Length %q is not a non-negative integer; net/http drops it", s)})
	}
	return n, found
}

// lintBodyAllowed reports whether a response with status may have a body.
func lintBodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199) && status != http.StatusNoContent && status != http.StatusNotModified
}

// lintBody is the request body Lint passes down.
type lintBody struct {
	st *lintState
	rc io.ReadCloser

	// mu guards the fields below. It is not held across calls to rc: a
	// Read may wait on the client for long, and a handler may write the
	// response while another goroutine reads (full duplex).
	mu        sync.Mutex
	done      bool // the handler returned
	read      int64
	ended     bool // a Read returned an error, io.EOF or other
	closed    bool
	firstRead lintStack
}

// Read forwards a read; after the handler returned it drops it and
// returns an error.
func (b *lintBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		b.st.emit(lintLate("Read of the request body"))
		return 0, errLintReturned
	}
	if b.firstRead.n == 0 {
		b.firstRead.capture()
	}
	b.mu.Unlock()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	b.read += int64(n)
	if err != nil {
		b.ended = true
	}
	b.mu.Unlock()
	return n, err
}

// Close forwards a close; after the handler returned it drops it and
// returns an error.
func (b *lintBody) Close() error {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		b.st.emit(lintLate("Close of the request body"))
		return errLintReturned
	}
	b.closed = true
	b.mu.Unlock()
	return b.rc.Close()
}

// end marks the handler returned and, if r is not nil (the handler did not
// panic), checks for an abandoned replacement of the body.
func (b *lintBody) end(found []lintFinding, r *http.Request) []lintFinding {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	if r == nil || r.Body == io.ReadCloser(b) || b.read == 0 || b.ended || b.closed {
		return found
	}
	return append(found, lintFinding{rule: lintBodyNotClosed, earlier: b.firstRead, atReturn: true,
		msg: fmt.Sprintf("r.Body was replaced by a %T, and the body it replaced was read in part (%d bytes) but neither to its end nor closed: close the replacement when done, and make its Close close the body it wraps", r.Body, b.read)})
}

// lintDiscard is what Unwrap returns after the handler returned.
type lintDiscard struct{ h http.Header }

func (d lintDiscard) Header() http.Header         { return d.h }
func (d lintDiscard) Write(p []byte) (int, error) { return 0, errLintReturned }
func (d lintDiscard) WriteHeader(int)             {}

// lintStack is a captured call stack, formatted only when reported.
type lintStack struct {
	n   int
	pcs [48]uintptr
}

// capture records the stack of its caller's caller and beyond; format
// drops Lint's own frames anyway.
func (s *lintStack) capture() { s.n = runtime.Callers(2, s.pcs[:]) }

// lintPkg is this package's path, to drop Lint's frames from stacks.
var lintPkg = reflect.TypeFor[lintWriter]().PkgPath()

// format returns the stack as "function\n\tfile:line\n" lines, innermost
// first, without Lint's leading frames; nil if empty.
func (s *lintStack) format() []byte {
	if s.n == 0 {
		return nil
	}
	var b bytes.Buffer
	frames := runtime.CallersFrames(s.pcs[:s.n])
	leading := true
	for {
		fr, more := frames.Next()
		fn := fr.Function
		own := strings.HasPrefix(fn, lintPkg+".(*lint") || strings.HasPrefix(fn, lintPkg+".lint") ||
			strings.HasPrefix(fn, lintPkg+".Lint.") || strings.HasPrefix(fn, "runtime.")
		if !(leading && own) && fn != "runtime.goexit" {
			leading = false
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", fn, fr.File, fr.Line)
		}
		if !more {
			break
		}
	}
	return b.Bytes()
}
