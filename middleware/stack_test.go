package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hatago/hatago/middleware"
)

// coreMustPanic runs f and returns the message of its panic; it fails the
// test if f does not panic.
func coreMustPanic(t testing.TB, f func()) (msg string) {
	t.Helper()
	defer func() {
		v := recover()
		if v == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(v)
	}()
	f()
	return ""
}

// coreGet serves a GET of target with h and returns the recorder.
func coreGet(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// stackTag returns middleware that appends name to the X-Order response
// header on the way in.
func stackTag(name string) middleware.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Order", name)
			next.ServeHTTP(w, r)
		})
	}
}

// stackEcho answers with its name and the path (and raw path) it saw.
func stackEcho(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Order", name)
		fmt.Fprintf(w, "%s %s %s", name, r.URL.Path, r.URL.RawPath)
	})
}

func TestStackOrder(t *testing.T) {
	a, b, c := stackTag("a"), stackTag("b"), stackTag("c")
	used := middleware.New(a)
	used.Use(b, c)
	used.Handle(stackEcho("h"))
	tests := []struct {
		name string
		h    http.Handler
	}{
		{"New+Use", used},
		{"New", func() http.Handler { s := middleware.New(a, b, c); s.Handle(stackEcho("h")); return s }()},
		{"Chain", middleware.Chain(stackEcho("h"), a, b, c)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := coreGet(tt.h, "/")
			if got, want := strings.Join(rec.Header().Values("X-Order"), ","), "a,b,c,h"; got != want {
				t.Errorf("got order %v, want %v", got, want)
			}
		})
	}
}

func TestStackZeroValueAnswers404(t *testing.T) {
	var s middleware.Stack
	if got, want := coreGet(&s, "/x").Code, http.StatusNotFound; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if !s.Frozen() {
		t.Error("the first request did not freeze the stack")
	}
}

func TestStackMount(t *testing.T) {
	api := middleware.New(stackTag("api-mw"))
	api.Handle(stackEcho("api"))
	s := middleware.New(stackTag("outer"))
	s.Handle(stackEcho("endpoint"))
	s.Mount("/api", api)
	s.Mount("/api/v1", stackEcho("v1"))
	s.Mount("/static/css", stackEcho("css"))

	tests := []struct {
		target, body, order string
	}{
		{"/", "endpoint / ", "outer,endpoint"},
		{"/apix", "endpoint /apix ", "outer,endpoint"},
		{"/api", "api / ", "outer,api-mw,api"},
		{"/api/", "api / ", "outer,api-mw,api"},
		{"/api/users/7", "api /users/7 ", "outer,api-mw,api"},
		{"/api/v1", "v1 / ", "outer,v1"},
		{"/api/v1/x", "v1 /x ", "outer,v1"},
		{"/api/v10", "api /v10 ", "outer,api-mw,api"},
		{"/static", "endpoint /static ", "outer,endpoint"},
		{"/static/css/a.css", "css /a.css ", "outer,css"},
		// The raw path follows when it holds the prefix as written...
		{"/api/a%2Fb", "api /a/b /a%2Fb", "outer,api-mw,api"},
		// ...and is dropped when the prefix itself was escaped.
		{"/ap%69/a%2Fb", "api /a/b ", "outer,api-mw,api"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			path, raw := req.URL.Path, req.URL.RawPath
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("got body %q, want %q", got, tt.body)
			}
			if got := strings.Join(rec.Header().Values("X-Order"), ","); got != tt.order {
				t.Errorf("got order %v, want %v", got, tt.order)
			}
			if req.URL.Path != path || req.URL.RawPath != raw {
				t.Errorf("the caller's request changed: got %q %q, want %q %q", req.URL.Path, req.URL.RawPath, path, raw)
			}
		})
	}
	if !api.Frozen() {
		t.Error("the mounted stack is not frozen")
	}
}

func TestStackMountRejects(t *testing.T) {
	h := stackEcho("h")
	tests := []struct {
		prefix string
		h      http.Handler
		want   string
	}{
		{"api", h, `"api" must begin with "/"`},
		{"", h, `must begin with "/"`},
		{"/", h, "set the endpoint with Handle"},
		{"/api/", h, `write "/api"`},
		{"/a//b", h, `segment ""`},
		{"/a/./b", h, `segment "."`},
		{"/a/../b", h, `segment ".."`},
		{"/a?b", h, `"?"`},
		{"/taken", h, `"/taken" is already mounted (at `},
		{"/nil", nil, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			s := middleware.New()
			s.Mount("/taken", h)
			msg := coreMustPanic(t, func() { s.Mount(tt.prefix, tt.h) })
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "middleware: Mount: ") {
				t.Errorf("got panic %q, want it to hold %q", msg, tt.want)
			}
		})
	}
}

func TestStackRejectsNil(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"New", func() { middleware.New(stackTag("a"), nil) }, "middleware: New: mw[1] is nil"},
		{"Use", func() { middleware.New().Use(nil) }, "middleware: Use: mw[0] is nil"},
		{"Handle", func() { middleware.New().Handle(nil) }, "middleware: Handle: handler is nil"},
		{"Chain handler", func() { middleware.Chain(nil) }, "middleware: Chain: handler is nil"},
		{"Chain mw", func() { middleware.Chain(stackEcho("h"), nil) }, "middleware: Chain: mw[0] is nil"},
		{"Chain result", func() {
			middleware.Chain(stackEcho("h"), stackTag("a"), func(http.Handler) http.Handler { return nil })
		}, "middleware: Chain: mw[1] returned a nil handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coreMustPanic(t, tt.f); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStackFrozenPanics(t *testing.T) {
	tests := []struct {
		name   string
		freeze func(*middleware.Stack)
		by     string // what the message says froze the stack
	}{
		{"Freeze", func(s *middleware.Stack) { s.Freeze() }, "by Freeze, called from github.com/hatago/hatago/middleware_test.TestStackFrozenPanics"},
		{"first request", func(s *middleware.Stack) { coreGet(s, "/") }, "by its first request, ServeHTTP called from github.com/hatago/hatago/middleware_test.coreGet"},
	}
	calls := []struct {
		method string
		f      func(*middleware.Stack)
	}{
		{"Use", func(s *middleware.Stack) { s.Use(stackTag("late")) }},
		{"Handle", func(s *middleware.Stack) { s.Handle(stackEcho("late")) }},
		{"Mount", func(s *middleware.Stack) { s.Mount("/late", stackEcho("late")) }},
	}
	for _, tt := range tests {
		for _, c := range calls {
			t.Run(tt.name+"/"+c.method, func(t *testing.T) {
				s := middleware.New(stackTag("a"))
				s.Handle(stackEcho("h"))
				if s.Frozen() {
					t.Fatal("frozen before the freeze")
				}
				tt.freeze(s)
				if !s.Frozen() {
					t.Fatal("not frozen after the freeze")
				}
				msg := coreMustPanic(t, func() { c.f(s) })
				for _, want := range []string{
					"middleware: " + c.method + " after the stack was frozen (",
					tt.by, "stack_test.go:",
					"the chain is built once and shared by every request goroutine",
					"before the server starts",
				} {
					if !strings.Contains(msg, want) {
						t.Errorf("panic %q does not hold %q", msg, want)
					}
				}
				// The stack serves on, unchanged.
				if got, want := strings.Join(coreGet(s, "/").Header().Values("X-Order"), ","), "a,h"; got != want {
					t.Errorf("got order %v, want %v", got, want)
				}
			})
		}
	}
}

// stackFreezer counts its Freeze calls.
type stackFreezer struct {
	http.Handler
	n atomic.Int32
}

func (f *stackFreezer) Freeze() { f.n.Add(1) }

func TestStackFreezeFreezesMounts(t *testing.T) {
	inner := middleware.New()
	mid := middleware.New()
	mid.Mount("/inner", inner)
	other := &stackFreezer{Handler: stackEcho("other")}
	s := middleware.New()
	s.Mount("/mid", mid)
	s.Mount("/other", other)
	// A cycle: the freeze must still end.
	inner.Mount("/back", s)

	s.Freeze()
	s.Freeze()
	for name, st := range map[string]*middleware.Stack{"mid": mid, "inner": inner} {
		if !st.Frozen() {
			t.Errorf("%s is not frozen", name)
		}
	}
	if got, want := other.n.Load(), int32(1); got != want {
		t.Errorf("got %v Freeze calls on the mounted freezer, want %v", got, want)
	}
	msg := coreMustPanic(t, func() { inner.Use(stackTag("late")) })
	if want := `(with the stack it is mounted in at "/inner", frozen with the stack it is mounted in at "/mid", frozen by Freeze, called from github.com/hatago/hatago/middleware_test.TestStackFreezeFreezesMounts (middleware/stack_test.go:`; !strings.Contains(msg, want) {
		t.Errorf("panic %q does not hold %q", msg, want)
	}
	if got, want := coreGet(s, "/mid/inner/back/other/x").Body.String(), "other /x "; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStackFailedBuild(t *testing.T) {
	tests := []struct {
		name string
		mw   func(s *middleware.Stack) middleware.Middleware
		want string
	}{
		{"nil handler", func(*middleware.Stack) middleware.Middleware {
			return func(http.Handler) http.Handler { return nil }
		}, "middleware: Stack: the middleware added at github.com/hatago/hatago/middleware_test.TestStackFailedBuild"},
		// A constructor that changes the stack it is being built into
		// gets the frozen panic, not a deadlock.
		{"Use while building", func(s *middleware.Stack) middleware.Middleware {
			return func(next http.Handler) http.Handler { s.Use(stackTag("x")); return next }
		}, "middleware: Use after the stack was frozen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := middleware.New()
			s.Use(tt.mw(s))
			if msg := coreMustPanic(t, s.Freeze); !strings.Contains(msg, tt.want) {
				t.Errorf("Freeze: panic %q does not hold %q", msg, tt.want)
			}
			msg := coreMustPanic(t, func() { coreGet(s, "/") })
			if want := "middleware: Stack: building the chain failed"; !strings.Contains(msg, want) || !strings.Contains(msg, tt.want) {
				t.Errorf("ServeHTTP: panic %q does not hold %q and %q", msg, want, tt.want)
			}
		})
	}
}

// TestStackReentrantBuild: a middleware constructor that calls the stack
// it is being built into (a warm-up request, say) would wait for its own
// build; it must get a panic that says so, and the build fail, rather
// than hang.
func TestStackReentrantBuild(t *testing.T) {
	tests := []struct {
		name  string
		enter func(s *middleware.Stack) // what the constructor calls
		want  string
	}{
		{"warm-up request", func(s *middleware.Stack) { coreGet(s, "/warm-up") },
			"middleware: Stack: ServeHTTP called while the chain is being built, by the goroutine building it"},
		{"Freeze", func(s *middleware.Stack) { s.Freeze() },
			"middleware: Stack: Freeze called while the chain is being built, by the goroutine building it"},
		{"through a stack that mounts it", func(s *middleware.Stack) {
			outer := middleware.New()
			outer.Mount("/inner", s)
			coreGet(outer, "/inner/warm-up") // freezes outer, which freezes s
		}, "called while the chain is being built, by the goroutine building it"},
	}
	for _, tt := range tests {
		for _, first := range []string{"Freeze", "ServeHTTP"} {
			t.Run(tt.name+"/first "+first, func(t *testing.T) {
				s := middleware.New()
				s.Use(func(next http.Handler) http.Handler {
					tt.enter(s)
					return next
				})
				s.Handle(stackEcho("h"))
				done := make(chan string, 1)
				go func() {
					defer func() { done <- fmt.Sprint(recover()) }()
					if first == "Freeze" {
						s.Freeze()
					} else {
						coreGet(s, "/")
					}
				}()
				var msg string
				select {
				case msg = <-done:
				case <-time.After(10 * time.Second): // a hang guard, not a timing
					t.Fatal("the build waited for itself: deadlock")
				}
				if !strings.Contains(msg, tt.want) {
					t.Errorf("got panic %q, want it to hold %q", msg, tt.want)
				}
				msg = coreMustPanic(t, func() { coreGet(s, "/") })
				if want := "middleware: Stack: building the chain failed"; !strings.Contains(msg, want) || !strings.Contains(msg, tt.want) {
					t.Errorf("a later request: got panic %q, want it to hold %q and %q", msg, want, tt.want)
				}
			})
		}
	}
}

// TestStackRequestDuringBuild: a request from another goroutine while a
// constructor runs waits for the build and is served by the chain, it
// does not get the panic of a re-entrant call.
func TestStackRequestDuringBuild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inConstructor := make(chan struct{})
		release := make(chan struct{})
		s := middleware.New(func(next http.Handler) http.Handler {
			close(inConstructor)
			<-release // a slow warm-up
			return stackTag("a")(next)
		})
		s.Handle(stackEcho("h"))
		orders := make(chan string, 2)
		serve := func() { orders <- strings.Join(coreGet(s, "/").Header().Values("X-Order"), ",") }
		go serve() // builds
		<-inConstructor
		go serve() // comes during the build
		synctest.Wait()
		select {
		case got := <-orders:
			t.Fatalf("a request was answered (%q) before the chain was built", got)
		default:
		}
		close(release)
		for range 2 {
			if got := <-orders; got != "a,h" {
				t.Errorf("got order %q, want a,h", got)
			}
		}
	})
}

// TestStackConcurrentFirstRequests starts many first requests at once: the
// chain must be built exactly once, and every request served by it.
func TestStackConcurrentFirstRequests(t *testing.T) {
	const n = 64
	for range 20 {
		var built atomic.Int32
		s := middleware.New(func(next http.Handler) http.Handler {
			built.Add(1)
			return stackTag("a")(next)
		})
		s.Handle(stackEcho("h"))
		start := make(chan struct{})
		var wg sync.WaitGroup
		orders := make([]string, n)
		for i := range n {
			wg.Go(func() {
				<-start
				orders[i] = strings.Join(coreGet(s, "/").Header().Values("X-Order"), ",")
			})
		}
		close(start)
		wg.Wait()
		if got := built.Load(); got != 1 {
			t.Fatalf("the chain was built %d times, want 1", got)
		}
		for i, got := range orders {
			if got != "a,h" {
				t.Fatalf("request %d: got order %v, want a,h", i, got)
			}
		}
	}
}

// TestStackUseRacesFirstRequest runs Use against the first request: Use
// must either land before the freeze (and then apply to the request) or
// panic, never race with the build (go test -race watches).
func TestStackUseRacesFirstRequest(t *testing.T) {
	outcomes := map[bool]int{}
	for range 200 {
		s := middleware.New(stackTag("a"))
		s.Handle(stackEcho("h"))
		start := make(chan struct{})
		var wg sync.WaitGroup
		var order string
		var panicked bool
		wg.Go(func() {
			<-start
			order = strings.Join(coreGet(s, "/").Header().Values("X-Order"), ",")
		})
		wg.Go(func() {
			defer func() { panicked = recover() != nil }()
			<-start
			s.Use(stackTag("late"))
		})
		close(start)
		wg.Wait()
		want := "a,late,h"
		if panicked {
			want = "a,h"
		}
		if order != want {
			t.Fatalf("Use panicked: %v; got order %v, want %v", panicked, order, want)
		}
		outcomes[panicked]++
	}
	t.Logf("Use applied %d times, panicked %d times", outcomes[false], outcomes[true])
}

// stackBenchWriter is a ResponseWriter that keeps nothing.
type stackBenchWriter struct{ h http.Header }

func (w *stackBenchWriter) Header() http.Header         { return w.h }
func (w *stackBenchWriter) WriteHeader(int)             {}
func (w *stackBenchWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkStack compares a bare handler with the same handler behind five
// middleware, composed by Chain and by a Stack (directly, and mounted).
func BenchmarkStack(b *testing.B) {
	pass := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
	}
	mws := []middleware.Middleware{pass, pass, pass, pass, pass}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	stack := middleware.New(mws...)
	stack.Handle(bare)
	mounted := middleware.New(mws...)
	mounted.Handle(bare)
	mounted.Mount("/api", bare)
	mounted.Mount("/api/v1", bare)
	mounted.Mount("/assets", bare)

	tests := []struct {
		name   string
		h      http.Handler
		target string
	}{
		{"bare", bare, "/api/users"},
		{"chain", middleware.Chain(bare, mws...), "/api/users"},
		{"stack", stack, "/api/users"},
		{"stack-mount-miss", mounted, "/users"},
		{"stack-mount", mounted, "/api/users"},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			w := &stackBenchWriter{h: http.Header{}}
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			b.ReportAllocs()
			for b.Loop() {
				tt.h.ServeHTTP(w, r)
			}
		})
	}
}
