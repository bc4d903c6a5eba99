package middleware

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// RequestIDConfig configures RequestID. The zero value keeps a valid
// incoming X-Request-Id and makes one otherwise.
type RequestIDConfig struct {
	// Header is the request and response header that carries the ID.
	// Default "X-Request-Id", the header of Heroku's router and of Rails'
	// ActionDispatch::RequestId.
	Header string
	// Generate makes a new ID. It must be safe for concurrent use and
	// should return 1 to 128 printable ASCII characters without spaces.
	// Default: a per-process random prefix and a counter (see RequestID).
	Generate func() string
	// IgnoreIncoming, if true, makes a new ID for every request. By
	// default a valid ID sent by the client or a proxy in front is kept,
	// so one ID follows a request through every service; set it when
	// clients reach the server directly and their IDs must not be
	// trusted in logs.
	IgnoreIncoming bool
}

// RequestID returns middleware that gives every request an ID: it puts
// the ID in the request's context, where RequestIDFrom finds it, and in
// the response header (and the request header, so a handler that proxies
// the request passes the same ID on). The middleware is safe for
// concurrent use. It panics if cfg.Header is not a valid header name.
//
// An incoming ID is kept if it is the only value of the header and is 1
// to 128 printable ASCII characters without spaces (bytes 0x21 to 0x7E);
// any other incoming value is replaced by a new ID, never echoed, so a
// client cannot inject log lines or odd bytes through it.
//
// The default generator returns a random prefix drawn once per process
// (64 bits from crypto/rand, in lowercase base32hex) and a counter:
// "m3fc5jrbaoc9q-42". IDs are unique within a process and, with
// overwhelming probability, across processes (two processes share a
// prefix with probability 2^-64). They cost one small allocation and no
// system call. They are sequential, not secret: do not use them as tokens.
func RequestID(cfg RequestIDConfig) Middleware {
	header := cfg.Header
	if header == "" {
		header = "X-Request-Id"
	}
	if !requestIDToken(header) {
		panic(fmt.Sprintf("middleware: RequestID: Header %q is not a valid header name", cfg.Header))
	}
	header = http.CanonicalHeaderKey(header)
	generate := cfg.Generate
	if generate == nil {
		generate = requestIDNext
	}
	trust := !cfg.IgnoreIncoming
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var id string
			if in := r.Header[header]; trust && len(in) == 1 && requestIDValid(in[0]) {
				id = in[0]
			} else {
				id = generate()
				if r.Header != nil {
					r.Header.Set(header, id)
				}
			}
			w.Header().Set(header, id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		})
	}
}

type requestIDKey struct{}

// RequestIDFrom returns the ID RequestID gave the request of ctx, or ""
// if RequestID did not run before. It is safe for concurrent use.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDMaxLen bounds an incoming ID.
const requestIDMaxLen = 128

// requestIDValid reports whether an incoming ID may be kept: 1 to 128
// printable ASCII characters without spaces.
func requestIDValid(id string) bool {
	if len(id) == 0 || len(id) > requestIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestIDToken reports whether s is an HTTP token (RFC 9110), which a
// header name must be.
func requestIDToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

var (
	requestIDPrefix = sync.OnceValue(func() string {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (see crypto/rand.Read)
		return strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	})
	requestIDCounter atomic.Uint64
)

// requestIDNext is the default generator: the process's prefix, "-", and
// the next value of the counter.
func requestIDNext() string {
	prefix := requestIDPrefix()
	var buf [48]byte
	b := append(buf[:0], prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, requestIDCounter.Add(1), 10)
	return string(b)
}
