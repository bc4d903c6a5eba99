package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/hatagotest"
)

// gate is a pause hook the test drives: each pause announces itself on
// arrived and then waits until the test opens its own gate.
type gate struct {
	arrived chan chan struct{}
}

func newGate() *gate { return &gate{arrived: make(chan chan struct{})} }

func (g *gate) pause() {
	open := make(chan struct{})
	g.arrived <- open
	<-open
}

// wait returns the gate of the next request to pause, failing the test if
// none does within a few seconds.
func (g *gate) wait(t *testing.T) chan struct{} {
	t.Helper()
	select {
	case open := <-g.arrived:
		return open
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached the pause")
		return nil
	}
}

// lockstep serves three requests through serve at once, and orders them:
// it waits until all three are in their pause (so each has read the total
// as it was before any of them wrote), then opens the gates one at a time,
// each only after the request before has returned. It returns the bodies
// in the order the requests finished.
//
// The schedule makes Broken lose counts every time, and without a data
// race: each request's read happens before its arrival on g.arrived, which
// happens before the test opens the first gate; each write happens before
// that request's result is sent on done, which happens before the test
// opens the next gate. Every read and write of Broken.total is thus
// ordered by the test's channels, so -race has nothing to report, and yet
// every request read 0 and writes 0+1: three requests, total 1. That is the
// hands-on's lost update, made deterministic. (TestBrokenRace drops the
// ordering to show the data race itself.)
func lockstep(t *testing.T, g *gate, serve func() string) []string {
	t.Helper()
	done := make(chan string)
	for range 3 {
		go func() { done <- serve() }()
	}
	gates := []chan struct{}{g.wait(t), g.wait(t), g.wait(t)}
	var bodies []string
	for _, open := range gates {
		close(open)
		select {
		case body := <-done:
			bodies = append(bodies, body)
		case <-time.After(5 * time.Second):
			t.Fatal("a request did not return after its gate opened")
		}
	}
	return bodies
}

// oneAtATime is lockstep for Mutex, whose pause is inside the lock: only
// one request can be there at a time, so the test lets each through as it
// arrives, and checks that no second one arrives meanwhile.
func oneAtATime(t *testing.T, g *gate, serve func() string) []string {
	t.Helper()
	done := make(chan string)
	for range 3 {
		go func() { done <- serve() }()
	}
	var bodies []string
	for range 3 {
		open := g.wait(t)
		select {
		case other := <-g.arrived:
			close(other)
			t.Error("two requests inside the critical section at once")
		case <-time.After(20 * time.Millisecond):
		}
		close(open)
		bodies = append(bodies, <-done)
	}
	return bodies
}

// serveRecorded serves one request to h with a recorder and returns the
// body.
func serveRecorded(h http.Handler) func() string {
	return func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Body.String()
	}
}

// TestBrokenLosesCounts is the hands-on's three concurrent requests: all
// three read 0, all three write 1.
func TestBrokenLosesCounts(t *testing.T) {
	g := newGate()
	c := &Broken{pause: g.pause}
	bodies := lockstep(t, g, serveRecorded(c))
	if want := []string{"total 1\n", "total 1\n", "total 1\n"}; !slices.Equal(bodies, want) {
		t.Errorf("got bodies %q, want %q", bodies, want)
	}
	if got := c.Total(); got != 1 {
		t.Errorf("got total %d, want 1: two of three counts lost", got)
	}
}

// fixedForms builds each fixed form with a pause hook, and says whether
// its pause lets requests in together (lockstep) or one at a time.
var fixedForms = []struct {
	name     string
	new      func(t *testing.T, pause func()) counter
	together bool
}{
	{"mutex", func(t *testing.T, pause func()) counter { return &Mutex{pause: pause} }, false},
	{"atomic", func(t *testing.T, pause func()) counter { return &Atomic{pause: pause} }, true},
	{"owner", func(t *testing.T, pause func()) counter {
		o := NewOwner(pause)
		if err := o.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(o.Stop)
		return o
	}, true},
	{"perrequest", func(t *testing.T, pause func()) counter { return NewPerRequest(pause).(counter) }, true},
}

// TestFixedFormsKeepCounts runs the three-request schedule on each fixed
// form, and then a thousand requests from many goroutines: no count is
// lost.
func TestFixedFormsKeepCounts(t *testing.T) {
	for _, form := range fixedForms {
		t.Run(form.name, func(t *testing.T) {
			g := newGate()
			c := form.new(t, g.pause)
			schedule := lockstep
			if !form.together {
				schedule = oneAtATime
			}
			bodies := schedule(t, g, serveRecorded(c))
			if want := []string{"total 1\n", "total 2\n", "total 3\n"}; !slices.Equal(bodies, want) {
				t.Errorf("got bodies %q, want %q", bodies, want)
			}
			if got := c.Total(); got != 3 {
				t.Errorf("got total %d, want 3", got)
			}

			c = form.new(t, func() {})
			res := hatagotest.Hammer(t, c, hatagotest.HammerOptions{Requests: 1000, Lint: true})
			if res.Status[http.StatusOK] != 1000 {
				t.Errorf("got %v, want 1000 answers 200", res)
			}
			if got := c.Total(); got != 1000 {
				t.Errorf("got total %d after 1000 requests, want 1000", got)
			}
		})
	}
}

// TestBrokenRace hammers Broken with real concurrency and no ordering, so
// the race detector sees the unsynchronised read and write of its total
// and fails the test. It is opt-in, as it is meant to fail:
//
//	HATAGO_COUNTER_RACE=1 go test -race -run TestBrokenRace ./examples/counter
func TestBrokenRace(t *testing.T) {
	if os.Getenv("HATAGO_COUNTER_RACE") != "1" || !raceEnabled {
		t.Skip("shows the data race in Broken: run with HATAGO_COUNTER_RACE=1 go test -race")
	}
	c := &Broken{pause: runtime.Gosched}
	res := hatagotest.Hammer(t, c, hatagotest.HammerOptions{Requests: 100})
	t.Logf("Broken counted %d of %d requests", c.Total(), res.Requests)
}

// TestServeAtomic serves Atomic through a real Hatago server: three
// concurrent HTTP requests are all inside the handler at once (each in
// its pause), then finish one at a time, and every count is kept.
func TestServeAtomic(t *testing.T) {
	g := newGate()
	c := &Atomic{pause: g.pause}
	s := hatagotest.Serve(t, c, hatago.Config{MaxSlots: 4})
	bodies := lockstep(t, g, func() string {
		res, err := s.Client.Get(s.URL + "/")
		if err != nil {
			t.Error(err)
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	})
	if want := []string{"total 1\n", "total 2\n", "total 3\n"}; !slices.Equal(bodies, want) {
		t.Errorf("got bodies %q, want %q", bodies, want)
	}
	if got := c.Total(); got != 3 {
		t.Errorf("got total %d, want 3", got)
	}
}

// TestOwnerLifecycle runs an Owner in a synctest bubble, which fails the
// test if its goroutine is left behind.
func TestOwnerLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := NewOwner(nil) // the default pause: 10ms of the bubble's fake time
		get := serveRecorded(o)
		if rec := httptest.NewRecorder(); true {
			o.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != http.StatusServiceUnavailable || o.Total() != 0 {
				t.Errorf("before Start: got %d and total %d, want 503 and 0", rec.Code, o.Total())
			}
		}
		if err := o.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := o.Start(t.Context()); err == nil {
			t.Error("a second Start returned nil, want an error")
		}
		for i := 1; i <= 3; i++ {
			if got, want := get(), fmt.Sprintf("total %d\n", i); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
		o.Stop()
		o.Stop() // idempotent
		if got := o.Total(); got != 3 {
			t.Errorf("after Stop: got total %d, want 3", got)
		}
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "stopped") {
			t.Errorf("after Stop: got %d %q, want 503", rec.Code, rec.Body.String())
		}
	})
}

// TestOwnerStopsWithContext ends the owner through its context; Stop
// then returns at once, and no goroutine is left.
func TestOwnerStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		o := NewOwner(func() {})
		if err := o.Start(ctx); err != nil {
			t.Fatal(err)
		}
		serveRecorded(o)()
		cancel()
		synctest.Wait()
		select {
		case <-o.done:
		default:
			t.Fatal("the owner still runs after its context ended")
		}
		if got := o.Total(); got != 1 {
			t.Errorf("got total %d, want 1", got)
		}
		o.Stop()
	})
}

// TestServer drives the command's wiring: each mode serves / and /total
// through a real server.
func TestServer(t *testing.T) {
	for _, mode := range []string{"broken", "mutex", "atomic", "owner", "perrequest"} {
		t.Run(mode, func(t *testing.T) {
			srv, stop, err := newServer(t.Context(), []string{"-mode", mode, "-addr", "127.0.0.1:0", "-pause", "0"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if err := srv.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			base := "http://" + srv.Addrs()[0].String()
			for _, want := range []struct{ path, body string }{
				{"/", "total 1\n"}, {"/", "total 2\n"}, {"/total", "total 2\n"}, {"/other", "404 page not found\n"},
			} {
				res, err := http.Get(base + want.path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(b) != want.body {
					t.Errorf("GET %s: got %q, want %q", want.path, b, want.body)
				}
			}
		})
	}
}

func TestNewServerErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-mode", "lucky"}, `unknown -mode "lucky"`},
		{[]string{"-pause", "soon"}, "invalid value"},
		{[]string{"-addr", "nowhere"}, "Binds"},
	}
	for _, tt := range tests {
		_, _, err := newServer(t.Context(), tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
