// Package reach checks how the analyzer follows calls from handlers.
package reach

import (
	"net/http"
	"sync"
)

type Stats struct {
	n     int
	paths map[string]int
}

func (s *Stats) record(path string) {
	s.n++           // want `^\(\*Stats\)\.record, called from \(\*Server\)\.ServeHTTP, writes field n of its receiver without a lock: one \*Stats serves every request goroutine at once`
	s.paths[path]++ // want `\(\*Stats\)\.record, called from \(\*Server\)\.ServeHTTP, writes an entry of field paths of its receiver without a lock`
}

// reset is only called with the lock held.
func (s *Stats) reset() {
	s.n = 0
	clear(s.paths)
}

// flushLocked needs the lock by the house convention; its callers are
// trusted.
func (s *Stats) flushLocked() { s.n = 0 }

type Server struct {
	mu    sync.Mutex
	stats *Stats
	depth int
	own   Stats
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.record(r.URL.Path)

	s.mu.Lock()
	s.stats.reset()
	s.stats.flushLocked()
	s.mu.Unlock()

	s.recurse(3)
	s.twice()

	var local Stats
	local.record(r.URL.Path) // a local value: its own memory

	s.own.helper()

	incr(&s.depth)
	go s.background()
}

// recurse and its partner call each other: the walk is cycle-safe.
func (s *Server) recurse(n int) {
	if n == 0 {
		return
	}
	s.depth = n // want `^\(\*Server\)\.recurse, called from \(\*Server\)\.ServeHTTP, writes field depth of its receiver without a lock`
	s.partner(n - 1)
}

func (s *Server) partner(n int) { s.recurse(n) }

// twice calls lockedWrite under the lock at one site and without it at the
// other: not every call site holds a lock.
func (s *Server) twice() {
	s.mu.Lock()
	s.lockedWrite()
	s.mu.Unlock()
	s.lockedWrite()
}

func (s *Server) lockedWrite() {
	s.depth = 0 // want `\(\*Server\)\.lockedWrite, called from \(\*Server\)\.twice, called from \(\*Server\)\.ServeHTTP, writes field depth`
}

// helper has a value receiver: its own fields are a copy, but the map it
// holds is the shared one.
func (s Stats) helper() {
	s.n = 1
	s.paths["x"] = 1 // want `^\(Stats\)\.helper, called from \(\*Server\)\.ServeHTTP, writes an entry of field paths of its receiver without a lock: copies of Stats share it with every request goroutine`
}

// incr gets a pointer to shared memory as a parameter.
func incr(p *int) {
	*p++ // want `^incr, called from \(\*Server\)\.ServeHTTP, writes the pointee of parameter p without a lock: the caller passes it state that every request goroutine shares; guard it with a sync\.Mutex, use an atomic \(sync/atomic\.Int64\), or keep`
}

// background runs in its own goroutine: the caller's locks do not cover it.
func (s *Server) background() {
	s.depth = 0 // want `\(\*Server\)\.background, called from \(\*Server\)\.ServeHTTP, writes field depth`
}

// Package-level variables written by any function a handler reaches.
var (
	lastPath string
	seen     = map[string]bool{}
	mu       sync.Mutex
)

func handle(w http.ResponseWriter, r *http.Request) {
	remember(r.URL.Path)
	mu.Lock()
	rememberGuarded(r.URL.Path)
	mu.Unlock()
}

func remember(p string) {
	lastPath = p // want `^remember, called from handle, writes package-level variable lastPath without a lock: every request goroutine shares it; guard it with a sync\.Mutex or keep per-request state in locals$`
	note(p)
}

func note(p string) {
	seen[p] = true // want `^note, called from remember, called from handle, writes an entry of package-level variable seen without a lock`
}

func rememberGuarded(p string) {
	seen[p] = true
}

// setup is never called from a handler: it runs before serving starts.
func setup() {
	lastPath = "/"
	seen = map[string]bool{}
}

var _ = setup

// Another package's variables are as shared as this one's.
func handleClient(w http.ResponseWriter, r *http.Request) {
	http.DefaultClient.Timeout = 0 // want `^handleClient writes field Timeout of package-level variable http\.DefaultClient without a lock`
}
