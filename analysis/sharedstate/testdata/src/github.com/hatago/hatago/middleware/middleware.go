// Package middleware is a stub of github.com/hatago/hatago/middleware with
// the signature the analyzer recognises.
package middleware

import "net/http"

// PerRequest calls newHandler for every request and serves it with the
// fresh value.
func PerRequest[H http.Handler](newHandler func() H) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		newHandler().ServeHTTP(w, r)
	})
}
