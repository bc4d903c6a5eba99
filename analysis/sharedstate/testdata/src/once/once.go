// Package once checks writes that sync.Once and its helpers guard.
package once

import (
	"net/http"
	"sync"
)

type Lazy struct {
	once  sync.Once
	table map[string]string
	n     int
}

func (l *Lazy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.once.Do(func() {
		l.table = map[string]string{"a": "b"}
	})
	l.n++ // want `writes field n of its receiver without a lock`
}

func Cached(load func() []byte) http.Handler {
	var once sync.Once
	var body []byte
	get := sync.OnceValue(func() []byte {
		body = load()
		return body
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { body = load() })
		w.Write(get())
		body = nil // want `handler closure writes body, captured from Cached`
	})
}

var config map[string]string

var loadConfig = sync.OnceFunc(func() { config = map[string]string{} })

func handle(w http.ResponseWriter, r *http.Request) {
	loadConfig()
	sync.OnceFunc(func() { config = nil })()
}
