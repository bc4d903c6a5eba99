// Package escape checks handler closures built by functions that run for
// a request (a handler, a function a handler calls, one that takes the
// request): a variable such a closure captures is shared when the closure
// escapes the function that declares the variable.
package escape

import (
	"context"
	"net/http"
	"sync"
)

// App builds its routes once, from ServeHTTP: the handlers routes builds
// serve every request.
type App struct {
	once sync.Once
	h    http.Handler
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.once.Do(func() { a.h = a.routes() })
	a.h.ServeHTTP(w, r)
}

func (a *App) routes() http.Handler {
	hits := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hits++ // want `^handler closure writes hits, captured from \(\*App\)\.routes, which every request shares: guard it with a sync\.Mutex, use an atomic \(sync/atomic\.Int64\), or declare it inside the handler so each request gets its own$`
	})
	return mux
}

// Wrap takes the request and the next handler, and returns a handler that
// its caller, elsewhere, may keep.
func Wrap(r *http.Request, next http.Handler) http.Handler {
	calls := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++ // want `handler closure writes calls, captured from Wrap`
		next.ServeHTTP(w, r)
	})
}

// Store keeps the first handler it builds in a field.
type Store struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := 0
	s.mu.Lock()
	if s.h == nil {
		s.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++ // want `handler closure writes n, captured from \(\*Store\)\.ServeHTTP`
		})
	}
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// Register adds a route to http.DefaultServeMux from a request.
func Register(w http.ResponseWriter, r *http.Request) {
	n := 0
	http.HandleFunc(r.URL.Path, func(w http.ResponseWriter, r *http.Request) {
		n++ // want `handler closure writes n, captured from Register`
	})
}

// Chain builds its wrapper for every request and serves it at once: what
// the wrapper captures belongs to that request.
type Chain struct{ next http.Handler }

func (c *Chain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.wrap(r, c.next).ServeHTTP(w, r)
	h := c.wrap(r, c.next)
	h.ServeHTTP(w, r)
}

func (c *Chain) wrap(r *http.Request, next http.Handler) http.Handler {
	seen := false
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = true
		next.ServeHTTP(w, r)
		_ = seen
	})
}

// inContext keeps a handler in the request's context: the request, and so
// the handler, belong to one request.
type ctxKey struct{}

func (c *Chain) inContext(w http.ResponseWriter, r *http.Request) {
	calls := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
	})
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, h))
	c.next.ServeHTTP(w, r)
}

// Serve builds a mux for one request and serves it.
func Serve(w http.ResponseWriter, r *http.Request) {
	count := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		count++
	})
	mux.ServeHTTP(w, r)
}

// Middleware chains are built and called within the request.
func Chained(w http.ResponseWriter, r *http.Request) {
	status := 0
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			status = 200
			next.ServeHTTP(w, r)
		})
	}
	mw(http.NotFoundHandler()).ServeHTTP(w, r)
	_ = status
}
