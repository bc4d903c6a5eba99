package hatago

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// responseWriter wraps the http.ResponseWriter a handler gets. It records
// the status and size for stats and logs, turns an error status into 413
// when the body was too large, and lets the reaper end the response from
// another goroutine: after a request timeout writes fail with
// http.ErrHandlerTimeout, after a write timeout with os.ErrDeadlineExceeded.
// One lives in each slot and is reused by the slot's requests, so wrapping
// costs no allocation.
//
// The write timeout is the reaper's too (see cutStalled), not a socket
// deadline: net/http clears an HTTP/1 connection's write deadline after
// every response, so a deadline would cost a clock read and a timer reset on
// every request.
type responseWriter struct {
	w            http.ResponseWriter
	writeTimeout time.Duration
	clock        func() time.Duration // the reaper's coarse clock
	conn         *connState           // the request's connection, when known

	mu           sync.Mutex // guards the fields below
	r            *http.Request
	cancel       context.CancelCauseFunc // cancels the request's context
	active       bool                    // a request is being served
	deadline     time.Duration           // on the pool's clock; 0: no request timeout
	status       int                     // 0 until the header is written
	written      int64
	writingSince time.Duration // coarse clock when the header was written
	ownDeadline  bool          // the handler set a write deadline itself
	bodyTooLarge bool
	timedOut     bool // the reaper ended the request
	answered     bool // the reaper answered the client itself
	cut          bool // the reaper cut a stalled response
}

// outcome is what the server still needs to know when a handler returns.
type outcome struct {
	status       int   // sent, or 0
	written      int64 // body bytes
	timedOut     bool  // past the request timeout
	answered     bool  // the client got a response header, from the handler or the reaper
	cut          bool  // the response stalled past the write timeout and was cut
	bodyTooLarge bool
}

func (rw *responseWriter) begin(w http.ResponseWriter, r *http.Request, conn *connState, deadline time.Duration, cancel context.CancelCauseFunc) {
	rw.mu.Lock()
	rw.w, rw.r, rw.conn, rw.cancel = w, r, conn, cancel
	rw.active, rw.deadline = true, deadline
	rw.status, rw.written, rw.writingSince = 0, 0, 0
	rw.ownDeadline, rw.bodyTooLarge, rw.timedOut, rw.answered, rw.cut = false, false, false, false, false
	rw.mu.Unlock()
}

// end closes the request's books and reports what the server still has to
// do.
func (rw *responseWriter) end() outcome {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.active = false
	o := outcome{
		status:       rw.status,
		written:      rw.written,
		timedOut:     rw.timedOut,
		answered:     rw.answered || rw.status != 0,
		cut:          rw.cut,
		bodyTooLarge: rw.bodyTooLarge,
	}
	rw.w, rw.r, rw.conn, rw.cancel = nil, nil, nil, nil
	return o
}

// stoppedLocked returns the error for a write after the reaper ended the
// response, or nil.
func (rw *responseWriter) stoppedLocked() error {
	switch {
	case rw.timedOut:
		return http.ErrHandlerTimeout
	case rw.cut:
		return os.ErrDeadlineExceeded
	}
	return nil
}

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.timedOut {
		return
	}
	rw.writeHeaderLocked(code)
}

func (rw *responseWriter) writeHeaderLocked(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code) // informational: the real header is still to come
		return
	}
	if rw.status != 0 {
		rw.w.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	if rw.bodyTooLarge && code >= 400 {
		code = http.StatusRequestEntityTooLarge
		closeConn(rw.w, rw.r)
	}
	rw.writingSince = rw.clock()
	rw.status = code
	rw.w.WriteHeader(code)
}

// startLocked checks that the response may still be written and writes
// the header if the handler has not: after it, the reaper no longer writes
// to the connection (it only closes it), so the handler's own writes happen
// without the lock, and a handler blocked on a slow client never blocks the
// reaper.
func (rw *responseWriter) startLocked() error {
	if err := rw.stoppedLocked(); err != nil {
		return err
	}
	if rw.status == 0 {
		rw.writeHeaderLocked(http.StatusOK)
	}
	return nil
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	err := rw.startLocked()
	rw.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := rw.w.Write(p)
	rw.count(int64(n))
	return n, err
}

func (rw *responseWriter) count(n int64) {
	rw.mu.Lock()
	rw.written += n
	rw.mu.Unlock()
}

// ReadFrom keeps net/http's sendfile path for io.Copy from a file.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	rw.mu.Lock()
	err := rw.startLocked()
	rw.mu.Unlock()
	if err != nil {
		return 0, err
	}
	var n int64
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{rw.w}, src)
	}
	rw.count(n)
	return n, err
}

// FlushError flushes the response; http.ResponseController.Flush calls it.
func (rw *responseWriter) FlushError() error {
	rw.mu.Lock()
	err := rw.startLocked()
	rw.mu.Unlock()
	if err != nil {
		return err
	}
	return http.NewResponseController(rw.w).Flush()
}

// Flush implements http.Flusher.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// Hijack implements http.Hijacker. The slot stays busy until the handler
// returns, whatever it does with the connection.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if err := rw.stoppedLocked(); err != nil {
		return nil, nil, err
	}
	c, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.status = http.StatusSwitchingProtocols
		rw.deadline = 0       // a hijacked connection is the handler's to time out
		rw.ownDeadline = true // and to bound its writes
	}
	return c, brw, err
}

// SetWriteDeadline sets the response's write deadline, as
// http.ResponseController.SetWriteDeadline does; from then on the handler's
// deadline bounds the response instead of Config.WriteTimeout, so a long
// stream can extend its own time.
func (rw *responseWriter) SetWriteDeadline(t time.Time) error {
	rw.mu.Lock()
	rw.ownDeadline = true
	rw.mu.Unlock()
	return http.NewResponseController(rw.w).SetWriteDeadline(t)
}

// Unwrap lets http.ResponseController reach the methods not wrapped here
// (SetReadDeadline, EnableFullDuplex).
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

// cutStalled ends a response that began writing more than WriteTimeout ago
// on the coarse clock now: it closes an HTTP/1 connection, or fails an
// HTTP/2 stream's writes. The handler's writes fail from then on. It reports
// whether it cut.
func (rw *responseWriter) cutStalled(now time.Duration) bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.active || rw.status == 0 || rw.ownDeadline || rw.writeTimeout <= 0 ||
		rw.timedOut || rw.cut || now-rw.writingSince <= rw.writeTimeout {
		return false
	}
	rw.cut = true
	if rw.r.ProtoMajor == 1 && rw.conn != nil {
		_ = rw.conn.conn.Close()
	} else {
		_ = http.NewResponseController(rw.w).SetWriteDeadline(time.Now())
	}
	return true
}

// cancelActive cancels the context of the request in flight, if any.
func (rw *responseWriter) cancelActive(cause error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.active && rw.cancel != nil {
		rw.cancel(cause)
	}
}

func (rw *responseWriter) markBodyTooLarge() {
	rw.mu.Lock()
	rw.bodyTooLarge = true
	rw.mu.Unlock()
}

// expire ends the request if it is still the one that ran past deadline
// now. It answers an HTTP/1 client at once on its connection when the
// handler has not begun the response, or cuts the connection when it has;
// for HTTP/2 the server answers when the handler returns. It counts the
// timeout in s's stats and reports whether the request timed out.
func (rw *responseWriter) expire(now time.Duration, s *Server) bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.active || rw.timedOut || rw.deadline == 0 || now < rw.deadline {
		return false
	}
	rw.timedOut = true
	s.timedOut.Add(1) // before the answer, so a client that sees it sees it counted
	rw.cancel(ErrRequestTimeout)
	// A handler blocked reading the body of a client that stopped sending
	// does not see the cancellation: fail its read. (On HTTP/2 nothing
	// else would: the connection stays open for the other streams.)
	_ = http.NewResponseController(rw.w).SetReadDeadline(time.Now())
	r := rw.r
	if r.ProtoMajor != 1 || rw.conn == nil {
		return true
	}
	conn := rw.conn.conn
	if rw.status == 0 {
		// ErrorHandler runs and the answer is written with rw.mu held, so
		// that the handler cannot begin its own response meanwhile. The
		// write is small and bounded by a deadline.
		if code, err := writeRaw(conn, r, s.cfg.ErrorHandler, ErrRequestTimeout); err == nil {
			rw.answered, rw.status = true, code // the status for the access log
		}
	}
	// A response begun cannot be ended cleanly: cutting the connection
	// tells the client it is incomplete. After an answer, the close is
	// delayed a little so the client reads it rather than a reset.
	if rw.answered {
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		time.AfterFunc(time.Second, func() { _ = conn.Close() })
	} else {
		_ = conn.Close()
	}
	return true
}

// bufferedResponse is an http.ResponseWriter that keeps what is written, so
// ErrorHandler can answer on a raw connection.
type bufferedResponse struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.h }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

// writeRaw renders handler's answer to err and writes it to conn as an
// HTTP/1.1 response that closes the connection. It returns the status sent.
func writeRaw(conn net.Conn, r *http.Request, handler func(http.ResponseWriter, *http.Request, error), err error) (int, error) {
	b := &bufferedResponse{h: http.Header{}}
	handler(b, r, err)
	if b.code == 0 {
		b.code = ErrorStatus(err)
	}
	b.h.Set("Content-Length", strconv.Itoa(b.body.Len()))
	b.h.Set("Connection", "close")
	b.h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + strconv.Itoa(b.code) + " " + http.StatusText(b.code) + "\r\n")
	_ = b.h.Write(&out)
	out.WriteString("\r\n")
	if r.Method != http.MethodHead {
		out.Write(b.body.Bytes())
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, werr := conn.Write(out.Bytes())
	return b.code, werr
}

// limitedBody bounds a request body like http.MaxBytesReader, and tells the
// response writer when the bound was crossed so the answer becomes 413. One
// lives in each slot.
type limitedBody struct {
	rc        io.ReadCloser
	limit     int64
	remaining int64
	rw        *responseWriter
	hit       bool
}

func (b *limitedBody) reset(rc io.ReadCloser, limit int64, rw *responseWriter) {
	*b = limitedBody{rc: rc, limit: limit, remaining: limit, rw: rw}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.hit {
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte past the limit to tell "exactly at" from "over".
	if int64(len(p))-1 > b.remaining {
		p = p[:b.remaining+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= b.remaining {
		b.remaining -= int64(n)
		return n, err
	}
	n = int(b.remaining)
	b.remaining = 0
	b.hit = true
	b.rw.markBodyTooLarge()
	return n, &http.MaxBytesError{Limit: b.limit}
}

func (b *limitedBody) Close() error { return b.rc.Close() }
