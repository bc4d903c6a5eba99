// Package fresh checks handler values built for one request and served at
// once: their type serves one request each when every use of it in the
// package is such a fresh value.
package fresh

import (
	"fmt"
	"net/http"
)

type page struct {
	title string
	views int
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.views++
	p.render(w)
}

func (p *page) render(w http.ResponseWriter) { fmt.Fprint(w, p.title, p.views) }

func Index(w http.ResponseWriter, r *http.Request) {
	p := &page{title: "index"}
	p.title += "!"
	p.ServeHTTP(w, r)
	(&page{title: "about"}).ServeHTTP(w, r)
}

// reused is built per request in one place and registered, shared, in
// another.
type reused struct{ views int }

func (x *reused) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.views++ // want `\(\*reused\)\.ServeHTTP writes field views of its receiver without a lock`
}

func Other(w http.ResponseWriter, r *http.Request) { (&reused{}).ServeHTTP(w, r) }

func Routes(mux *http.ServeMux) { mux.Handle("/r", &reused{}) }

// kept is built per request, and kept.
type kept struct{ views int }

func (k *kept) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.views++ // want `\(\*kept\)\.ServeHTTP writes field views of its receiver without a lock`
}

type Last struct{ last *kept }

func (l *Last) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k := &kept{}
	k.ServeHTTP(w, r)
	l.last = k // want `\(\*Last\)\.ServeHTTP writes field last of its receiver without a lock`
}

// Page is exported: other packages may build one and share it.
type Page struct{ views int }

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.views++ // want `\(\*Page\)\.ServeHTTP writes field views of its receiver without a lock`
}

func Serve(w http.ResponseWriter, r *http.Request) { (&Page{}).ServeHTTP(w, r) }

// once is built fresh, but in setup code: one value for every request.
type once struct{ views int }

func (o *once) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.views++ // want `\(\*once\)\.ServeHTTP writes field views of its receiver without a lock`
}

func Setup() {
	o := &once{}
	o.views = 1
}

// A function may be named ServeHTTP too.
func ServeHTTP(w http.ResponseWriter, r *http.Request) { (&page{}).ServeHTTP(w, r) }
