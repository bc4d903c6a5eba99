// Package chansem checks channels used as locks: a channel of capacity one
// (a semaphore of one) excludes every other holder; a channel of more
// slots, or of a capacity the package does not set, does not.
package chansem

import "net/http"

type S struct {
	sem    chan struct{} // make(chan struct{}, 1): a lock
	tokens chan struct{} // make(chan struct{}, 1), filled with one token
	slots  chan struct{} // make(chan struct{}, 10): ten holders at once
	given  chan struct{} // set from a parameter: capacity unknown
	n      int
}

func NewS(given chan struct{}) *S {
	s := &S{sem: make(chan struct{}, 1), tokens: make(chan struct{}, 1), slots: make(chan struct{}, 10)}
	s.given = given
	s.tokens <- struct{}{}
	return s
}

func (s *S) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.sem <- struct{}{}
	s.n++
	<-s.sem

	s.n++ // want `writes field n of its receiver without a lock`

	<-s.tokens // a channel filled with a token
	s.n++
	s.tokens <- struct{}{}

	s.slots <- struct{}{}
	s.n++ // want `writes field n of its receiver without a lock`
	<-s.slots

	s.given <- struct{}{}
	s.n++ // want `writes field n of its receiver without a lock`
	<-s.given

	s.sem <- struct{}{} // a send with no matching receive is no lock
	s.n--               // want `writes field n of its receiver without a lock`
}

func (s *S) deferred(w http.ResponseWriter, r *http.Request) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	s.n++
}

var _ = (&S{}).deferred

// Limit captures its channels: one of one slot, one of four.
func Limit(next http.Handler) http.Handler {
	one := make(chan struct{}, 1)
	four := make(chan struct{}, 4)
	unbuffered := make(chan struct{})
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		one <- struct{}{}
		n++
		<-one

		four <- struct{}{}
		n++ // want `handler closure writes n, captured from Limit`
		<-four

		unbuffered <- struct{}{}
		n-- // want `handler closure writes n, captured from Limit`
		<-unbuffered
		next.ServeHTTP(w, r)
	})
}
