// Package perrequest checks types built by middleware.PerRequest: one
// value serves one request.
package perrequest

import (
	"net/http"
	"sync"

	"github.com/hatago/hatago/middleware"
)

type a struct{ n int }

func (x *a) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.n++; x.bump() }
func (x *a) bump()                                            { x.n++ }

type b struct{ n int }

func (x *b) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.n++ }

func newB() *b { return &b{} }

type c struct{ n int }

func (x *c) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.n++ }

type shared struct{ n int }

func (x *shared) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.n++ // want `\(\*shared\)\.ServeHTTP writes field n of its receiver`
}

var requests int

type d struct{ n int }

func (x *d) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.n++
	requests++ // want `\(\*d\)\.ServeHTTP writes package-level variable requests`
}

func Handlers() []http.Handler {
	return []http.Handler{
		middleware.PerRequest(func() *a { return &a{} }),                         // the type argument
		middleware.PerRequest(newB),                                              // a named constructor
		middleware.PerRequest[http.Handler](func() http.Handler { return &c{} }), // what the literal returns
		middleware.PerRequest(func() *d { return new(d) }),
		&shared{},
	}
}

// pooled values are handed to one goroutine at a time by a sync.Pool.
type pooled struct{ n int }

func (x *pooled) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.n++ }

type fromPool struct{ n int }

func (x *fromPool) ServeHTTP(w http.ResponseWriter, r *http.Request) { x.n++ }

var pool sync.Pool

func Pooled(w http.ResponseWriter, r *http.Request) {
	p := &pooled{}
	p.ServeHTTP(w, r)
	pool.Put(p)
	pool.Get().(*fromPool).ServeHTTP(w, r)
}
