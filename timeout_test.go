package hatago_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago"
)

// dial opens a raw connection to the server at url (http://HOST:PORT).
func dial(t testing.TB, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	return conn
}

// TestWriteTimeoutStuckReader: a client that sends a request and never
// reads must not hold the handler, or its slot, past WriteTimeout.
func TestWriteTimeoutStuckReader(t *testing.T) {
	type outcome struct {
		err     error
		elapsed time.Duration
	}
	outcomes := make(chan outcome, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 32<<10)
		began := time.Now()
		for range (64 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				outcomes <- outcome{err, time.Since(began)}
				return
			}
		}
		outcomes <- outcome{nil, time.Since(began)}
	})
	s, url := start(t, h, hatago.Config{WriteTimeout: 300 * time.Millisecond})
	conn := dial(t, url)
	fmt.Fprint(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") // and never read

	select {
	case o := <-outcomes:
		if o.err == nil {
			t.Fatalf("wrote 64 MiB to a client that reads nothing, want a write error")
		}
		if o.elapsed > 2*time.Second {
			t.Fatalf("write failed after %v, want about the 300ms WriteTimeout", o.elapsed)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("handler still writing 3s into a 300ms WriteTimeout")
	}
	eventually(t, "slot released", func() bool { return s.Stats().BusyThreads == 0 })
}

// TestWriteDeadlineAfterIdle: the write deadline kept on a keep-alive
// connection must not have lapsed when the server answers the next request
// without running the handler, after the connection sat idle longer than
// WriteTimeout.
func TestWriteDeadlineAfterIdle(t *testing.T) {
	g := newGate()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			g.ServeHTTP(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "ok")
	})
	tests := []struct {
		name    string
		request string
		want    int
	}{
		{"body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
		{"backlog full", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := start(t, h, hatago.Config{MaxSlots: 1, Backlog: -1, MaxBodyBytes: 1000,
				WriteTimeout: 100 * time.Millisecond, IdleTimeout: 5 * time.Second})
			conn := dial(t, url)
			br := bufio.NewReader(conn)
			fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
				t.Fatalf("first request: %v, want 200", err)
			} else {
				io.Copy(io.Discard, resp.Body)
			}
			if tt.want == 503 { // fill the only slot
				go get(client(t), url+"/hold")
				<-g.entered
				defer func() { g.release <- struct{}{} }()
			}
			time.Sleep(250 * time.Millisecond) // idle past the deadline the first response set
			fmt.Fprint(conn, tt.request)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("second request on the idle connection: %v, want %d", err, tt.want)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			_ = s
		})
	}
}

// TestRequestTimeoutAfterResponseBegan: over HTTP/1, a response that was
// begun when the timeout hit must reach the client cut off, never as a
// whole (shorter) response.
func TestRequestTimeoutAfterResponseBegan(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flushed-length": // header and some body sent, with a length
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "partial")
			http.NewResponseController(w).Flush()
		case "/flushed-chunked": // the same, chunked
			fmt.Fprint(w, "partial")
			http.NewResponseController(w).Flush()
		case "/buffered": // header written, nothing sent yet
			w.WriteHeader(200)
			fmt.Fprint(w, "partial")
		}
		<-r.Context().Done()
		// A write after the timeout fails rather than reaching the client.
		if _, err := fmt.Fprint(w, "late"); !errors.Is(err, http.ErrHandlerTimeout) {
			panic(fmt.Sprintf("write after timeout: %v, want http.ErrHandlerTimeout", err))
		}
	})
	s, url := start(t, h, hatago.Config{RequestTimeout: 200 * time.Millisecond})
	c := client(t)
	for _, path := range []string{"/flushed-length", "/flushed-chunked", "/buffered"} {
		t.Run(path, func(t *testing.T) {
			began := time.Now()
			r := get(c, url+path)
			if r.err == nil {
				t.Fatalf("got a whole response %d %q, want an error", r.status, r.body)
			}
			if d := time.Since(began); d > time.Second {
				t.Fatalf("cut after %v, want soon after the 200ms timeout", d)
			}
		})
	}
	eventually(t, "slots released", func() bool { return s.Stats().BusyThreads == 0 })
	st := s.Stats()
	if st.TimedOut != 3 || st.Panics != 0 {
		t.Fatalf("timed_out_count %d panic_count %d, want 3 and 0", st.TimedOut, st.Panics)
	}
}

// TestRequestTimeoutWhileQueued: RequestTimeout counts from arrival, so a
// request still waiting for a slot when it passes is answered 503 then,
// not once a slot frees up, and its handler never runs.
func TestRequestTimeoutWhileQueued(t *testing.T) {
	release := make(chan struct{})
	var ran = make(chan string, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran <- r.URL.Path
		if r.URL.Path == "/stubborn" {
			<-release // ignores its context
		}
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 1, RequestTimeout: 200 * time.Millisecond})
	c := client(t)
	defer close(release)
	first := make(chan result, 1)
	go func() { first <- get(c, url+"/stubborn") }()
	if got := <-ran; got != "/stubborn" {
		t.Fatalf("ran %s, want /stubborn", got)
	}
	began := time.Now()
	r := get(c, url+"/queued")
	if r.err != nil || r.status != http.StatusServiceUnavailable {
		t.Fatalf("queued request: %d %v, want 503", r.status, r.err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("queued request answered after %v, want soon after the 200ms timeout", d)
	}
	if r := <-first; r.status != http.StatusServiceUnavailable {
		t.Fatalf("stubborn request: %d %v, want 503", r.status, r.err)
	}
	select {
	case p := <-ran:
		t.Fatalf("handler ran for %s after its timeout, want it never run", p)
	default:
	}
	if st := s.Stats(); st.TimedOut != 2 || st.Backlog != 0 {
		t.Fatalf("timed_out_count %d backlog %d, want 2 and 0", st.TimedOut, st.Backlog)
	}
}

// TestRequestTimeoutCauseVisible: the cause of the cancelled context is
// ErrRequestTimeout, and the deadline counts from arrival.
func TestRequestTimeoutCauseVisible(t *testing.T) {
	got := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		got <- context.Cause(r.Context())
	})
	_, url := start(t, h, hatago.Config{RequestTimeout: 100 * time.Millisecond})
	if r := get(client(t), url); r.status != 503 {
		t.Fatalf("status %d %v, want 503", r.status, r.err)
	}
	if err := <-got; !errors.Is(err, hatago.ErrRequestTimeout) {
		t.Fatalf("cause %v, want ErrRequestTimeout", err)
	}
}

// TestWriteTimeoutKeepAlive: WriteTimeout holds for every response on a
// keep-alive connection, not only the first: net/http clears the socket's
// write deadline after each response.
func TestWriteTimeoutKeepAlive(t *testing.T) {
	errs := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			fmt.Fprint(w, "small")
			return
		}
		chunk := make([]byte, 32<<10)
		for range (64 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	})
	s, url := start(t, h, hatago.Config{WriteTimeout: 300 * time.Millisecond, RequestTimeout: -1})
	conn := dial(t, url)
	br := bufio.NewReader(conn)
	fmt.Fprint(conn, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	fmt.Fprint(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("wrote 64 MiB to a client that reads nothing, want a write error")
		}
	case <-time.After(3 * time.Second):
		conn.Close() // unblock the handler
		t.Fatal("second response on the connection still writing 3s into a 300ms WriteTimeout")
	}
	eventually(t, "slot released", func() bool { return s.Stats().BusyThreads == 0 })
}
