// Package chansem checks channels used as locks (semaphores of one).
package chansem

import "net/http"

type S struct {
	sem    chan struct{}
	tokens chan struct{}
	n      int
}

func (s *S) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.sem <- struct{}{}
	s.n++
	<-s.sem

	s.n++ // want `writes field n of its receiver without a lock`

	<-s.tokens // a channel filled with tokens
	s.n++
	s.tokens <- struct{}{}

	s.sem <- struct{}{} // a send with no matching receive is no lock
	s.n--               // want `writes field n of its receiver without a lock`
}

func (s *S) deferred(w http.ResponseWriter, r *http.Request) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	s.n++
}

var _ = (&S{}).deferred
