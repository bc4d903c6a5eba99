// Package nested checks func literals inside handlers: goroutines,
// deferred calls and callbacks run outside the handler's locks.
package nested

import (
	"net/http"
	"sort"
	"sync"
)

type N struct {
	mu    sync.Mutex
	n     int
	items []int
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

	// A callback: the analyzer cannot tell when it runs.
	sort.Slice(x.items, func(i, j int) bool {
		x.n++ // want `writes field n of its receiver without a lock`
		return x.items[i] < x.items[j]
	})
}

func (x *N) late(w http.ResponseWriter, r *http.Request) {
	// Deferred before the lock is taken: runs after the unlock.
	defer func() { x.n++ }() // want `writes field n of its receiver without a lock`
	x.mu.Lock()
	defer x.mu.Unlock()
	x.n++
}

var _ = (&N{}).late
