package hatago_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/internal/testcert"
)

// startTLS serves h over ssl:// on a free loopback port and returns an
// HTTP/2 client that trusts the server and the server's https URL.
func startTLS(t testing.TB, h http.Handler, cfg hatago.Config) (*hatago.Server, *http.Client, string) {
	t.Helper()
	certFile, keyFile, roots := testcert.Write(t, t.TempDir())
	cfg.Binds = []string{"ssl://127.0.0.1:0?cert=" + url.QueryEscape(certFile) + "&key=" + url.QueryEscape(keyFile)}
	s, _ := start(t, h, cfg)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return s, &http.Client{Transport: tr, Timeout: 10 * time.Second}, "https://" + s.Addrs()[0].String()
}

func TestHTTP2(t *testing.T) {
	causes := make(chan error, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/polite": // returns when cancelled, writing nothing
			<-r.Context().Done()
			causes <- context.Cause(r.Context())
		case "/begun": // has sent its header, then waits to be cancelled
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "partial")
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
			causes <- context.Cause(r.Context())
		default:
			fmt.Fprintf(w, "proto %d", r.ProtoMajor)
		}
	})
	s, c, base := startTLS(t, h, hatago.Config{RequestTimeout: 300 * time.Millisecond})

	t.Run("serves", func(t *testing.T) {
		resp, err := c.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(b) != "proto 2" {
			t.Fatalf("got %d HTTP/%d %q %v, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor, b, err)
		}
	})

	t.Run("timeout before the response", func(t *testing.T) {
		began := time.Now()
		resp, err := c.Get(base + "/polite")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.ProtoMajor != 2 {
			t.Fatalf("got %d over HTTP/%d, want 503 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
		}
		if d := time.Since(began); d > time.Second {
			t.Fatalf("answered after %v, want soon after the 300ms timeout", d)
		}
		if cause := <-causes; !errors.Is(cause, hatago.ErrRequestTimeout) {
			t.Fatalf("context cause %v, want ErrRequestTimeout", cause)
		}
	})

	t.Run("timeout after the response began", func(t *testing.T) {
		resp, err := c.Get(base + "/begun")
		if err == nil {
			var b []byte
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Fatalf("got a whole response %d %q, want the stream reset", resp.StatusCode, b)
			}
		}
		if cause := <-causes; !errors.Is(cause, hatago.ErrRequestTimeout) {
			t.Fatalf("context cause %v, want ErrRequestTimeout", cause)
		}
	})

	eventually(t, "slots released", func() bool { return s.Stats().BusyThreads == 0 })
	if got := s.Stats().TimedOut; got != 2 {
		t.Fatalf("timed_out_count = %d, want 2", got)
	}
	if r := get(c, base+"/"); r.err != nil || r.status != 200 {
		t.Fatalf("after the timeouts: %d %v, want 200", r.status, r.err)
	}
}

// TestHTTP2FailureKeepsConnection: a request that fails (timeout, body too
// large, panic) fails alone: the connection, and the other streams on it,
// carry on.
func TestHTTP2FailureKeepsConnection(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-r.Context().Done()
		case "/panic":
			panic("boom")
		case "/upload":
			io.ReadAll(r.Body)
		}
	})
	_, c, base := startTLS(t, h, hatago.Config{RequestTimeout: 200 * time.Millisecond, MaxBodyBytes: 10,
		Logger: slog.New(slog.DiscardHandler)})
	// do sends a request and reports its status and whether it went on a
	// connection used before.
	do := func(method, path string, body io.Reader) (int, bool) {
		t.Helper()
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), method, base+path, body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, reused
	}
	do("GET", "/", nil)
	tests := []struct {
		name, method, path string
		body               func() io.Reader
		want               int
	}{
		{"timeout", "GET", "/slow", nil, 503},
		{"panic", "GET", "/panic", nil, 500},
		{"body too large, by length", "POST", "/upload", func() io.Reader { return strings.NewReader(strings.Repeat("a", 100)) }, 413},
		{"body too large, read", "POST", "/upload", func() io.Reader { return io.MultiReader(strings.NewReader(strings.Repeat("a", 100))) }, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != nil {
				body = tt.body()
			}
			if got, _ := do(tt.method, tt.path, body); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
			if got, reused := do("GET", "/", nil); got != 200 || !reused {
				t.Fatalf("next request: %d, reused connection %v; want 200 on the same connection", got, reused)
			}
		})
	}
}

// TestHTTP2StalledUpload: a handler blocked reading the body of a client
// that stopped sending is freed by RequestTimeout over HTTP/2 too, where
// the server answers only once the handler returns.
func TestHTTP2StalledUpload(t *testing.T) {
	readErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	})
	s, c, base := startTLS(t, h, hatago.Config{RequestTimeout: 300 * time.Millisecond})
	body, stall := io.Pipe()
	defer stall.Close()
	go stall.Write([]byte("the first bytes, and then nothing"))
	req, _ := http.NewRequest("POST", base+"/upload", body)
	began := time.Now()
	resp, err := c.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("got %d, want 503 or a reset stream", resp.StatusCode)
		}
	}
	if d := time.Since(began); d > 1500*time.Millisecond {
		t.Fatalf("answered after %v, want soon after the 300ms timeout", d)
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Fatal("handler read the whole of a body that never ended")
		}
	case <-time.After(time.Second):
		t.Fatal("handler still blocked reading the body a second after the timeout")
	}
	eventually(t, "slot released", func() bool { return s.Stats().BusyThreads == 0 })
}
