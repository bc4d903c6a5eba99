// Package valuerecv checks handlers with value receivers: the receiver is a
// copy, but the maps, slices and pointees it holds are shared.
package valuerecv

import "net/http"

type Inner struct{ n int }

type V struct {
	n     int
	arr   [4]int
	m     map[string]int
	s     []int
	p     *Inner
	inner Inner
}

func (v V) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.n++        // a copy
	v.arr[0] = 1 // an array in the copy
	v.inner.n = 1
	v.s = append(v.s, 1) // the copy's slice header

	v.m["x"] = 1        // want `^\(V\)\.ServeHTTP writes an entry of field m of its receiver without a lock: copies of V share it with every request goroutine; guard it with a sync\.Mutex or keep per-request state in locals or middleware\.PerRequest$`
	v.s[0] = 1          // want `writes an element of field s of its receiver without a lock`
	v.p.n++             // want `writes field p.n of its receiver without a lock: copies of V share it`
	*v.p = Inner{}      // want `writes the pointee of field p of its receiver without a lock`
	delete(v.m, "x")    // want `writes an entry of field m of its receiver`
	copy(v.s, []int{1}) // want `writes an element of field s of its receiver`
}

// Hits is a map type serving requests.
type Hits map[string]int

func (h Hits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h[r.URL.Path]++ // want `^\(Hits\)\.ServeHTTP writes an entry of its receiver without a lock`
}

// P has a pointer receiver: the receiver variable itself is the handler's
// own, the struct it points to is not.
type P struct{ n int }

func (p *P) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.n++ // want `writes field n of its receiver`
	p = &P{}
	// The analyzer does not follow reassignment: still reported.
	p.n++ // want `writes field n of its receiver`
	_ = p
}
