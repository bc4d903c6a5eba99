// Package closures checks variables captured by handler closures.
package closures

import (
	"net/http"
	"sync"

	"github.com/hatago/hatago/middleware"
)

// Count is middleware whose counter is captured from the constructor,
// which runs once: every request shares n.
func Count(next http.Handler) http.Handler {
	n := 0
	var last string
	defer func() { _ = last }()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++               // want `^handler closure writes n, captured from Count, which every request shares: guard it with a sync\.Mutex, use an atomic \(sync/atomic\.Int64\), or declare it inside the handler so each request gets its own$`
		last = r.URL.Path // want `^handler closure writes last, captured from Count, which every request shares: guard it with a sync\.Mutex or declare it inside the handler so each request gets its own$`
		next.ServeHTTP(w, r)
	})
}

// Guarded captures a mutex with its counter.
func Guarded(next http.Handler) http.Handler {
	var mu sync.Mutex
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

type server struct {
	hits  int
	paths map[string]int
	mux   *http.ServeMux
}

// routes registers closures that capture s: s is shared by every request.
func (s *server) routes() {
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.hits++              // want `^handler closure writes field hits of s, captured from \(\*server\)\.routes, which every request shares`
		s.paths[r.URL.Path]++ // want `handler closure writes an entry of field paths of s, captured from \(\*server\)\.routes, which`
	})
}

// NewMux builds handlers capturing a loop variable.
func NewMux(paths []string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range paths {
		count := 0
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			count++ // want `handler closure writes count, captured from NewMux`
		})
	}
	return mux
}

// Local declares its state inside the handler: per request.
func Local(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		n++
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++ // a closure built inside the handler captures its locals
		})
		inner.ServeHTTP(w, r)
		go func() {
			n++
		}()
		next.ServeHTTP(w, r)
	})
}

// Spawn starts a goroutine from the handler: it still writes shared state.
func Spawn(next http.Handler) http.Handler {
	var pending int
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		go func() {
			pending-- // want `handler closure writes pending, captured from Spawn`
		}()
		next.ServeHTTP(w, r)
	})
}

// PerRequest constructors run for every request: what they declare is
// per request.
func Fresh() http.Handler {
	return middleware.PerRequest(func() http.Handler {
		n := 0
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++
		})
	})
}

// wrap is called from a handler, so it runs per request, and so do the
// closures it builds.
func wrap(w http.ResponseWriter, r *http.Request, status int) {
	written := false
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		written = true
		w.WriteHeader(status)
	})
	h.ServeHTTP(w, r)
	_ = written
}

func Serve(w http.ResponseWriter, r *http.Request) { wrap(w, r, 200) }

// Package-level variables written from a closure.
var total int

var Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	total++ // want `^handler closure writes package-level variable total without a lock`
})

// Context is another framework's per-request context.
type Context interface {
	Request() *http.Request
	Response() http.ResponseWriter
}

// Wrap adapts net/http middleware to that framework. The closure it builds
// captures err from a function that serves a request (it passes the
// request and response writer on to ServeHTTP), so err is per request.
func Wrap(m func(http.Handler) http.Handler, next func(Context) error) func(Context) error {
	return func(c Context) (err error) {
		m(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err = next(c)
		})).ServeHTTP(c.Response(), c.Request())
		return err
	}
}
