package middleware

import (
	"fmt"
	"net/http"
)

// BodyLimit returns middleware that bounds request bodies to n bytes. The
// middleware is safe for concurrent use. It panics if n is not positive.
//
// A request that declares a Content-Length above n is answered 413
// Request Entity Too Large at once, with a short plain-text body, and its handler
// is not called; on HTTP/1 the response says "Connection: close", so the
// server closes the connection instead of reading the unwanted body.
//
// Any other body (a chunked one, or HTTP/2 without a length) is wrapped
// in http.MaxBytesReader: a read past n fails with an *http.MaxBytesError.
// (When BodyLimit is given net/http's own ResponseWriter, unwrapped,
// http.MaxBytesReader also has the connection closed after the response.)
// The handler then answers as it chooses; it should map that error to
// 413, which errors.As finds through the wrapping of a decoder:
//
//	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
//		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
//			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
//			return
//		}
//		http.Error(w, "bad request", http.StatusBadRequest)
//		return
//	}
//
// A Hatago server bounds every body with Config.MaxBodyBytes, and turns
// a failing answer to an oversized body into 413 itself; BodyLimit sets a
// tighter bound for some routes (an upload route aside, a JSON API may
// want a few kilobytes) and bounds bodies under plain net/http.
func BodyLimit(n int64) Middleware {
	if n <= 0 {
		panic(fmt.Sprintf("middleware: BodyLimit: n must be positive, got %d", n))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				if r.ProtoMajor == 1 {
					// On HTTP/2 the header would close the connection with
					// every other stream on it; net/http resets the stream.
					w.Header().Set("Connection", "close")
				}
				coreAnswer(w, http.StatusRequestEntityTooLarge)
				return
			}
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			r2 := *r
			r2.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, &r2)
		})
	}
}
