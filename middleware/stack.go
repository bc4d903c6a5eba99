package middleware

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Middleware is the one shape of middleware: it takes the next handler and
// returns a handler that works around it. It is an alias, so plain
// functions and middleware written for chi, alice or gorilla fit without a
// conversion.
type Middleware = func(http.Handler) http.Handler

// Chain returns h wrapped in mw, the first outermost: Chain(h, a, b)
// serves a(b(h)). It builds the chain at once and panics if h or a
// middleware is nil, or if a middleware returns a nil handler. The handler
// it returns is as safe for concurrent use as the middleware and h are.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	if h == nil {
		panic("middleware: Chain: handler is nil")
	}
	for i, m := range mw {
		if m == nil {
			panic(fmt.Sprintf("middleware: Chain: mw[%d] is nil", i))
		}
	}
	for i, m := range slices.Backward(mw) {
		if h = m(h); h == nil {
			panic(fmt.Sprintf("middleware: Chain: mw[%d] returned a nil handler", i))
		}
	}
	return h
}

// Stack is an http.Handler built from middleware, an endpoint and mounted
// handlers. Build it with New, Use, Handle and Mount before serving; the
// first request (or Freeze, which a Hatago server calls when it starts)
// freezes it: the chain is composed once, shared by every request
// goroutine, and from then on Use, Handle and Mount panic. The zero value
// is an empty stack that answers 404. A Stack's methods are safe for
// concurrent use; a Stack must not be copied.
//
// A request passes through the middleware in the order they were added,
// the first outermost, and then goes to the handler mounted at the
// longest prefix of its path, or to the endpoint.
type Stack struct {
	chain atomic.Pointer[stackChain] // set once, when the chain is built

	mu       sync.Mutex // guards the fields below
	mws      []stackEntry
	endpoint http.Handler
	mounts   []stackMount
	frozenBy string        // who froze the stack; "" until then
	builder  uint64        // the goroutine building the chain while it does; 0 otherwise or if unknown
	built    chan struct{} // made by the freeze, closed once the chain is built or its build panicked
	failure  any           // the panic of a failed build
}

type stackChain struct{ h http.Handler }

type stackEntry struct {
	mw Middleware
	at string // where it was added, for error messages
}

type stackMount struct {
	prefix string
	h      http.Handler
	at     string
}

var _ http.Handler = (*Stack)(nil)

// New returns a Stack that runs mw, the first outermost, around a 404
// endpoint until Handle sets another. It panics if a middleware is nil.
func New(mw ...Middleware) *Stack {
	s := &Stack{}
	s.use("New", stackCaller(2), mw)
	return s
}

// Use appends mw to the stack: they run inside the middleware added
// before them, in the order given. It panics if a middleware is nil, or if
// the stack is frozen (see Stack).
func (s *Stack) Use(mw ...Middleware) {
	s.use("Use", stackCaller(2), mw)
}

func (s *Stack) use(method, at string, mw []Middleware) {
	for i, m := range mw {
		if m == nil {
			panic(fmt.Sprintf("middleware: %s: mw[%d] is nil", method, i))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkNotFrozenLocked(method)
	for _, m := range mw {
		s.mws = append(s.mws, stackEntry{mw: m, at: at})
	}
}

// Handle sets the endpoint: the handler of the requests that no mount
// takes, inside every middleware. A second call replaces the first. It
// panics if h is nil, or if the stack is frozen.
func (s *Stack) Handle(h http.Handler) {
	if h == nil {
		panic("middleware: Handle: handler is nil")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkNotFrozenLocked("Handle")
	s.endpoint = h
}

// Mount serves the paths under prefix with h, often another *Stack, inside
// this stack's middleware. "/api" takes "/api" and "/api/...", not
// "/apix"; when mounts overlap, the longest prefix wins. The prefix is
// stripped as by http.StripPrefix, from a shallow copy of the request with
// its own URL: h sees "/users" for "/api/users", and "/" for "/api"
// itself; r.RequestURI still holds the path as the client sent it.
// Prefixes are matched against the decoded r.URL.Path, as net/http
// leaves it (it does not clean paths; http.ServeMux does); a RawPath that
// does not begin with the prefix is dropped, so h sees Path alone.
//
// A prefix begins with "/" and does not end with one: write "/api", not
// "/api/". Its segments are not empty, "." or "..", and it holds no "?" or
// "#". Mount panics on a prefix that breaks these rules, on "/" (that is
// the endpoint: use Handle), on a prefix mounted before, on a nil h, or if
// the stack is frozen. Freezing the stack freezes h too, if h has a
// Freeze method.
func (s *Stack) Mount(prefix string, h http.Handler) {
	if err := stackCheckPrefix(prefix); err != "" {
		panic(fmt.Sprintf("middleware: Mount: prefix %q %s", prefix, err))
	}
	if h == nil {
		panic(fmt.Sprintf("middleware: Mount: handler for %q is nil", prefix))
	}
	at := stackCaller(2)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkNotFrozenLocked("Mount")
	for _, m := range s.mounts {
		if m.prefix == prefix {
			panic(fmt.Sprintf("middleware: Mount: prefix %q is already mounted (at %s)", prefix, m.at))
		}
	}
	s.mounts = append(s.mounts, stackMount{prefix: prefix, h: h, at: at})
}

// stackCheckPrefix returns why prefix cannot be mounted, or "".
func stackCheckPrefix(prefix string) string {
	switch {
	case prefix == "/":
		return "would take every path: set the endpoint with Handle"
	case !strings.HasPrefix(prefix, "/"):
		return `must begin with "/"`
	case strings.HasSuffix(prefix, "/"):
		return fmt.Sprintf("ends in \"/\": write %q, which serves it and every path under it", strings.TrimRight(prefix, "/"))
	case strings.ContainsAny(prefix, "?#"):
		return `must not hold "?" or "#": it is matched against the decoded path`
	}
	for seg := range strings.SplitSeq(prefix[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Sprintf("has a segment %q: segments must not be empty, \".\" or \"..\"", seg)
		}
	}
	return ""
}

func (s *Stack) checkNotFrozenLocked(method string) {
	if s.frozenBy != "" {
		panic(fmt.Sprintf("middleware: %s after the stack was frozen (%s): the chain is built once and "+
			"shared by every request goroutine, so it cannot change while serving; "+
			"add middleware, the endpoint and mounts before the server starts", method, s.frozenBy))
	}
}

// Freeze builds the chain, if it is not built yet, and freezes the stack
// and the handlers mounted in it that have a Freeze method (other Stacks
// among them): from then on Use, Handle and Mount panic. It is idempotent.
// A Hatago server calls it when it starts; ServeHTTP calls it on the first
// request. It panics if a middleware returns a nil handler, or passes on
// a middleware's own panic.
//
// While the chain is being built, Freeze and ServeHTTP called from other
// goroutines wait for the build to end. Called from the goroutine that is
// building it, from a middleware constructor (a warm-up request, say),
// they would wait for themselves: they panic instead, and the build
// fails. A constructor must not wait for another goroutine that calls
// them either; that deadlock cannot be told apart from a concurrent first
// request, so it is not detected.
func (s *Stack) Freeze() {
	s.freeze("Freeze", "by Freeze, called from "+stackCaller(2))
}

// Frozen reports whether the stack is frozen.
func (s *Stack) Frozen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frozenBy != ""
}

// ServeHTTP serves the request through the chain, freezing the stack
// first if this is its first request (see Freeze for the requests that
// come while it is built). After the freeze it takes no lock and
// allocates nothing of its own, except the shallow copy of the request a
// mount makes.
func (s *Stack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.chain.Load()
	if c == nil {
		c = s.freeze("ServeHTTP", "by its first request, ServeHTTP called from "+stackCaller(2))
	}
	c.h.ServeHTTP(w, r)
}

// freeze builds the chain once and returns it; method is the exported
// method called, and by says who froze the stack, for the panic of a later
// Use. The middleware run outside the lock, so a constructor that calls
// Use gets the frozen panic rather than a deadlock; callers that come
// meanwhile wait for the build, unless they come from the goroutine
// building it.
func (s *Stack) freeze(method, by string) *stackChain {
	s.mu.Lock()
	if s.frozenBy != "" {
		if s.builder != 0 && s.builder == stackGoroutine() {
			frozenBy := s.frozenBy
			s.mu.Unlock()
			panic(fmt.Sprintf("middleware: Stack: %s called while the chain is being built, by the goroutine building it "+
				"(from a middleware constructor?): it would wait for itself; the stack was frozen %s", method, frozenBy))
		}
		built := s.built
		s.mu.Unlock()
		<-built
		if c := s.chain.Load(); c != nil {
			return c
		}
		s.mu.Lock()
		failure, frozenBy := s.failure, s.frozenBy
		s.mu.Unlock()
		panic(fmt.Sprintf("middleware: Stack: building the chain failed (frozen %s): %v", frozenBy, failure))
	}
	s.frozenBy = by
	s.builder = stackGoroutine()
	s.built = make(chan struct{})
	mws, endpoint, mounts := s.mws, s.endpoint, s.mounts
	s.mu.Unlock()

	c := s.build(mws, endpoint, mounts)
	// Mounted handlers are frozen after this stack's chain is published,
	// so that a stack mounted inside itself, however deep, finds itself
	// frozen and stops.
	for _, m := range mounts {
		switch h := m.h.(type) {
		case *Stack:
			h.freeze(method, fmt.Sprintf("with the stack it is mounted in at %q, frozen %s", m.prefix, by))
		case interface{ Freeze() }:
			h.Freeze()
		}
	}
	return c
}

// build composes the chain and publishes it; on a panic it records it for
// the callers waiting and passes it on.
func (s *Stack) build(mws []stackEntry, endpoint http.Handler, mounts []stackMount) *stackChain {
	ok := false
	defer func() {
		if !ok {
			failure := recover()
			s.mu.Lock()
			s.failure, s.builder = failure, 0
			s.mu.Unlock()
			close(s.built)
			panic(failure)
		}
	}()
	h := endpoint
	if h == nil {
		h = http.NotFoundHandler()
	}
	if len(mounts) > 0 {
		d := &stackDispatch{mounts: slices.Clone(mounts), endpoint: h}
		slices.SortStableFunc(d.mounts, func(a, b stackMount) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
		h = d
	}
	for _, e := range slices.Backward(mws) {
		if h = e.mw(h); h == nil {
			panic(fmt.Sprintf("middleware: Stack: the middleware added at %s returned a nil handler", e.at))
		}
	}
	c := &stackChain{h: h}
	s.chain.Store(c)
	s.mu.Lock()
	s.builder = 0
	s.mu.Unlock()
	ok = true
	close(s.built)
	return c
}

// stackDispatch sends a request to the mount with the longest prefix of
// its path, or to the endpoint.
type stackDispatch struct {
	mounts   []stackMount // longest prefix first
	endpoint http.Handler
}

func (d *stackDispatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	for i := range d.mounts {
		m := &d.mounts[i]
		if stackUnder(path, m.prefix) {
			m.h.ServeHTTP(w, stackStrip(r, m.prefix))
			return
		}
	}
	d.endpoint.ServeHTTP(w, r)
}

// stackUnder reports whether path is prefix or lies under it.
func stackUnder(path, prefix string) bool {
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

// stackStrip returns a shallow copy of r, with its own URL, whose path has
// prefix removed.
func stackStrip(r *http.Request, prefix string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := new(url.URL)
	*u = *r.URL
	u.Path = u.Path[len(prefix):]
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawPath != "" {
		if stackUnder(u.RawPath, prefix) {
			u.RawPath = u.RawPath[len(prefix):]
			if u.RawPath == "" {
				u.RawPath = "/"
			}
		} else {
			u.RawPath = "" // the prefix was written escaped: Path alone is right
		}
	}
	r2.URL = u
	return r2
}

// stackGoroutine returns the id of the calling goroutine, read from the
// header of its stack trace ("goroutine 18 [running]:"), or 0 if that
// fails. Go keeps goroutine ids out of its API, for good reasons; this one
// only tells freeze whether its caller is the goroutine building the
// chain, and costs a trace header, once per Stack and per request that
// comes while the chain is built.
func stackGoroutine() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// stackCaller names the function skip frames up and its file and line,
// e.g. "github.com/hatago/hatago.(*Server).Start (hatago/server.go:237)".
func stackCaller(skip int) string {
	var pcs [1]uintptr
	if runtime.Callers(skip+1, pcs[:]) == 0 {
		return "an unknown caller"
	}
	f, _ := runtime.CallersFrames(pcs[:]).Next()
	file := filepath.Join(filepath.Base(filepath.Dir(f.File)), filepath.Base(f.File))
	return fmt.Sprintf("%s (%s:%d)", f.Function, file, f.Line)
}
