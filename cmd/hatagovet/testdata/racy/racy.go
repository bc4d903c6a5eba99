// Package racy is a module for the hatagovet command's tests: one racy
// handler, one guarded.
package racy

import (
	"net/http"
	"sync"
)

type Counter struct {
	n int
}

func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n++
}

type Guarded struct {
	mu sync.Mutex
	n  int
}

func (g *Guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
}
