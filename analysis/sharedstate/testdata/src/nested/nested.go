// Package nested checks func literals inside handlers: goroutines,
// deferred calls and callbacks run outside the handler's locks.
package nested

import (
	"net/http"
	"sort"
	"sync"
	"time"
)

type N struct {
	mu    sync.Mutex
	n     int
	items []int
	seen  sync.Map
	cb    func()
}

func (x *N) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	defer x.mu.Unlock()

	go func() {
		x.n++ // want `writes field n of its receiver without a lock`
	}()

	go func() {
		x.mu.Lock()
		x.n++
		x.mu.Unlock()
	}()

	// Runs before the deferred unlock (deferred calls run last in, first out).
	defer func() { x.n++ }()

	// Called at once: runs under the lock.
	func() { x.n++ }()

	// A callback that sort.Slice calls before it returns: under the lock.
	sort.Slice(x.items, func(i, j int) bool {
		x.n++
		return x.items[i] < x.items[j]
	})
	x.seen.Range(func(k, v any) bool {
		x.n++
		return true
	})

	// A closure bound to a local and only called: it runs where it is
	// called, here under the lock.
	update := func() { x.n++ }
	update()

	// A callback the analyzer cannot see run: it may run at any time.
	time.AfterFunc(time.Second, func() {
		x.n++ // want `writes field n of its receiver without a lock`
	})

	// A closure that is stored runs at another time.
	stored := func() {
		x.n++ // want `writes field n of its receiver without a lock`
	}
	x.cb = stored
}

// bump is called after the unlock, too.
func (x *N) after(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	bump := func() {
		x.n++ // want `\(\*N\)\.after writes field n of its receiver without a lock`
	}
	bump()
	x.mu.Unlock()
	bump()
}

func (x *N) late(w http.ResponseWriter, r *http.Request) {
	// Deferred before the lock is taken: runs after the unlock.
	defer func() { x.n++ }() // want `writes field n of its receiver without a lock`
	x.mu.Lock()
	defer x.mu.Unlock()
	x.n++
}

var _ = (&N{}).late
