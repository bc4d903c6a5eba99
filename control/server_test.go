package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

const testToken = "test-token-0123"

func TestServerEndpoints(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			target := newFakeTarget()
			srv := startServer(t, control.Config{URL: listenURL(t, network), Token: testToken, Target: target})
			hc := rawHTTP(t, srv)

			tests := []struct {
				name     string
				method   string
				path     string
				status   int
				ctype    string
				contains []string
				after    func(t *testing.T)
			}{
				{name: "stats", method: "GET", path: "/stats", status: 200, ctype: "application/json",
					contains: []string{`"max_threads":16`, `"backlog":3`, `"version":"v0.1.0-test"`}},
				{name: "gc get", method: "GET", path: "/gc", status: 200, ctype: "application/json",
					contains: []string{`"message":"gc done"`, `"heap_alloc_before":`, `"heap_alloc_after":`}},
				{name: "gc post", method: "POST", path: "/gc", status: 200, ctype: "application/json",
					contains: []string{`"message":"gc done"`}},
				{name: "gc-stats", method: "GET", path: "/gc-stats", status: 200, ctype: "application/json",
					contains: []string{`"num_gc":`, `"pause_total_ns":`, `"heap_alloc":`, `"next_gc":`, `"gc_cpu_fraction":`, `"gogc_percent":`}},
				{name: "goroutines", method: "GET", path: "/goroutines", status: 200, ctype: "text/plain; charset=utf-8",
					contains: []string{"goroutine ", "[running]"}},
				{name: "thread-backtraces", method: "GET", path: "/thread-backtraces", status: 200, ctype: "text/plain; charset=utf-8",
					contains: []string{"goroutine "}},
				{name: "metrics", method: "GET", path: "/metrics", status: 200, ctype: control.MetricsContentType,
					contains: []string{"# TYPE hatago_backlog gauge\nhatago_backlog 3\n"}},
				{name: "unknown path", method: "GET", path: "/reload", status: 404, ctype: "application/json",
					contains: []string{`"error":"unknown path \"/reload\"`, "/phased-restart", "/worker-count-down", "/metrics"}},
				{name: "wrong method", method: "DELETE", path: "/stats", status: 405, ctype: "application/json",
					contains: []string{`"error":"method DELETE not allowed`}},
				{name: "post stats", method: "POST", path: "/stats", status: 405, ctype: "application/json"},
				{name: "stop", method: "POST", path: "/stop", status: 200, ctype: "application/json",
					contains: []string{`{"message":"stopping"}`},
					after:    func(t *testing.T) { waitFor(t, target.stopped, "Stop") }},
				{name: "stop get", method: "GET", path: "/stop", status: 200, ctype: "application/json",
					contains: []string{`{"message":"stopping"}`},
					after:    func(t *testing.T) { waitFor(t, target.stopped, "Stop") }},
				{name: "halt", method: "POST", path: "/halt", status: 200, ctype: "application/json",
					contains: []string{`{"message":"halting"}`},
					after:    func(t *testing.T) { waitFor(t, target.halted, "Halt") }},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := send(t, hc, tt.method, tt.path, bearer(testToken))
					if got.status != tt.status {
						t.Fatalf("status: got %d, want %d (body %s)", got.status, tt.status, got.body)
					}
					if ct := got.header.Get("Content-Type"); ct != tt.ctype {
						t.Errorf("Content-Type: got %q, want %q", ct, tt.ctype)
					}
					if sub, ok := contains(got.body, tt.contains...); !ok {
						t.Errorf("body lacks %q:\n%s", sub, got.body)
					}
					if strings.HasPrefix(tt.ctype, "application/json") && !json.Valid([]byte(got.body)) {
						t.Errorf("body is not JSON: %s", got.body)
					}
					if tt.status == 405 && got.header.Get("Allow") == "" {
						t.Errorf("405 without Allow header")
					}
					if tt.after != nil {
						tt.after(t)
					}
				})
			}
			if got, want := target.stops.Load(), int32(2); got != want {
				t.Errorf("Stop calls: got %d, want %d", got, want)
			}
			if got, want := target.halts.Load(), int32(1); got != want {
				t.Errorf("Halt calls: got %d, want %d", got, want)
			}
		})
	}
}

func TestServerStatsFieldNames(t *testing.T) {
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget()})
	got := send(t, rawHTTP(t, srv), "GET", "/stats", bearer(testToken))
	var m map[string]any
	if err := json.Unmarshal([]byte(got.body), &m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	puma := []string{"started_at", "backlog", "running", "pool_capacity", "busy_threads", "max_threads", "requests_count", "backlog_max"}
	extras := []string{"min_threads", "backlog_limit", "rejected_count", "timed_out_count", "panic_count",
		"slots_started", "slots_trimmed", "queue_time", "latency", "goroutines", "heap_bytes", "rss_bytes", "pid", "version"}
	for _, k := range append(puma, extras...) {
		if _, ok := m[k]; !ok {
			t.Errorf("stats JSON lacks %q: %s", k, got.body)
		}
	}
	if got, want := m["started_at"], "2025-01-02T03:04:05Z"; got != want {
		t.Errorf("started_at: got %v, want %v", got, want)
	}
	qt, _ := m["queue_time"].(map[string]any)
	for _, k := range []string{"count", "p50_ms", "p90_ms", "p99_ms", "max_ms"} {
		if _, ok := qt[k]; !ok {
			t.Errorf("queue_time lacks %q", k)
		}
	}
}

func TestServerAuth(t *testing.T) {
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget()})
	hc := rawHTTP(t, srv)
	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
		errMsg string
	}{
		{name: "no token", path: "/stats", status: 401, errMsg: "missing token"},
		{name: "empty query token", path: "/stats?token=", status: 401, errMsg: "missing token"},
		{name: "basic auth is not a token", path: "/stats", header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, status: 401, errMsg: "missing token"},
		{name: "wrong query token", path: "/stats?token=nope", status: 403, errMsg: "wrong token"},
		{name: "wrong bearer token", path: "/stats", header: bearer("nope"), status: 403, errMsg: "wrong token"},
		{name: "token prefix", path: "/stats", header: bearer(testToken[:5]), status: 403, errMsg: "wrong token"},
		{name: "token with suffix", path: "/stats?token=" + testToken + "x", status: 403, errMsg: "wrong token"},
		{name: "query token", path: "/stats?token=" + testToken, status: 200},
		{name: "bearer token", path: "/stats", header: bearer(testToken), status: 200},
		{name: "bearer scheme any case", path: "/stats", header: http.Header{"Authorization": {"bearer " + testToken}}, status: 200},
		{name: "query token beside basic auth", path: "/stats?token=" + testToken, header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, status: 200},
		{name: "unknown path needs token", path: "/nope", status: 401, errMsg: "missing token"},
		{name: "stop needs token", path: "/stop?token=nope", status: 403, errMsg: "wrong token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, hc, "GET", tt.path, tt.header)
			if got.status != tt.status {
				t.Fatalf("status: got %d, want %d (body %s)", got.status, tt.status, got.body)
			}
			if tt.errMsg == "" {
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal([]byte(got.body), &body); err != nil {
				t.Fatalf("error body is not JSON: %q", got.body)
			}
			if !strings.Contains(body.Error, tt.errMsg) {
				t.Errorf("error: got %q, want it to contain %q", body.Error, tt.errMsg)
			}
			if tt.status == 401 && got.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestNewGeneratesToken(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Target: newFakeTarget(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	b, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Target: newFakeTarget()})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a.Token()) {
		t.Errorf("Token: got %q, want 32 hex digits", a.Token())
	}
	if a.Token() == b.Token() {
		t.Errorf("two servers got the same token %q", a.Token())
	}
	if strings.Contains(logs.String(), a.Token()) {
		t.Errorf("New logged the token before Start")
	}

	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := send(t, rawHTTP(t, a), "GET", "/stats?token="+a.Token(), nil)
	if got.status != 200 {
		t.Errorf("generated token: got status %d, want 200", got.status)
	}
	send(t, rawHTTP(t, a), "GET", "/stats?token=wrong", nil)
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), a.Token()); n != 1 {
		t.Errorf("token logged %d times, want once; logs:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), a.URL()) {
		t.Errorf("logs lack the URL %s:\n%s", a.URL(), logs.String())
	}
}

func TestServerDoesNotLogConfiguredToken(t *testing.T) {
	var logs syncBuffer
	srv, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	send(t, rawHTTP(t, srv), "GET", "/stats?token=wrong", nil)
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("configured token was logged:\n%s", logs.String())
	}
}

func TestNewInvalidConfig(t *testing.T) {
	target := newFakeTarget()
	tests := []struct {
		name  string
		cfg   control.Config
		field string
		msg   string
	}{
		{"empty URL", control.Config{Target: target}, "URL", "control: URL: empty"},
		{"ftp", control.Config{URL: "ftp://x:1", Target: target}, "URL", `control: URL: unsupported scheme "ftp" (want tcp or unix)`},
		{"http", control.Config{URL: "http://127.0.0.1:9293", Target: target}, "URL", `unsupported scheme "http"`},
		{"no scheme", control.Config{URL: "127.0.0.1:9293", Target: target}, "URL", "has no scheme"},
		{"tcp without port", control.Config{URL: "tcp://127.0.0.1", Target: target}, "URL", "want tcp://HOST:PORT"},
		{"tcp empty", control.Config{URL: "tcp://", Target: target}, "URL", "want tcp://HOST:PORT"},
		{"tcp bad port", control.Config{URL: "tcp://127.0.0.1:http", Target: target}, "URL", "invalid port"},
		{"tcp port too big", control.Config{URL: "tcp://127.0.0.1:65536", Target: target}, "URL", "invalid port"},
		{"tcp path", control.Config{URL: "tcp://127.0.0.1:9293/stats", Target: target}, "URL", "invalid port"},
		{"unix without path", control.Config{URL: "unix://", Target: target}, "URL", "missing socket path"},
		{"unix with query", control.Config{URL: "unix:///tmp/x.sock?mode=1", Target: target}, "URL", "must not contain"},
		{"nil target", control.Config{URL: "tcp://127.0.0.1:0"}, "Target", "control: Target: nil"},
		{"token with space", control.Config{URL: "tcp://127.0.0.1:0", Token: "a b", Target: target}, "Token", "control: Token: must be printable ASCII"},
		{"token with newline", control.Config{URL: "tcp://127.0.0.1:0", Token: "a\nb", Target: target}, "Token", "printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := control.New(tt.cfg)
			if err == nil {
				t.Fatalf("New: got server for %s, want error", srv.URL())
			}
			var ce *control.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T): want *ConfigError", err, err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field: got %q, want %q", ce.Field, tt.field)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestNewValidURLs(t *testing.T) {
	tests := []struct{ url, want string }{
		{"tcp://127.0.0.1:9293", "tcp://127.0.0.1:9293"},
		{"tcp://:0", "tcp://:0"},
		{"tcp://localhost:09293", "tcp://localhost:9293"},
		{"tcp://[::1]:9293", "tcp://[::1]:9293"},
		{"unix:///run/hatago.sock", "unix:///run/hatago.sock"},
		{"unix://relative.sock", "unix://relative.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			srv, err := control.New(control.Config{URL: tt.url, Target: newFakeTarget()})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := srv.URL(); got != tt.want {
				t.Errorf("URL: got %q, want %q", got, tt.want)
			}
			if srv.Addr() != nil {
				t.Errorf("Addr before Start: got %v, want nil", srv.Addr())
			}
		})
	}
}

func TestServerURLAfterStart(t *testing.T) {
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Target: newFakeTarget()})
	port := srv.Addr().(*net.TCPAddr).Port
	if port == 0 {
		t.Fatal("port 0 after Start")
	}
	if got, want := srv.URL(), "tcp://"+srv.Addr().String(); got != want {
		t.Errorf("URL: got %q, want %q", got, want)
	}
}

func TestUnixSocket(t *testing.T) {
	t.Run("mode 0600 and removed at Shutdown", func(t *testing.T) {
		path := socketPath(t)
		srv, err := control.New(control.Config{URL: "unix://" + path, Token: testToken, Target: newFakeTarget()})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != fs.ModeSocket {
			t.Errorf("mode: got %v, want a socket", fi.Mode())
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("permissions: got %o, want 600", got)
		}
		if got, want := srv.URL(), "unix://"+path; got != want {
			t.Errorf("URL: got %q, want %q", got, want)
		}
		for range 2 {
			if err := srv.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket file after Shutdown: got err %v, want not exist", err)
		}
	})

	t.Run("stale socket is replaced", func(t *testing.T) {
		path := socketPath(t)
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("stale socket not left behind: %v", err)
		}
		srv := startServer(t, control.Config{URL: "unix://" + path, Token: testToken, Target: newFakeTarget()})
		if got := send(t, rawHTTP(t, srv), "GET", "/stats", bearer(testToken)); got.status != 200 {
			t.Errorf("status: got %d, want 200", got.status)
		}
	})

	t.Run("regular file is an error", func(t *testing.T) {
		path := socketPath(t)
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		srv, err := control.New(control.Config{URL: "unix://" + path, Target: newFakeTarget()})
		if err != nil {
			t.Fatal(err)
		}
		err = srv.Start(context.Background())
		if !errors.Is(err, control.ErrNotSocket) {
			t.Fatalf("Start: got %v, want ErrNotSocket", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path", err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "precious" {
			t.Errorf("file after Start: got %q, %v; want it untouched", b, err)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown after failed Start: %v", err)
		}
	})

	t.Run("live socket is an error", func(t *testing.T) {
		path := socketPath(t)
		first := startServer(t, control.Config{URL: "unix://" + path, Token: testToken, Target: newFakeTarget()})
		second, err := control.New(control.Config{URL: "unix://" + path, Target: newFakeTarget()})
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Start(context.Background()); !errors.Is(err, control.ErrInUse) {
			t.Fatalf("Start: got %v, want ErrInUse", err)
		}
		if got := send(t, rawHTTP(t, first), "GET", "/stats", bearer(testToken)); got.status != 200 {
			t.Errorf("first server after second Start: got status %d, want 200", got.status)
		}
	})
}

func TestServerLifecycle(t *testing.T) {
	t.Run("start twice", func(t *testing.T) {
		srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Target: newFakeTarget()})
		if err := srv.Start(context.Background()); !errors.Is(err, control.ErrStarted) {
			t.Errorf("second Start: got %v, want ErrStarted", err)
		}
	})

	t.Run("shutdown before start", func(t *testing.T) {
		srv, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Target: newFakeTarget()})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if err := srv.Start(context.Background()); !errors.Is(err, control.ErrClosed) {
			t.Errorf("Start after Shutdown: got %v, want ErrClosed", err)
		}
	})

	t.Run("listen error is returned at once", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		srv, err := control.New(control.Config{URL: "tcp://" + ln.Addr().String(), Target: newFakeTarget()})
		if err != nil {
			t.Fatal(err)
		}
		err = srv.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("Start on a busy port: got %v, want an error naming the address", err)
		}
	})

	t.Run("concurrent shutdown", func(t *testing.T) {
		target := newFakeTarget()
		srv, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		client, err := control.NewClient(srv.URL(), testToken)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 10 {
					if _, err := client.Stats(ctx); err != nil {
						return // the server may be gone already
					}
				}
			})
		}
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errs <- srv.Shutdown(ctx) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}
		if _, err := client.Stats(ctx); !errors.Is(err, control.ErrUnreachable) {
			t.Errorf("Stats after Shutdown: got %v, want ErrUnreachable", err)
		}
	})

	t.Run("shutdown waits for stop", func(t *testing.T) {
		target := newFakeTarget()
		target.block = make(chan struct{})
		srv, err := control.New(control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		client, err := control.NewClient(srv.URL(), testToken)
		if err != nil {
			t.Fatal(err)
		}
		// The answer arrives although Target.Stop has not returned.
		if err := client.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}

		expired, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(expired); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown while Stop runs: got %v, want DeadlineExceeded", err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Shutdown(context.Background()) }()
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v before Target.Stop did", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(target.block)
		if err := <-done; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if got := target.stops.Load(); got != 1 {
			t.Errorf("Stop calls: got %d, want 1", got)
		}
	})
}

func TestServerRecoversPanics(t *testing.T) {
	var logs syncBuffer
	target := newFakeTarget()
	target.panicStats = true
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	hc := rawHTTP(t, srv)
	got := send(t, hc, "GET", "/stats", bearer(testToken))
	if got.status != 500 || !strings.Contains(got.body, "stats exploded") {
		t.Errorf("got %d %s, want 500 naming the panic", got.status, got.body)
	}
	if got := send(t, hc, "GET", "/gc-stats", bearer(testToken)); got.status != 200 {
		t.Errorf("after a panic: got status %d, want 200", got.status)
	}
	if !strings.Contains(logs.String(), "stats exploded") {
		t.Errorf("panic not logged:\n%s", logs.String())
	}
}

func TestServerConcurrentRequests(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			srv := startServer(t, control.Config{URL: listenURL(t, network), Token: testToken, Target: newFakeTarget()})
			client, err := control.NewClient(srv.URL(), testToken)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for i := range 16 {
				wg.Go(func() {
					for range 5 {
						var err error
						switch i % 4 {
						case 0:
							_, err = client.Stats(ctx)
						case 1:
							_, err = client.Metrics(ctx)
						case 2:
							_, err = client.GCStats(ctx)
						case 3:
							_, err = client.GC(ctx)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{"tcp://127.0.0.1:9293", "tcp://:0", "tcp://[::1]:80", "unix:///run/h.sock",
		"unix://rel", "ftp://x", "tcp://a:b:c", "tcp://[::1", "unix://a?b", "", "://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		srv, err := control.New(control.Config{URL: url, Target: exampleTarget{}})
		_, cerr := control.NewClient(url, "")
		if (err == nil) != (cerr == nil) {
			t.Fatalf("New and NewClient disagree on %q: %v vs %v", url, err, cerr)
		}
		if err != nil {
			var ce *control.ConfigError
			if !errors.As(err, &ce) || ce.Field != "URL" {
				t.Fatalf("New(%q): got %v, want a ConfigError for URL", url, err)
			}
			return
		}
		norm := srv.URL()
		if !strings.HasPrefix(norm, "tcp://") && !strings.HasPrefix(norm, "unix://") {
			t.Fatalf("URL of %q: got %q, want tcp:// or unix://", url, norm)
		}
		again, err := control.New(control.Config{URL: norm, Target: exampleTarget{}})
		if err != nil {
			t.Fatalf("normal form %q of %q is rejected: %v", norm, url, err)
		}
		if got := again.URL(); got != norm {
			t.Fatalf("normal form of %q: got %q, then %q", url, norm, got)
		}
	})
}
