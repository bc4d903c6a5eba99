// Package rack translates a Rack middleware that counts with @val += 1, and
// the four fixes the Rack note lists: dup per request, a thread-safe
// (atomic) counter, a lock, and a frozen middleware that only reads.
package rack

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hatago/hatago/middleware"
)

// Counter is the racy original: Rack builds one middleware instance and
// serves every request with it, as a Go server does with one handler.
//
//	def call(env)
//	  @val += 1
//	  @app.call(env)
//	end
type Counter struct {
	next http.Handler
	val  int
}

func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.val += 1 // want `^\(\*Counter\)\.ServeHTTP writes field val of its receiver without a lock: one \*Counter serves every request goroutine at once; guard it with a sync\.Mutex, use an atomic \(sync/atomic\.Int64\), or keep per-request state in locals or middleware\.PerRequest$`
	c.next.ServeHTTP(w, r)
}

// dupCounter is fix 1, Rack's dup: every request gets a fresh value, so its
// fields are per-request.
type dupCounter struct {
	next http.Handler
	val  int
}

func (c *dupCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.val += 1
	w.Header().Set("X-Val", strconv.Itoa(c.val))
	c.next.ServeHTTP(w, r)
}

func Dup(next http.Handler) http.Handler {
	return middleware.PerRequest(func() *dupCounter { return &dupCounter{next: next} })
}

// dupCall is Rack's idiom written out: call copies the instance and runs
// _call on the copy.
//
//	def call(env) dup._call(env) end
type dupCall struct {
	next http.Handler
	val  int
}

func (m *dupCall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := *m
	d.call(w, r)
}

func (m *dupCall) call(w http.ResponseWriter, r *http.Request) {
	m.val += 1
	m.next.ServeHTTP(w, r)
}

// atomicCounter is fix 2, a thread-safe counter (concurrent-ruby's role).
type atomicCounter struct {
	next http.Handler
	val  atomic.Int64
}

func (c *atomicCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.val.Add(1)
	c.next.ServeHTTP(w, r)
}

// lockedCounter is fix 3, a lock around the mutation.
type lockedCounter struct {
	next http.Handler
	mu   sync.Mutex
	val  int
}

func (c *lockedCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.val += 1
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

// frozen is fix 4, freeze_app: set up once, only read while serving.
type frozen struct {
	next http.Handler
	val  int
}

func (f *frozen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Val", strconv.Itoa(f.val+1))
	f.next.ServeHTTP(w, r)
}

// Anonymous is the Class.new middleware as a closure: val is captured from
// the constructor, which runs once.
func Anonymous(next http.Handler) http.Handler {
	val := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		val += 1 // want `^handler closure writes val, captured from Anonymous, which every request shares: guard it with a sync\.Mutex, use an atomic \(sync/atomic\.Int64\), or declare it inside the handler so each request gets its own$`
		next.ServeHTTP(w, r)
	})
}
