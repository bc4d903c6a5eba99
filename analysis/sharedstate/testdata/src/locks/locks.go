// Package locks checks how the analyzer follows lock state through a body.
package locks

import (
	"errors"
	"net/http"
	"sync"
)

type C struct {
	mu   sync.Mutex
	rw   sync.RWMutex
	n    int
	m    map[string]int
	list []string
}

func (c *C) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n++ // want `writes field n of its receiver without a lock`

	c.mu.Lock()
	c.n++
	c.m[r.URL.Path]++
	delete(c.m, "x")
	c.list = append(c.list, r.URL.Path)
	c.mu.Unlock()

	c.n = 0 // want `writes field n of its receiver without a lock`
}

// Deferred unlocks keep the lock to the end.
func (c *C) deferred(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Method == "POST" {
		c.n++
	}
	for range 3 {
		c.list = c.list[:0]
	}
}

// An early unlock in a nested block does not leak out of it.
func (c *C) early(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if r.URL.Path == "" {
		c.mu.Unlock()
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	c.n++
	c.mu.Unlock()
}

// A lock taken in a nested block does not leak out of it either.
func (c *C) scoped(w http.ResponseWriter, r *http.Request) {
	if r.Method == "POST" {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	if r.Method == "PUT" {
		c.mu.Lock()
	}
	c.n++ // want `writes field n of its receiver without a lock`
}

// A read lock does not exclude other readers.
func (c *C) read(w http.ResponseWriter, r *http.Request) {
	c.rw.RLock()
	_ = c.m["x"]
	c.m["x"] = 1 // want `^\(\*C\)\.read writes an entry of field m of its receiver, written under RLock: a read lock lets other readers run at once; use Lock$`
	c.rw.RUnlock()

	c.rw.Lock()
	c.m["x"] = 1
	c.rw.Unlock()
}

// TryLock holds the lock where it succeeded.
func (c *C) try(w http.ResponseWriter, r *http.Request) {
	if c.mu.TryLock() {
		c.n++
		c.mu.Unlock()
	} else {
		c.n-- // want `writes field n of its receiver without a lock`
	}
	if !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	c.n++
}

// Embedded is locked through its embedded mutex, and a sync.Locker counts.
type Embedded struct {
	sync.Mutex
	l    sync.Locker
	hits map[string]int
}

func (e *Embedded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.Lock()
	e.hits[r.URL.Path]++
	e.Unlock()

	e.l.Lock()
	defer e.l.Unlock()
	e.hits[r.URL.Path]++
}

// Errors only read: reads are never reported.
var errBusy = errors.New("busy")

func (c *C) reads(w http.ResponseWriter, r *http.Request) {
	if c.n > 10 || len(c.m) > 10 || c.list == nil {
		http.Error(w, errBusy.Error(), http.StatusServiceUnavailable)
	}
}

// A local copy is the handler's own.
func (c *C) local(w http.ResponseWriter, r *http.Request) {
	var counts = map[string]int{}
	counts[r.URL.Path]++
	n := c.n
	n++
	_ = n
}

func (c *C) Routes(mux *http.ServeMux) {
	mux.HandleFunc("/d", c.deferred)
	mux.HandleFunc("/e", c.early)
	mux.HandleFunc("/s", c.scoped)
	mux.HandleFunc("/r", c.read)
	mux.HandleFunc("/t", c.try)
	mux.HandleFunc("/x", c.reads)
	mux.HandleFunc("/l", c.local)
}

// The guarded alternatives are method calls and sends, never writes; a
// method declared in this package is followed, though.
type Alternatives struct {
	hits   sync.Map
	events chan string
	n      plainCounter
}

type plainCounter struct{ v int64 }

func (a *Alternatives) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.hits.Store(r.URL.Path, 1)
	a.events <- r.URL.Path
	a.n.add(1)
}

// add is called on a shared receiver: its write is checked.
func (c *plainCounter) add(d int64) {
	c.v += d // want `\(\*plainCounter\)\.add, called from \(\*Alternatives\)\.ServeHTTP, writes field v of its receiver without a lock`
}

// A callee reached only under RLock writes under RLock.
type Cache struct {
	mu sync.RWMutex
	m  map[string]string
}

func (c *Cache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	c.fill(r.URL.Path)
}

func (c *Cache) fill(k string) {
	c.m[k] = k // want `^\(\*Cache\)\.fill, called from \(\*Cache\)\.ServeHTTP, writes an entry of field m of its receiver, written under RLock: a read lock lets other readers run at once; use Lock$`
}
