// Package middleware builds http.Handler chains that are safe to share
// between the goroutines that serve requests, and holds the middleware a
// web application usually needs. Everything here is plain net/http: it
// works under a Hatago server and under http.Server alike.
//
// # One shape
//
// A [Middleware] is exactly func(http.Handler) http.Handler: it takes the
// next handler and returns one that works around it. The type is an
// alias, so middleware written for chi, alice or gorilla fits without a
// conversion, and the middleware here fit those routers. [Chain] wraps a
// handler in middleware, the first outermost:
//
//	h := middleware.Chain(app,
//		middleware.RequestID(middleware.RequestIDConfig{}),
//		middleware.AccessLog(middleware.AccessLogConfig{}))
//
// # A stack that freezes
//
// A [Stack] collects middleware ([Stack.Use]), an endpoint
// ([Stack.Handle]) and handlers mounted under path prefixes
// ([Stack.Mount]), and composes them once, when it is frozen: by
// [Stack.Freeze], which a Hatago server calls as it starts, or by its
// first request. After the freeze, Use, Handle and Mount panic at once,
// naming who froze the stack, as chi panics on middleware added after
// its routes.
//
// The freeze is Go's answer to Rack's freeze_app. A Rack server builds
// the middleware objects once and every thread shares them, so a
// middleware that keeps state in an instance variable (@count += 1)
// races; freeze_app freezes every middleware object, so such a write
// raises FrozenError instead. In Go the
// danger is the same: the handler a middleware returns is called by
// every request goroutine at once, so a field it writes, or a variable
// its closure captured, is shared:
//
//	func Count(next http.Handler) http.Handler {
//		n := 0
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			n++ // a data race: every request goroutine writes n
//			next.ServeHTTP(w, r)
//		})
//	}
//
// A chain that could still change while requests run would be one more
// such shared variable. Building it once before serving and refusing
// changes afterwards makes the chain itself immutable, so serving it
// takes no lock: [Stack.ServeHTTP] loads the built chain atomically and
// calls it. State a middleware must share belongs behind a mutex or an
// atomic (sync/atomic.Int64 for the counter above).
//
// # Per-request handlers
//
// A handler that wants per-request state in its fields (the parsed body,
// the current user) must not keep it in a value shared by every request.
// Rack's idiom is dup: def call(env) = dup._call(env). Here
// [PerRequest] calls a constructor for every request and serves the
// request with the new value, so its fields are its own.
//
// # The middleware
//
//   - [Recover]: recovers a panic, logs it with its stack, answers 500, and
//     aborts the connection when the response had already begun.
//   - [RequestID]: gives each request an ID (kept from a valid
//     X-Request-Id, or made), in the response header and the context
//     ([RequestIDFrom]).
//   - [AccessLog]: one slog record per request, with status, bytes,
//     duration, and a Hatago server's queue time and slot.
//   - [BodyLimit]: bounds request bodies, answering 413 to a declared
//     length over the limit.
//   - [Timeout]: a per-route deadline; the client gets 503 at the
//     deadline even if the handler ignores its context.
//   - [RealIP] and [ClientIP]: the client's address behind trusted
//     proxies (Forwarded, X-Forwarded-For).
//   - [Compress]: compresses responses the client accepts compressed.
//   - [Static]: serves files from a directory or an fs.FS such as
//     embed.FS, with content-hash ETags; dotfiles stay hidden.
//   - [CORS]: answers cross-origin requests and their preflights.
//   - [Lint]: reports violations of the handler contract (what Rack::Lint
//     checks for Rack) in development and tests.
//
// A usual order, outermost first: RealIP, RequestID, AccessLog, Recover,
// then the rest (BodyLimit, Timeout, CORS, Compress, ...): the log then
// shows the client's address rather than the proxy's, the log and the
// panic report carry the request ID, and the log sees the 500 that
// Recover sends.
//
// # Finding shared state before production does
//
// The freeze and PerRequest make the safe way easy; two tools find the
// unsafe one. The analyzer run by cmd/hatagovet (a go vet tool) reports
// handlers and middleware that write shared state (receiver fields,
// captured variables, package variables) without a lock or an atomic.
// Package hatagotest has helpers for tests that serve a handler from
// many goroutines at once, so that go test -race sees such writes.
package middleware
