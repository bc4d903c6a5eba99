package hatago_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/control"
	"github.com/hatago/hatago/resource"
)

// start serves h on a free loopback port and stops it when the test ends.
func start(t testing.TB, h http.Handler, cfg hatago.Config) (*hatago.Server, string) {
	t.Helper()
	if cfg.Binds == nil {
		cfg.Binds = []string{"tcp://127.0.0.1:0"}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := hatago.New(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, "http://" + s.Addrs()[0].String()
}

func client(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type result struct {
	status int
	header http.Header
	body   string
	err    error
}

func get(c *http.Client, url string) result {
	resp, err := c.Get(url)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

// gate is a handler that holds every request until released.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})} }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.entered <- struct{}{}
	<-g.release
	fmt.Fprint(w, "done")
}

func TestAdmissionBacklogAndShedding(t *testing.T) {
	g := newGate()
	s, url := start(t, g, hatago.Config{MaxSlots: 2, Backlog: 1, RetryAfter: 3 * time.Second})
	c := client(t)
	results := make(chan result, 3)
	for range 3 {
		go func() { results <- get(c, url) }()
	}
	<-g.entered
	<-g.entered
	eventually(t, "one request queued", func() bool { return s.Stats().Backlog == 1 })
	st := s.Stats()
	if st.Running != 2 || st.BusyThreads != 2 || st.PoolCapacity != 0 || st.MaxThreads != 2 || st.BacklogMax != 1 {
		t.Fatalf("stats %+v, want running 2, busy 2, capacity 0, max 2, backlog_max 1", st)
	}

	r := get(c, url)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "3" {
		t.Fatalf("fourth request: status %d Retry-After %q, want 503 and 3", r.status, r.header.Get("Retry-After"))
	}
	if got := s.Stats().Rejected; got != 1 {
		t.Fatalf("rejected_count = %d, want 1", got)
	}

	close(g.release)
	for range 3 {
		if r := <-results; r.err != nil || r.status != 200 {
			t.Fatalf("admitted request: %d %v, want 200", r.status, r.err)
		}
	}
	st = s.Stats()
	if st.RequestsCount != 3 || st.BusyThreads != 0 || st.Backlog != 0 || st.PoolCapacity != 2 {
		t.Fatalf("after: %+v, want 3 requests, nothing busy or queued, capacity 2", st)
	}
	if st.QueueTime.Count != 3 || st.QueueTime.Max <= 0 {
		t.Fatalf("queue time %+v, want 3 samples, one that waited", st.QueueTime)
	}
}

func TestQueueTimeVisibleToHandler(t *testing.T) {
	g := newGate()
	var queued atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			g.ServeHTTP(w, r)
			return
		}
		queued.Store(int64(hatago.QueueTime(r.Context())))
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 1})
	c := client(t)
	held := make(chan result)
	go func() { held <- get(c, url+"/hold") }()
	<-g.entered
	second := make(chan result)
	go func() { second <- get(c, url+"/q") }()
	eventually(t, "queued", func() bool { return s.Stats().Backlog == 1 })
	time.Sleep(50 * time.Millisecond)
	close(g.release)
	<-held
	<-second
	if got := time.Duration(queued.Load()); got < 50*time.Millisecond {
		t.Fatalf("QueueTime = %v, want at least 50ms", got)
	}
}

type counted struct {
	slot   int
	inUse  atomic.Int32
	closed atomic.Bool
}

func TestTrimClosesResources(t *testing.T) {
	var opened, closed atomic.Int32
	key := resource.New("counted", func(_ context.Context, slot int) (*counted, error) {
		opened.Add(1)
		return &counted{slot: slot}, nil
	}, func(c *counted) error {
		closed.Add(1)
		c.closed.Store(true)
		return nil
	})
	g := newGate()
	s, url := start(t, g, hatago.Config{MinSlots: 1, MaxSlots: 3, SlotIdleTimeout: 100 * time.Millisecond,
		Resources: []resource.Decl{key}})
	if opened.Load() != 1 {
		t.Fatalf("opened %d at start, want MinSlots = 1", opened.Load())
	}
	c := client(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { get(c, url) })
	}
	for range 3 {
		<-g.entered
	}
	if st := s.Stats(); st.Running != 3 || opened.Load() != 3 {
		t.Fatalf("running %d opened %d, want 3 and 3", st.Running, opened.Load())
	}
	close(g.release)
	wg.Wait()
	eventually(t, "trim back to MinSlots", func() bool { return s.Stats().Running == 1 })
	if closed.Load() != 2 {
		t.Fatalf("closed %d resources after trim, want 2", closed.Load())
	}
	if st := s.Stats(); st.SlotsTrimmed != 2 {
		t.Fatalf("slots_trimmed = %d, want 2", st.SlotsTrimmed)
	}
	s.Close()
	if closed.Load() != 3 {
		t.Fatalf("closed %d resources after stop, want all 3", closed.Load())
	}
}

// TestResourceNeverShared hammers the server with concurrent requests and
// checks that no resource instance is ever held by two at once, and that
// each instance belongs to the slot serving the request.
func TestResourceNeverShared(t *testing.T) {
	key := resource.New("counted", func(_ context.Context, slot int) (*counted, error) {
		return &counted{slot: slot}, nil
	}, nil)
	var violations atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := key.From(r.Context())
		if slot, _ := hatago.Slot(r.Context()); slot != c.slot {
			violations.Add(1)
		}
		if !c.inUse.CompareAndSwap(0, 1) {
			violations.Add(1)
		}
		time.Sleep(time.Millisecond)
		c.inUse.Store(0)
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 4, Backlog: 1000, Resources: []resource.Decl{key}})
	c := client(t)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 32 {
		wg.Go(func() {
			for range 20 {
				if r := get(c, url); r.status != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if violations.Load() != 0 || failed.Load() != 0 {
		t.Fatalf("%d sharing violations, %d failed requests; want none", violations.Load(), failed.Load())
	}
	if st := s.Stats(); st.RequestsCount != 640 || st.Running > 4 {
		t.Fatalf("requests %d running %d, want 640 and at most 4", st.RequestsCount, st.Running)
	}
}

func TestHeaderTimeoutCutsSlowClient(t *testing.T) {
	s, url := start(t, http.NotFoundHandler(), hatago.Config{HeaderTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	began := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read: %v, want the server to close the connection", err)
	}
	if d := time.Since(began); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("connection closed after %v, want about 200ms", d)
	}
	if st := s.Stats(); st.RequestsCount != 0 {
		t.Fatalf("requests_count = %d, want 0: no slot for unfinished headers", st.RequestsCount)
	}
}

func TestRequestTimeout(t *testing.T) {
	causes := make(chan error, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stubborn": // ignores its context for a while
			time.Sleep(1500 * time.Millisecond)
			causes <- context.Cause(r.Context())
			fmt.Fprint(w, "too late")
		case "/polite": // returns when cancelled, writing nothing
			<-r.Context().Done()
			causes <- context.Cause(r.Context())
		}
	})
	s, url := start(t, h, hatago.Config{RequestTimeout: 200 * time.Millisecond})
	c := client(t)
	for _, path := range []string{"/stubborn", "/polite"} {
		t.Run(path, func(t *testing.T) {
			began := time.Now()
			r := get(c, url+path)
			if r.err != nil || r.status != http.StatusServiceUnavailable {
				t.Fatalf("got %d %v, want 503", r.status, r.err)
			}
			if d := time.Since(began); d > time.Second {
				t.Fatalf("answered after %v, want soon after the 200ms timeout", d)
			}
			if cause := <-causes; !errors.Is(cause, hatago.ErrRequestTimeout) {
				t.Fatalf("context cause %v, want ErrRequestTimeout", cause)
			}
		})
	}
	eventually(t, "slots released", func() bool { return s.Stats().BusyThreads == 0 })
	if got := s.Stats().TimedOut; got != 2 {
		t.Fatalf("timed_out_count = %d, want 2", got)
	}
	// The server still serves.
	if r := get(c, url+"/other"); r.status != 200 {
		t.Fatalf("after timeouts: %d, want 200", r.status)
	}
}

func TestPanicRecovered(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/abort":
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		fmt.Fprint(w, "ok")
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 1})
	c := client(t)
	if r := get(c, url+"/panic"); r.status != 500 {
		t.Fatalf("/panic: %d, want 500", r.status)
	}
	if r := get(c, url+"/ok"); r.status != 200 || r.body != "ok" {
		t.Fatalf("after a panic: %d %q, want 200 ok", r.status, r.body)
	}
	if r := get(c, url+"/abort"); r.err == nil {
		t.Fatalf("/abort: got a whole response (%d), want the connection cut", r.status)
	}
	st := s.Stats()
	if st.Panics != 1 || st.RequestsCount != 3 {
		t.Fatalf("panic_count %d requests %d, want 1 (ErrAbortHandler is no panic) and 3", st.Panics, st.RequestsCount)
	}
}

func TestErrorHandlerReplaceable(t *testing.T) {
	var got error
	var mu sync.Mutex
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("custom") })
	_, url := start(t, h, hatago.Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		mu.Lock()
		got = err
		mu.Unlock()
		w.WriteHeader(599)
	}})
	if r := get(client(t), url); r.status != 599 {
		t.Fatalf("status %d, want the custom handler's 599", r.status)
	}
	mu.Lock()
	defer mu.Unlock()
	var pe *hatago.PanicError
	if !errors.As(got, &pe) || pe.Value != "custom" || len(pe.Stack) == 0 {
		t.Fatalf("ErrorHandler got %v, want a *PanicError with value and stack", got)
	}
}

func TestLimits(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "ok")
	})
	_, url := start(t, h, hatago.Config{MaxBodyBytes: 1000, MaxHeaderBytes: 4096})
	c := client(t)
	post := func(body io.Reader, size int64) int {
		req, _ := http.NewRequest("POST", url, body)
		req.ContentLength = size
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name string
		body io.Reader
		size int64
		want int
	}{
		{"within", strings.NewReader(strings.Repeat("a", 1000)), 1000, 200},
		{"content-length over", strings.NewReader(strings.Repeat("a", 1001)), 1001, 413},
		{"chunked over", io.MultiReader(strings.NewReader(strings.Repeat("a", 5000))), -1, 413},
		{"chunked within", io.MultiReader(strings.NewReader("small")), -1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.body, tt.size); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("headers over", func(t *testing.T) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Big", strings.Repeat("b", 16<<10)) // net/http allows 4 KiB of slack
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}

func TestMalformedRequestGets400(t *testing.T) {
	_, url := start(t, http.NotFoundHandler(), hatago.Config{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GARBAGE\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, " 400 ") {
		t.Fatalf("got %q %v, want a 400 status line", line, err)
	}
}

// TestGracefulShutdownUnderLoad stops the server while requests run and
// wait in the backlog: every admitted one completes, and new connections
// are refused.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		fmt.Fprint(w, "ok")
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 4, Backlog: 100})
	c := client(t)
	const n = 20
	results := make(chan result, n)
	for range n {
		go func() { results <- get(c, url) }()
	}
	eventually(t, "all admitted", func() bool {
		st := s.Stats()
		return st.BusyThreads+st.Backlog == n
	})
	stopped := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- s.Shutdown(ctx)
	}()
	eventually(t, "listener closed", func() bool {
		conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	for range n {
		if r := <-results; r.err != nil || r.status != 200 {
			t.Fatalf("admitted request failed: %d %v", r.status, r.err)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if st := s.Stats(); st.RequestsCount != n {
		t.Fatalf("requests_count = %d, want %d", st.RequestsCount, n)
	}
}

// TestShutdownDeadline: past the deadline, waiting requests are answered
// 503 and running ones are cancelled; Shutdown says so.
func TestShutdownDeadline(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	s, url := start(t, h, hatago.Config{MaxSlots: 1, Backlog: 10, RequestTimeout: -1})
	c := client(t)
	results := make(chan result, 3)
	for range 3 {
		go func() { results <- get(c, url) }()
	}
	eventually(t, "one running, two waiting", func() bool { return s.Stats().Backlog == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 requests running and 2 waiting") {
		t.Fatalf("Shutdown: %v, want it to report the cut requests", err)
	}
	var unavailable int
	for range 3 {
		if r := <-results; r.status == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if unavailable != 2 {
		t.Fatalf("%d requests answered 503, want the 2 waiting", unavailable)
	}
}

func TestControlServer(t *testing.T) {
	s, _ := start(t, http.NotFoundHandler(), hatago.Config{ControlURL: "tcp://127.0.0.1:0", ControlToken: "sekrit"})
	c := client(t)
	base := "http://" + strings.TrimPrefix(s.ControlURL(), "tcp://")
	if r := get(c, base+"/stats"); r.status != 401 {
		t.Fatalf("no token: %d, want 401", r.status)
	}
	if r := get(c, base+"/stats?token=wrong"); r.status != 403 {
		t.Fatalf("wrong token: %d, want 403", r.status)
	}
	r := get(c, base+"/stats?token=sekrit")
	if r.status != 200 {
		t.Fatalf("stats: %d, want 200", r.status)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"started_at", "backlog", "running", "pool_capacity", "busy_threads", "max_threads",
		"requests_count", "backlog_max", "queue_time", "latency", "rejected_count", "timed_out_count",
		"panic_count", "goroutines", "heap_bytes"} {
		if _, ok := doc[f]; !ok {
			t.Errorf("stats document lacks %q", f)
		}
	}
	cl, err := control.NewClient(s.ControlURL(), "sekrit")
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("control stop did not stop the server")
	}
}

func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	if len(dir) > 80 {
		t.Skip("temp dir too long for a unix socket path")
	}
	path := dir + "/app.sock"
	_, _ = start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "unix ok") }),
		hatago.Config{Binds: []string{"unix://" + path}})
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	if r := get(c, "http://unix/"); r.body != "unix ok" {
		t.Fatalf("got %q %v, want unix ok", r.body, r.err)
	}
}

func TestIdleAndFirstDataTimeouts(t *testing.T) {
	_, url := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }),
		hatago.Config{HeaderTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(url, "http://")
	// closedAfter reads from conn until the server closes it.
	closedAfter := func(t *testing.T, conn net.Conn) time.Duration {
		t.Helper()
		began := time.Now()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, conn); err != nil {
			t.Fatalf("read: %v, want the server to close the connection", err)
		}
		return time.Since(began)
	}
	t.Run("no first byte", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if d := closedAfter(t, conn); d < 150*time.Millisecond || d > 2*time.Second {
			t.Fatalf("closed after %v, want about the 200ms header timeout", d)
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		began := time.Now()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, br); err != nil {
			t.Fatalf("read: %v, want the server to close the idle connection", err)
		}
		if d := time.Since(began); d < 250*time.Millisecond || d > 2*time.Second {
			t.Fatalf("idle connection closed after %v, want about the 300ms idle timeout", d)
		}
	})
	t.Run("busy connection kept", func(t *testing.T) {
		// Requests one after another on one connection, for longer than
		// both timeouts: the connection must live on.
		c := client(t)
		for range 8 {
			if r := get(c, url); r.status != 200 {
				t.Fatalf("status %d, want 200", r.status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func TestRequestTimeoutCoversQueueTime(t *testing.T) {
	g := newGate()
	s, url := start(t, g, hatago.Config{MaxSlots: 1, RequestTimeout: 300 * time.Millisecond})
	c := client(t)
	held := make(chan result)
	go func() { held <- get(c, url) }()
	<-g.entered
	began := time.Now()
	r := get(c, url) // waits in the backlog behind the held request
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("queued request: %d, want 503", r.status)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("answered after %v, want soon after the 300ms timeout", d)
	}
	<-held // answered 503 by the reaper while its handler still holds the slot
	close(g.release)
	if st := s.Stats(); st.Backlog != 0 || st.TimedOut < 2 {
		t.Fatalf("backlog %d timed_out %d, want 0 and both requests counted", st.Backlog, st.TimedOut)
	}
}

// TestAccessLogRefused: requests refused before they reach a slot are
// logged too, with slot -1 and the status the ErrorHandler really sent.
func TestAccessLogRefused(t *testing.T) {
	var logs lockedBuffer
	g := newGate()
	_, url := start(t, g, hatago.Config{AccessLog: true, MaxSlots: 1, Backlog: -1, MaxBodyBytes: 10,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(hatago.ErrorStatus(err) + 5) // a custom status, to see it logged
		}})
	c := client(t)
	held := make(chan result)
	go func() { held <- get(c, url+"/held") }()
	<-g.entered
	if r := get(c, url+"/refused"); r.status != 508 {
		t.Fatalf("refused: %d, want the custom 508", r.status)
	}
	req, _ := http.NewRequest("POST", url+"/big", strings.NewReader(strings.Repeat("x", 11)))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 418 {
		t.Fatalf("too large: %d, want the custom 418", resp.StatusCode)
	}
	close(g.release)
	<-held
	byPath := map[string]map[string]any{}
	for _, rec := range logs.records(t, "request") {
		byPath[rec["path"].(string)] = rec
	}
	for path, status := range map[string]float64{"/refused": 508, "/big": 418, "/held": 200} {
		rec, ok := byPath[path]
		if !ok {
			t.Errorf("no access log line for %s", path)
			continue
		}
		if rec["status"] != status {
			t.Errorf("%s logged status %v, want %v", path, rec["status"], status)
		}
		wantSlot := -1.0
		if path == "/held" {
			wantSlot = 0
		}
		if rec["slot"] != wantSlot {
			t.Errorf("%s logged slot %v, want %v", path, rec["slot"], wantSlot)
		}
	}
}

// TestSlotStartOutlivesItsRequest: a client that leaves while its request
// is opening a new slot's resources cancels the request, not the opening:
// the slot starts and serves the next request.
func TestSlotStartOutlivesItsRequest(t *testing.T) {
	opening := make(chan struct{})
	proceed := make(chan struct{})
	var openErr atomic.Value
	key := resource.New("slow", func(ctx context.Context, slot int) (*counted, error) {
		close(opening)
		<-proceed
		if err := ctx.Err(); err != nil {
			openErr.Store(err)
			return nil, err
		}
		return &counted{slot: slot}, nil
	}, func(*counted) error { return nil })
	s, url := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key.From(r.Context())
		io.WriteString(w, "ok")
	}), hatago.Config{MaxSlots: 1, Resources: []resource.Decl{key}})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	done := make(chan error, 1)
	go func() {
		resp, err := client(t).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-opening
	cancel() // the client leaves while its slot opens
	<-done
	// Give the server time to see the disconnect before the opening ends.
	time.Sleep(50 * time.Millisecond)
	close(proceed)
	if r := get(client(t), url); r.status != 200 || r.body != "ok" {
		t.Fatalf("after the first client left: %d %q %v, want 200 ok", r.status, r.body, r.err)
	}
	if err := openErr.Load(); err != nil {
		t.Fatalf("the slot's opening saw its request's cancellation: %v", err)
	}
	if st := s.Stats(); st.Running != 1 {
		t.Fatalf("running %d, want the one slot", st.Running)
	}
}
