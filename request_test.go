package hatago_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatago/hatago"
)

// lockedBuffer is an io.Writer safe for the concurrent use of a logger.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records whose msg is msg.
func (b *lockedBuffer) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func TestAccessLog(t *testing.T) {
	var logs lockedBuffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprint(w, "short and stout")
		case "/slow":
			<-r.Context().Done()
		default:
			fmt.Fprint(w, "hello")
		}
	})
	s, url := start(t, h, hatago.Config{AccessLog: true, MaxSlots: 2, RequestTimeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	c := client(t)
	for _, path := range []string{"/a", "/teapot", "/slow"} {
		get(c, url+path)
	}
	eventually(t, "requests done", func() bool { return s.Stats().RequestsCount == 3 })
	recs := logs.records(t, "request")
	if len(recs) != 3 {
		t.Fatalf("%d access log lines, want 3: %v", len(recs), recs)
	}
	want := []struct {
		path   string
		status float64
		bytes  float64
	}{
		{"/a", 200, 5},
		{"/teapot", 418, 15},
		{"/slow", 503, 0}, // answered by the server when the timeout hit
	}
	for i, w := range want {
		rec := recs[i]
		if rec["level"] != "INFO" || rec["method"] != "GET" || rec["path"] != w.path ||
			rec["status"] != w.status || rec["bytes"] != w.bytes {
			t.Errorf("line %d: got %v, want GET %s status %v bytes %v at INFO", i, rec, w.path, w.status, w.bytes)
		}
		for _, f := range []string{"duration", "queue", "slot", "remote"} {
			if _, ok := rec[f]; !ok {
				t.Errorf("line %d lacks %q: %v", i, f, rec)
			}
		}
		if slot, _ := rec["slot"].(float64); slot < 0 || slot >= 2 {
			t.Errorf("line %d: slot %v, want 0 or 1", i, rec["slot"])
		}
		if d, _ := rec["duration"].(float64); d <= 0 {
			t.Errorf("line %d: duration %v, want positive", i, rec["duration"])
		}
	}
	if d := recs[2]["duration"].(float64); time.Duration(d) < 200*time.Millisecond {
		t.Errorf("timed-out request: duration %v, want at least the 200ms timeout", time.Duration(d))
	}
}

// TestAccessLogQueueTime: a request that waited for a slot logs its wait.
func TestAccessLogQueueTime(t *testing.T) {
	var logs lockedBuffer
	g := newGate()
	s, url := start(t, g, hatago.Config{AccessLog: true, MaxSlots: 1, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	c := client(t)
	var wg sync.WaitGroup
	wg.Go(func() { get(c, url+"/first") })
	<-g.entered
	wg.Go(func() { get(c, url+"/second") })
	eventually(t, "second queued", func() bool { return s.Stats().Backlog == 1 })
	time.Sleep(50 * time.Millisecond)
	close(g.release)
	wg.Wait()
	recs := logs.records(t, "request")
	if len(recs) != 2 {
		t.Fatalf("%d access log lines, want 2", len(recs))
	}
	for _, rec := range recs {
		q := time.Duration(rec["queue"].(float64))
		switch rec["path"] {
		case "/first": // found no slot running, but waited for none
			if q > 20*time.Millisecond {
				t.Errorf("/first: queue %v, want about 0", q)
			}
		case "/second":
			if q < 50*time.Millisecond {
				t.Errorf("/second: queue %v, want at least 50ms", q)
			}
		}
	}
}

// TestBodyLimitEdges covers the cases around MaxBodyBytes that TestLimits
// does not: exactly at the bound, and handlers that do not answer the
// overflow with an error status.
func TestBodyLimitEdges(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/strict":
			b, err := io.ReadAll(r.Body)
			if err != nil {
				var mbe *http.MaxBytesError
				if !errors.As(err, &mbe) || mbe.Limit != 1000 {
					panic(fmt.Sprintf("read error %v, want *http.MaxBytesError with limit 1000", err))
				}
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%d", len(b))
		case "/lenient": // reads what it may and answers 200 anyway
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%d", len(b))
		case "/unread": // never looks at the body
			w.WriteHeader(http.StatusAccepted)
		case "/silent": // hits the limit and answers nothing
			io.ReadAll(r.Body)
		}
	})
	_, url := start(t, h, hatago.Config{MaxBodyBytes: 1000})
	tests := []struct {
		name     string
		path     string
		size     int
		chunked  bool
		want     int
		wantBody string
	}{
		{"exactly at the limit", "/strict", 1000, false, 200, "1000"},
		{"exactly at the limit, chunked", "/strict", 1000, true, 200, "1000"},
		{"one over, chunked", "/strict", 1001, true, 413, ""},
		{"handler ignores the overflow", "/lenient", 5000, true, 200, "1000"},
		{"handler never reads", "/unread", 5000, true, 202, ""},
		{"handler answers nothing", "/silent", 5000, true, 413, ""},
		{"handler answers nothing, within", "/silent", 1000, true, 200, ""},
		{"empty body", "/strict", 0, false, 200, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client(t)
			var body io.Reader = strings.NewReader(strings.Repeat("a", tt.size))
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", url+tt.path, body)
			if !tt.chunked {
				req.ContentLength = int64(tt.size)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || (tt.wantBody != "" && string(b) != tt.wantBody) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tt.want, tt.wantBody)
			}
		})
	}
}

// TestClientLeavesBacklog: a client that goes away while its request waits
// for a slot leaves the backlog, gets no answer, and costs no slot.
func TestClientLeavesBacklog(t *testing.T) {
	g := newGate()
	var served sync.Map
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Store(r.URL.Path, true)
		if r.URL.Path == "/hold" {
			g.ServeHTTP(w, r)
			return
		}
		fmt.Fprint(w, "ok")
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 1})
	c := client(t)
	held := make(chan result, 1)
	go func() { held <- get(c, url+"/hold") }()
	<-g.entered

	conn := dial(t, url)
	fmt.Fprint(conn, "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n")
	eventually(t, "request queued", func() bool { return s.Stats().Backlog == 1 })
	// Half-close: the server sees the client leave, but could still answer.
	if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "request out of the backlog", func() bool { return s.Stats().Backlog == 0 })
	b, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil || len(b) != 0 {
		t.Fatalf("the client that left read %q %v, want nothing", b, err)
	}

	close(g.release)
	if r := <-held; r.status != 200 {
		t.Fatalf("held request: %d %v, want 200", r.status, r.err)
	}
	if r := get(c, url+"/next"); r.status != 200 {
		t.Fatalf("next request: %d %v, want 200", r.status, r.err)
	}
	if _, ok := served.Load("/gone"); ok {
		t.Fatal("the handler ran for the request whose client left")
	}
	st := s.Stats()
	if st.BusyThreads != 0 || st.Backlog != 0 || st.RequestsCount != 2 || st.Running != 1 {
		t.Fatalf("stats %+v, want nothing busy or queued, 2 requests, 1 slot", st)
	}
}
