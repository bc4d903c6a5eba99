package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

func TestClientCommands(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			target := newFakeTarget()
			srv := startServer(t, control.Config{URL: listenURL(t, network), Token: testToken, Target: target})
			client, err := control.NewClient(srv.URL(), testToken)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			t.Run("Stats", func(t *testing.T) {
				got, err := client.Stats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, fixedStats) {
					t.Errorf("got %+v, want %+v", got, fixedStats)
				}
			})
			t.Run("GC", func(t *testing.T) {
				got, err := client.GC(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got.Message != "gc done" || got.HeapAllocBefore == 0 || got.HeapAllocAfter == 0 {
					t.Errorf("got %+v, want gc done with heap figures", got)
				}
			})
			t.Run("GCStats", func(t *testing.T) {
				got, err := client.GCStats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"num_gc", "num_forced_gc", "pause_total_ns", "last_pause_ns", "heap_alloc",
					"heap_sys", "heap_objects", "next_gc", "gc_cpu_fraction", "gogc_percent", "memory_limit_bytes", "goroutines"} {
					if _, ok := got[k].(json.Number); !ok {
						t.Errorf("%s: got %#v, want a json.Number", k, got[k])
					}
				}
			})
			t.Run("Goroutines", func(t *testing.T) {
				got, err := client.Goroutines(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(got, "goroutine ") {
					t.Errorf("got %.100q, want a goroutine dump", got)
				}
			})
			t.Run("Metrics", func(t *testing.T) {
				got, err := client.Metrics(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := checkExposition(got); err != nil {
					t.Errorf("invalid exposition: %v", err)
				}
			})
			t.Run("Do thread-backtraces", func(t *testing.T) {
				got, err := client.Do(ctx, "thread-backtraces")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(got), "goroutine ") {
					t.Errorf("got %.100q, want a goroutine dump", got)
				}
			})
			t.Run("Stop", func(t *testing.T) {
				if err := client.Stop(ctx); err != nil {
					t.Fatal(err)
				}
				waitFor(t, target.stopped, "Stop")
			})
			t.Run("Halt", func(t *testing.T) {
				if err := client.Halt(ctx); err != nil {
					t.Fatal(err)
				}
				waitFor(t, target.halted, "Halt")
			})
		})
	}
}

func TestClientErrors(t *testing.T) {
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget()})
	refused := freeTCPURL(t)
	missing := "unix://" + socketPath(t)
	hanging := hangingServer(t)

	tests := []struct {
		name    string
		url     string
		token   string
		timeout time.Duration
		is      []error
		status  int
		msg     []string
	}{
		{name: "connection refused", url: refused, is: []error{control.ErrUnreachable, syscall.ECONNREFUSED},
			msg: []string{"control: cannot reach " + refused + ": connection refused (is the server running with --control-url?)"}},
		{name: "no such socket", url: missing, is: []error{control.ErrUnreachable},
			msg: []string{"cannot reach " + missing + ": no such socket"}},
		{name: "timeout", url: hanging, timeout: 100 * time.Millisecond, is: []error{control.ErrUnreachable, context.DeadlineExceeded},
			msg: []string{"cannot reach " + hanging + ": timed out"}},
		{name: "missing token", url: srv.URL(), token: "", is: []error{control.ErrUnauthorized}, status: 401,
			msg: []string{srv.URL() + " requires a token", "401"}},
		{name: "wrong token", url: srv.URL(), token: "nope", is: []error{control.ErrUnauthorized}, status: 403,
			msg: []string{srv.URL() + " refused the token", "403"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := control.NewClient(tt.url, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err = client.Stats(ctx)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error %q: errors.Is(%v) is false", err, target)
				}
			}
			if sub, ok := contains(err.Error(), tt.msg...); !ok {
				t.Errorf("error %q lacks %q", err, sub)
			}
			var re *control.ResponseError
			if errors.As(err, &re) != (tt.status != 0) || (re != nil && re.StatusCode != tt.status) {
				t.Errorf("error %q: got ResponseError %+v, want status %d", err, re, tt.status)
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		client, err := control.NewClient(hanging, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err = client.Stats(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, control.ErrUnreachable) {
			t.Errorf("got %v, want context.Canceled and not ErrUnreachable", err)
		}
	})

	t.Run("unknown command", func(t *testing.T) {
		client, err := control.NewClient(srv.URL(), testToken)
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.Do(context.Background(), "reload")
		if !errors.Is(err, control.ErrUnknownCommand) || !strings.Contains(err.Error(), `"reload"`) {
			t.Errorf("got %v, want ErrUnknownCommand naming the command", err)
		}
	})
}

func TestNewClientInvalid(t *testing.T) {
	tests := []struct{ name, url, token, field string }{
		{"bad scheme", "ftp://x:1", "", "URL"},
		{"empty", "", "", "URL"},
		{"token with space", "tcp://127.0.0.1:1", "a b", "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := control.NewClient(tt.url, tt.token)
			var ce *control.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Errorf("got %v, want a ConfigError for %s", err, tt.field)
			}
		})
	}
}

// hangingServer returns the URL of a TCP server that accepts connections
// and never answers.
func hangingServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards conns
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "tcp://" + ln.Addr().String()
}
