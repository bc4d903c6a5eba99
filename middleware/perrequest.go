package middleware

import "net/http"

// PerRequest returns a handler that calls newHandler for every request and
// serves the request with the value it returns, which no other request
// sees. It is Go's answer to Rack's dup idiom (def call(env) =
// dup._call(env)): a handler that keeps per-request state in its fields,
// such as the parsed body, the current user or a running total, can write
// them freely, because each request has its own value.
//
// It asks for a constructor rather than a value to copy because a copy of
// a struct is shallow: the copy shares the maps, slices and pointers of
// the original, so two requests writing one map through their copies would
// still race. newHandler builds every part a request may write; shared,
// read-only parts (a configuration, a *sql.DB, which are safe for
// concurrent use) can be captured by newHandler and handed to each value.
//
// The shared-state analyzer (cmd/hatagovet) recognises PerRequest and does
// not report the field writes of the types it builds. The handler
// PerRequest returns is safe for concurrent use if newHandler is. It
// panics if newHandler is nil; newHandler must not return a nil value.
func PerRequest[H http.Handler](newHandler func() H) http.Handler {
	if newHandler == nil {
		panic("middleware: PerRequest: newHandler is nil")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		newHandler().ServeHTTP(w, r)
	})
}
