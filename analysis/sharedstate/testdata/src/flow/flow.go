// Package flow checks how lock state flows out of branches and loops: what
// follows a branch holds only what every path that reaches it holds.
package flow

import (
	"log"
	"net/http"
	"sync"
)

type D struct {
	mu sync.Mutex
	n  int
	v  string
}

// An unlock in a branch that falls through: the write after it is not
// guarded on that path.
func (d *D) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	if r.Method == "POST" {
		d.mu.Unlock()
	}
	d.n++ // want `^\(\*D\)\.ServeHTTP writes field n of its receiver without a lock`
}

// Every case unlocks and falls out of the switch.
func (d *D) switched(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	switch r.Method {
	case "GET":
		d.mu.Unlock()
	default:
		d.mu.Unlock()
	}
	d.v = r.Method // want `writes field v of its receiver without a lock`
}

// The case that unlocks returns; the others keep the lock, and a switch
// without default may match none.
func (d *D) oneCase(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	switch r.Method {
	case "GET":
		d.mu.Unlock()
		return
	case "PUT":
		d.n--
	}
	d.v = r.Method
	d.mu.Unlock()
}

// The early return of locks.early, with an else chain: the branch that
// unlocks and falls through leaks, the one that panics does not.
func (d *D) elseChain(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	if r.Method == "GET" {
		d.mu.Unlock()
	} else if r.Method == "HEAD" {
		d.mu.Unlock()
		panic("HEAD")
	} else {
		d.n--
	}
	d.n++ // want `writes field n of its receiver without a lock`
}

// A branch that ends in log.Fatal never reaches what follows.
func (d *D) fatal(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	if r.Method == "GET" {
		d.mu.Unlock()
		log.Fatal("GET")
	}
	d.n++
	d.mu.Unlock()
}

// Both branches lock: held after the if.
func (d *D) bothLock(w http.ResponseWriter, r *http.Request) {
	if r.Method == "GET" {
		d.mu.Lock()
	} else {
		d.mu.Lock()
	}
	d.n++
	d.mu.Unlock()
}

// A plain block is no scope for locks.
func (d *D) block(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	{
		d.mu.Unlock()
	}
	d.n++ // want `writes field n of its receiver without a lock`
}

// A select clause that unlocks and falls through.
func (d *D) selected(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	select {
	case <-r.Context().Done():
		d.mu.Unlock()
	default:
	}
	d.n++ // want `writes field n of its receiver without a lock`
}

// Locked and unlocked in every iteration: guarded inside, not after.
func (d *D) each(w http.ResponseWriter, r *http.Request) {
	for range 3 {
		d.mu.Lock()
		d.n++
		d.mu.Unlock()
	}
	d.n++ // want `writes field n of its receiver without a lock`
}

// A loop left by a break that unlocked.
func (d *D) broke(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	for _, c := range r.URL.Path {
		if c == '/' {
			d.mu.Unlock()
			break
		}
	}
	d.v = r.URL.Path // want `writes field v of its receiver without a lock`
}

// A labeled break out of two loops.
func (d *D) labeled(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
outer:
	for _, a := range r.Header["A"] {
		for _, b := range r.Header["B"] {
			if a == b {
				d.mu.Unlock()
				break outer
			}
		}
	}
	d.v = "" // want `writes field v of its receiver without a lock`
}

// An iteration that ends unlocked: the next one starts without the lock.
func (d *D) nextIteration(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	for i := range 3 {
		d.n += i // want `writes field n of its receiver without a lock`
		d.mu.Unlock()
	}
}

// for without a condition is left only by its break, which holds the lock.
func (d *D) retry(w http.ResponseWriter, r *http.Request) {
	for {
		d.mu.Lock()
		if d.n > 0 {
			break
		}
		d.mu.Unlock()
	}
	d.n--
	d.mu.Unlock()
}

// continue skips the rest of an iteration; what it holds starts the next.
func (d *D) skip(w http.ResponseWriter, r *http.Request) {
	for _, h := range r.Header["X"] {
		d.mu.Lock()
		if h == "" {
			d.mu.Unlock()
			continue
		}
		d.v = h
		d.mu.Unlock()
	}
}

// A continue that unlocked: the next iteration starts without the lock.
func (d *D) skipUnlocked(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	for _, h := range r.Header["X"] {
		if h == "" {
			d.mu.Unlock()
			continue
		}
		d.v = h // want `writes field v of its receiver without a lock`
	}
}
