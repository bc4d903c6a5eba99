// Package helpers checks lock helpers: functions of the package whose net
// effect is to lock or unlock a mutex of their receiver, a parameter or a
// package-level variable, and functions that call a func parameter under a
// lock.
package helpers

import (
	"net/http"
	"sync"
)

type H struct {
	mu      sync.Mutex
	rw      sync.RWMutex
	n       int
	m       map[string]int
	pending []func()
}

func (h *H) lock()    { h.mu.Lock() }
func (h *H) unlock()  { h.mu.Unlock() }
func (h *H) rlock()   { h.rw.RLock() }
func (h *H) runlock() { h.rw.RUnlock() }

// lockBoth calls a helper: summaries compose.
func (h *H) lockBoth() {
	h.lock()
	h.rw.Lock()
}

func (h *H) unlockBoth() {
	h.rw.Unlock()
	h.unlock()
}

func (h *H) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.lock()
	defer h.unlock()
	h.n++
}

func (h *H) explicit(w http.ResponseWriter, r *http.Request) {
	h.lock()
	h.n++
	h.unlock()
	h.n++ // want `^\(\*H\)\.explicit writes field n of its receiver without a lock`
}

// A helper's lock is the receiver's mutex: a direct unlock releases it.
func (h *H) mixed(w http.ResponseWriter, r *http.Request) {
	h.lock()
	h.n++
	h.mu.Unlock()
	h.n++ // want `writes field n of its receiver without a lock`
}

func (h *H) both(w http.ResponseWriter, r *http.Request) {
	h.lockBoth()
	h.n++
	h.unlockBoth()
	h.n-- // want `writes field n of its receiver without a lock`
}

func (h *H) read(w http.ResponseWriter, r *http.Request) {
	h.rlock()
	h.m["x"] = 1 // want `writes an entry of field m of its receiver, written under RLock`
	h.runlock()
}

// lockFn locks and returns the unlock: defer h.lockFn()().
func (h *H) lockFn() func() {
	h.mu.Lock()
	return h.mu.Unlock
}

func (h *H) deferred(w http.ResponseWriter, r *http.Request) {
	defer h.lockFn()()
	h.n++
}

// maybeLock locks on one path only: no lock.
func (h *H) maybeLock(r *http.Request) {
	if r.Method == "POST" {
		h.mu.Lock()
	}
}

func (h *H) maybe(w http.ResponseWriter, r *http.Request) {
	h.maybeLock(r)
	h.n++ // want `writes field n of its receiver without a lock`
}

// lockIt locks the mutex it is given.
func lockIt(m *sync.Mutex) { m.Lock() }

func (h *H) param(w http.ResponseWriter, r *http.Request) {
	lockIt(&h.mu)
	h.n++
	h.mu.Unlock()
	h.n++ // want `writes field n of its receiver without a lock`
}

// withLock runs f under the lock.
func (h *H) withLock(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f()
}

// run calls f at once, holding nothing.
func (h *H) run(f func()) { f() }

// later keeps f: it runs at another time.
func (h *H) later(f func()) {
	h.pending = append(h.pending, f) // want `\(\*H\)\.later, called from \(\*H\)\.callbacks, writes field pending of its receiver without a lock`
}

func (h *H) callbacks(w http.ResponseWriter, r *http.Request) {
	h.withLock(func() { h.n++ })
	h.run(func() {
		h.n++ // want `writes field n of its receiver without a lock`
	})
	h.later(func() {
		h.n++ // want `writes field n of its receiver without a lock`
	})
	h.lock()
	h.run(func() { h.n++ })
	h.unlock()
}

// Package-level helpers.
var (
	mu    sync.Mutex
	total int
)

func lock()   { mu.Lock() }
func unlock() { mu.Unlock() }

func handle(w http.ResponseWriter, r *http.Request) {
	lock()
	total++
	unlock()
	total++ // want `^handle writes package-level variable total without a lock`
}
