package hatago_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/bind"
	"github.com/hatago/hatago/control"
	"github.com/hatago/hatago/resource"
)

var discard = slog.New(slog.DiscardHandler)

// tracked is a resource that counts its instances open and closed.
type tracked struct {
	opened, closed atomic.Int32
	fail           atomic.Bool // opening fails while set
}

var errOpen = errors.New("test: cannot open")

func (tr *tracked) key(name string) *resource.Key[int] {
	return resource.New(name, func(_ context.Context, slot int) (int, error) {
		if tr.fail.Load() {
			return 0, errOpen
		}
		tr.opened.Add(1)
		return slot, nil
	}, func(int) error {
		tr.closed.Add(1)
		return nil
	})
}

func TestStartFailures(t *testing.T) {
	t.Run("address in use", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		var tr tracked
		addr := taken.Addr().String()
		s, err := hatago.New(http.NotFoundHandler(), hatago.Config{
			Binds:     []string{"tcp://127.0.0.1:0", "tcp://" + addr},
			MinSlots:  1,
			Resources: []resource.Decl{tr.key("db")},
			Logger:    discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		before := runtime.NumGoroutine()
		err = s.Start(t.Context())
		if !errors.Is(err, bind.ErrAddrInUse) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("Start: %v, want ErrAddrInUse naming %s", err, addr)
		}
		if tr.opened.Load() != 1 || tr.closed.Load() != 1 {
			t.Fatalf("resources opened %d closed %d, want the MinSlots one opened and closed again", tr.opened.Load(), tr.closed.Load())
		}
		if got := s.Addrs(); len(got) != 0 {
			t.Fatalf("Addrs after a failed Start: %v, want none", got)
		}
		eventually(t, "no goroutine left", func() bool { return runtime.NumGoroutine() <= before })
		// The first bind was undone: its port is free again. Stopping the
		// server that never started returns at once.
		if err := s.Close(); err != nil {
			t.Fatalf("Close after a failed Start: %v", err)
		}
		if err := s.Start(t.Context()); err == nil {
			t.Fatal("second Start succeeded, want an error")
		}
	})

	t.Run("resource fails at start", func(t *testing.T) {
		var tr tracked
		tr.fail.Store(true)
		s, err := hatago.New(http.NotFoundHandler(), hatago.Config{
			Binds:     []string{"tcp://127.0.0.1:0"},
			MinSlots:  1,
			Resources: []resource.Decl{tr.key("primary-db")},
			Logger:    discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Start(t.Context())
		if !errors.Is(err, errOpen) || !strings.Contains(err.Error(), "primary-db") {
			t.Fatalf("Start: %v, want the open error naming primary-db", err)
		}
		if got := s.Addrs(); len(got) != 0 {
			t.Fatalf("listening on %v after a failed Start, want nothing", got)
		}
		s.Close()
	})

	t.Run("resource fails lazily, then recovers", func(t *testing.T) {
		var tr tracked
		tr.fail.Store(true)
		var failed error
		var mu sync.Mutex
		s, url := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }),
			hatago.Config{MaxSlots: 1, Resources: []resource.Decl{tr.key("cache")},
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					mu.Lock()
					failed = err
					mu.Unlock()
					hatago.DefaultErrorHandler(w, r, err)
				}})
		c := client(t)
		if r := get(c, url); r.status != http.StatusServiceUnavailable {
			t.Fatalf("while the resource fails: %d %v, want 503", r.status, r.err)
		}
		mu.Lock()
		if !errors.Is(failed, errOpen) || !strings.Contains(failed.Error(), "cache") {
			t.Errorf("ErrorHandler got %v, want the open error naming cache", failed)
		}
		mu.Unlock()
		tr.fail.Store(false)
		if r := get(c, url); r.status != 200 {
			t.Fatalf("once the resource recovers: %d %v, want 200", r.status, r.err)
		}
		if st := s.Stats(); st.Running != 1 || st.BusyThreads != 0 || st.SlotsStarted != 1 {
			t.Fatalf("stats %+v, want one slot started and running, none busy", st)
		}
	})
}

func TestRun(t *testing.T) {
	t.Run("context cancelled", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "run.sock")
		if len(sock) > 100 {
			t.Skip("temp dir too long for a unix socket path")
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- hatago.Run(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ran") }),
				hatago.Config{Binds: []string{"unix://" + sock}, Logger: discard})
		}()
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		var r result
		eventually(t, "Run serving", func() bool {
			r = get(c, "http://run/")
			return r.err == nil
		})
		if r.status != 200 || r.body != "ran" {
			t.Fatalf("got %d %q, want 200 ran", r.status, r.body)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v, want nil", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Run still running 2s after its context ended")
		}
	})

	t.Run("invalid config", func(t *testing.T) {
		began := time.Now()
		err := hatago.Run(t.Context(), http.NotFoundHandler(), hatago.Config{MaxSlots: -3})
		var ce *hatago.ConfigError
		if !errors.As(err, &ce) || ce.Field != "MaxSlots" {
			t.Fatalf("Run: %v, want a *ConfigError for MaxSlots", err)
		}
		if d := time.Since(began); d > 100*time.Millisecond {
			t.Fatalf("Run took %v to refuse the config, want at once", d)
		}
	})

	t.Run("failed start", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		err = hatago.Run(t.Context(), http.NotFoundHandler(),
			hatago.Config{Binds: []string{"tcp://" + taken.Addr().String()}, Logger: discard})
		if !errors.Is(err, bind.ErrAddrInUse) {
			t.Fatalf("Run: %v, want ErrAddrInUse", err)
		}
	})
}

func controlClient(t testing.TB, s *hatago.Server) *control.Client {
	t.Helper()
	cl, err := control.NewClient(s.ControlURL(), s.ControlToken())
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestControlHaltAndStop(t *testing.T) {
	t.Run("halt", func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		s, url := start(t, h, hatago.Config{ControlURL: "tcp://127.0.0.1:0", RequestTimeout: -1})
		running := make(chan result, 1)
		go func() { running <- get(client(t), url) }()
		eventually(t, "request running", func() bool { return s.Stats().BusyThreads == 1 })
		began := time.Now()
		if err := controlClient(t, s).Halt(t.Context()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Done():
		case <-time.After(time.Second):
			t.Fatal("server still running a second after halt")
		}
		if d := time.Since(began); d > time.Second {
			t.Fatalf("halt took %v", d)
		}
		if r := <-running; r.err == nil && r.status == 200 {
			t.Fatalf("running request got a whole 200 from a halted server")
		}
		if _, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second); err == nil {
			t.Fatal("halted server still accepts connections")
		}
	})

	t.Run("stop drains", func(t *testing.T) {
		g := newGate()
		s, url := start(t, g, hatago.Config{ControlURL: "tcp://127.0.0.1:0", ShutdownTimeout: 5 * time.Second})
		running := make(chan result, 1)
		go func() { running <- get(client(t), url) }()
		<-g.entered
		if err := controlClient(t, s).Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "listener closed", func() bool {
			conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
			if err == nil {
				conn.Close()
			}
			return err != nil
		})
		select {
		case <-s.Done():
			t.Fatal("server stopped with a request still running")
		case <-time.After(100 * time.Millisecond):
		}
		close(g.release)
		if r := <-running; r.err != nil || r.status != 200 || r.body != "done" {
			t.Fatalf("in-flight request: %d %q %v, want 200 done", r.status, r.body, r.err)
		}
		select {
		case <-s.Done():
		case <-time.After(time.Second):
			t.Fatal("server still running a second after its last request")
		}
		if err := s.Shutdown(t.Context()); err != nil {
			t.Fatalf("Shutdown after a clean stop: %v, want nil", err)
		}
	})
}

// TestStopRace races Shutdown and Close against a stream of new requests.
// Nothing may panic or leak, and every answer is a 200 or a 503.
func TestStopRace(t *testing.T) {
	before := runtime.NumGoroutine()
	for round := range 5 {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(time.Duration(1+len(r.URL.Path)%4) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, "ok")
		})
		s, err := hatago.New(h, hatago.Config{Binds: []string{"tcp://127.0.0.1:0"}, MaxSlots: 3, Backlog: 4,
			RequestTimeout: 500 * time.Millisecond, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		url := "http://" + s.Addrs()[0].String()
		tr := &http.Transport{MaxIdleConnsPerHost: 4}
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}

		var bad sync.Map
		var answered atomic.Int32
		var wg sync.WaitGroup
		stopClients := make(chan struct{})
		for i := range 12 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stopClients:
						return
					default:
					}
					r := get(c, url+strings.Repeat("/x", (i+n)%4))
					if r.err != nil {
						continue // refused or cut: allowed while stopping
					}
					answered.Add(1)
					if r.status != 200 && r.status != 503 {
						bad.Store(r.status, r.body)
					}
				}
			})
		}
		time.Sleep(30 * time.Millisecond)
		var stoppers sync.WaitGroup
		stoppers.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(round*20)*time.Millisecond)
			defer cancel()
			s.Shutdown(ctx)
		})
		stoppers.Go(func() {
			time.Sleep(time.Duration(round*10) * time.Millisecond)
			s.Close()
		})
		stoppers.Go(func() { s.Shutdown(context.Background()) })
		stoppers.Wait()
		select {
		case <-s.Done():
		default:
			t.Fatal("Done not closed after Shutdown and Close returned")
		}
		close(stopClients)
		wg.Wait()
		tr.CloseIdleConnections()
		bad.Range(func(k, v any) bool {
			t.Errorf("round %d: got status %v (%q), want only 200 or 503", round, k, v)
			return true
		})
		if answered.Load() == 0 {
			t.Errorf("round %d: no request answered", round)
		}
		if st := s.Stats(); st.BusyThreads != 0 || st.Backlog != 0 {
			t.Errorf("round %d: after stop: busy %d backlog %d, want 0", round, st.BusyThreads, st.Backlog)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after the stops, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestShutdownWithSilentConnection: a connection that was opened but never
// sent a request (a browser's or http.Transport's spare one) must not hold
// a graceful stop up.
func TestShutdownWithSilentConnection(t *testing.T) {
	s, url := start(t, http.NotFoundHandler(), hatago.Config{})
	conn := dial(t, url)
	time.Sleep(20 * time.Millisecond) // accepted
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v, want nil", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("Shutdown took %v with a silent connection open, want well under a second", d)
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatalf("silent connection still open after Shutdown (read %d bytes)", n)
	}
}

// TestShutdownServesRequestOnItsWay: a connection accepted just before a
// graceful stop whose request arrives a moment later is served, not
// closed as a silent spare. Its age is measured from its accept, not from
// the last sweep of the coarse clock (a second ago by default), and a
// request already waiting in the socket keeps it open whatever its age.
// In a cluster this is a request of a hot or phased restart under load.
func TestShutdownServesRequestOnItsWay(t *testing.T) {
	s, url := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	}), hatago.Config{})
	// The coarse clock was read at Start; the first sweep is a second away.
	time.Sleep(600 * time.Millisecond)
	conn := dial(t, url)
	time.Sleep(20 * time.Millisecond) // accepted
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- s.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // the stop has swept new connections a few times
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("request sent 100ms into the stop on a connection accepted before it: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "served" {
		t.Errorf("got %d %q, want 200 \"served\"", resp.StatusCode, body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestStartAfterShutdown: a server stopped before it started stays
// stopped: Start fails and opens nothing.
func TestStartAfterShutdown(t *testing.T) {
	var tr tracked
	s, err := hatago.New(http.NotFoundHandler(), hatago.Config{Binds: []string{"tcp://127.0.0.1:0"},
		MinSlots: 1, Resources: []resource.Decl{tr.key("db")}, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown before Start: %v, want nil", err)
	}
	if err := s.Start(t.Context()); !errors.Is(err, hatago.ErrShuttingDown) {
		t.Fatalf("Start after Shutdown: %v, want ErrShuttingDown", err)
	}
	if len(s.Addrs()) != 0 || tr.opened.Load() != tr.closed.Load() {
		t.Fatalf("after a refused Start: listening on %v, %d resources open; want nothing",
			s.Addrs(), tr.opened.Load()-tr.closed.Load())
	}
}

// TestCloseKeepsResourceOfRunningHandler: a stop that cannot wait for a
// handler (Close) must not close the resources that handler still uses;
// they close when it returns.
func TestCloseKeepsResourceOfRunningHandler(t *testing.T) {
	type conn struct{ closed atomic.Bool }
	key := resource.New("conn", func(context.Context, int) (*conn, error) { return &conn{}, nil },
		func(c *conn) error { c.closed.Store(true); return nil })
	entered, release := make(chan *conn), make(chan struct{})
	usedClosed := make(chan bool, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := key.From(r.Context())
		entered <- c
		<-release // ignores its context
		usedClosed <- c.closed.Load()
	})
	s, url := start(t, h, hatago.Config{Resources: []resource.Decl{key}, RequestTimeout: -1})
	go get(client(t), url)
	c := <-entered
	if err := s.Close(); err == nil {
		t.Fatal("Close: nil, want an error saying a request did not finish")
	}
	if c.closed.Load() {
		t.Fatal("resource closed while its handler still runs")
	}
	close(release)
	if <-usedClosed {
		t.Fatal("handler saw its resource closed before it returned")
	}
	eventually(t, "resource closed once its handler returned", c.closed.Load)
}
