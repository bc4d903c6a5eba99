package hatago

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// responseWriter wraps the http.ResponseWriter a handler gets. It records
// the status and size for stats and logs, sets the write deadline, turns an
// error status into 413 when the body was too large, and lets the timeout
// reaper end the response from another goroutine: after that, writes fail
// with http.ErrHandlerTimeout. One lives in each slot and is reused by the
// slot's requests, so wrapping costs no allocation.
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
	deadlineSet  bool
	bodyTooLarge bool
	timedOut     bool // the reaper ended the request
	answered     bool // the reaper answered the client itself
}

func (rw *responseWriter) begin(w http.ResponseWriter, r *http.Request, conn *connState, deadline time.Duration, cancel context.CancelCauseFunc) {
	rw.mu.Lock()
	rw.w, rw.r, rw.conn, rw.cancel = w, r, conn, cancel
	rw.active, rw.deadline = true, deadline
	rw.status, rw.written = 0, 0
	rw.deadlineSet, rw.bodyTooLarge, rw.timedOut, rw.answered = false, false, false, false
	rw.mu.Unlock()
}

// end closes the request's books and reports what the server still has to
// do: the status and size sent, whether it timed out, and whether the client
// was answered already (by the handler or by the reaper).
func (rw *responseWriter) end() (status int, written int64, timedOut, answered bool) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.deadlineSet && rw.status == 0 && !rw.timedOut {
		rw.setDeadlineLocked()
	}
	rw.active = false
	status, written, timedOut = rw.status, rw.written, rw.timedOut
	answered = rw.answered || rw.status != 0
	rw.w, rw.r, rw.conn, rw.cancel = nil, nil, nil, nil
	return status, written, timedOut, answered
}

// setDeadlineLocked bounds the writing of the response by WriteTimeout.
// On an HTTP/1 connection the deadline is kept from one request to the next
// and set again only when less than half of WriteTimeout is left, which
// spares most keep-alive requests a clock read and a timer reset: a response
// gets between WriteTimeout/2 and WriteTimeout to be written.
func (rw *responseWriter) setDeadlineLocked() {
	rw.deadlineSet = true
	if rw.writeTimeout <= 0 {
		return
	}
	if c := rw.conn; c != nil && rw.r.ProtoMajor == 1 {
		now := rw.clock()
		if c.deadlineSet && now-c.deadlineAt < rw.writeTimeout/2 {
			return
		}
		c.deadlineSet, c.deadlineAt = true, now
		_ = c.conn.SetWriteDeadline(time.Now().Add(rw.writeTimeout))
		return
	}
	_ = http.NewResponseController(rw.w).SetWriteDeadline(time.Now().Add(rw.writeTimeout))
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
		rw.w.Header().Set("Connection", "close")
	}
	if !rw.deadlineSet {
		rw.setDeadlineLocked()
	}
	rw.status = code
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if rw.status == 0 {
		rw.writeHeaderLocked(http.StatusOK)
	}
	n, err := rw.w.Write(p)
	rw.written += int64(n)
	return n, err
}

// ReadFrom keeps net/http's sendfile path for io.Copy from a file.
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if rw.status == 0 {
		rw.writeHeaderLocked(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{rw.w}, src)
	}
	rw.written += n
	return n, err
}

// FlushError flushes the response; http.ResponseController.Flush calls it.
func (rw *responseWriter) FlushError() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.timedOut {
		return http.ErrHandlerTimeout
	}
	if rw.status == 0 {
		rw.writeHeaderLocked(http.StatusOK)
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
	if rw.timedOut {
		return nil, nil, http.ErrHandlerTimeout
	}
	c, brw, err := http.NewResponseController(rw.w).Hijack()
	if err == nil {
		rw.status = http.StatusSwitchingProtocols
		rw.deadline = 0 // a hijacked connection is the handler's to time out
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the methods not wrapped here
// (SetReadDeadline, SetWriteDeadline, EnableFullDuplex).
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

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
// for HTTP/2 the server answers when the handler returns. It reports whether
// the request timed out.
func (rw *responseWriter) expire(now time.Duration, s *Server) bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.active || rw.timedOut || rw.deadline == 0 || now < rw.deadline {
		return false
	}
	rw.timedOut = true
	rw.cancel(ErrRequestTimeout)
	r := rw.r
	if r.ProtoMajor != 1 || rw.conn == nil {
		return true
	}
	conn := rw.conn.conn
	if rw.status == 0 {
		rw.answered = writeRaw(conn, r, s.cfg.ErrorHandler, ErrRequestTimeout) == nil
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

type connKey struct{}

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
// HTTP/1.1 response that closes the connection.
func writeRaw(conn net.Conn, r *http.Request, handler func(http.ResponseWriter, *http.Request, error), err error) error {
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
	return werr
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
