// Package counter translates the request counter of the concurrency
// hands-on (a ThreadingHTTPServer handler that reads request_total, works,
// and writes total+1, so concurrent requests lose counts) and its fixes.
package counter

import (
	"fmt"
	"log"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// requestTotal is the class variable SimpleHelloHandler.request_total.
var requestTotal int

func countAndDoSomething(path string) {
	t := requestTotal
	log.Printf("start processing path = %s, before request count = %d", path, t)
	time.Sleep(10 * time.Millisecond) // some work
	t = t + 1
	log.Printf("end processing path = %s, after request count = %d", path, t)
	requestTotal = t // want `^countAndDoSomething, called from handleHello, writes package-level variable requestTotal without a lock: every request goroutine shares it; guard it with a sync\.Mutex, use an atomic \(sync/atomic\.Int64\), or keep per-request state in locals$`
}

func handleHello(w http.ResponseWriter, r *http.Request) {
	countAndDoSomething(r.URL.Path)
	fmt.Fprintln(w, "Hello simple server!")
}

func Routes(mux *http.ServeMux) {
	mux.HandleFunc("/", handleHello)
}

// SimpleHelloHandler is the same handler with the count on the receiver.
type SimpleHelloHandler struct {
	requestTotal int
}

func (h *SimpleHelloHandler) countAndDoSomething(path string) {
	t := h.requestTotal
	time.Sleep(10 * time.Millisecond)
	h.requestTotal = t + 1 // want `^\(\*SimpleHelloHandler\)\.countAndDoSomething, called from \(\*SimpleHelloHandler\)\.ServeHTTP, writes field requestTotal of its receiver without a lock: one \*SimpleHelloHandler serves`
}

func (h *SimpleHelloHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.countAndDoSomething(r.URL.Path)
	fmt.Fprintln(w, "Hello simple server!")
}

// LockedHello is fix 1: the whole critical section (read, work, write)
// under one lock. Correct, and it serialises the work.
type LockedHello struct {
	mu           sync.Mutex // guards requestTotal
	requestTotal int
}

func (h *LockedHello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.requestTotal
	time.Sleep(10 * time.Millisecond)
	h.requestTotal = t + 1
	fmt.Fprintln(w, "Hello simple server!")
}

// ShortLock is fix 2: do the work outside and count inside a short
// critical section, in a helper named for the convention.
type ShortLock struct {
	mu           sync.Mutex // guards requestTotal
	requestTotal int
}

func (h *ShortLock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(10 * time.Millisecond)
	h.mu.Lock()
	h.countLocked()
	h.mu.Unlock()
	fmt.Fprintln(w, "Hello simple server!")
}

func (h *ShortLock) countLocked() { h.requestTotal++ }

// AtomicHello is fix 3: one atomic add, no lost update.
type AtomicHello struct {
	requestTotal atomic.Int64
}

func (h *AtomicHello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(10 * time.Millisecond)
	h.requestTotal.Add(1)
	fmt.Fprintln(w, "Hello simple server!")
}

// legacyTotal is fix 4, the sync/atomic functions on a plain integer.
var legacyTotal int64

func handleLegacy(w http.ResponseWriter, r *http.Request) {
	atomic.AddInt64(&legacyTotal, 1)
}

// SplitLock is NOT found, and still loses counts: the write is under the
// lock, but the value was read before it. The analyzer checks writes, not
// that a read and its write share one critical section.
type SplitLock struct {
	mu           sync.Mutex
	requestTotal int
}

func (h *SplitLock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := h.requestTotal
	time.Sleep(10 * time.Millisecond)
	h.mu.Lock()
	h.requestTotal = t + 1
	h.mu.Unlock()
}
