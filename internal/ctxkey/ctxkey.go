// Package ctxkey holds the context keys that Hatago's packages share, so the
// server can answer them from one context value per request.
package ctxkey

// Resources is the key of the *resource.Set of the slot serving a request.
type Resources struct{}
