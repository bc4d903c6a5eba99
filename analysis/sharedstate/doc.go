// Package sharedstate defines an [analysis.Analyzer] that reports writes to
// state that every request goroutine shares, done from HTTP handlers
// without a lock: the request counter that loses counts, Rack's
// `@val += 1` in a middleware instance, found before they ship.
//
// The command [github.com/hatago/hatago/cmd/hatagovet] runs it:
//
//	go run github.com/hatago/hatago/cmd/hatagovet ./...
//
// or, after go install github.com/hatago/hatago/cmd/hatagovet, as a go vet
// tool:
//
//	go vet -vettool=$(go env GOPATH)/bin/hatagovet ./...
//
// The package is named sharedstate so that it sits next to
// golang.org/x/tools/go/analysis without an alias; add
// [Analyzer] to a multichecker or to gopls' analyzers like any other.
//
// # What it finds
//
// A Go server calls one handler value from many goroutines at once: the
// *Counter given to http.Handle, the closure given to mux.HandleFunc, the
// middleware built once by a constructor. The analyzer reports a write
// when its target is rooted at one of these shared roots:
//
//   - the receiver of a handler method. A handler is a method named
//     ServeHTTP, or any method or function with the signature
//     func(http.ResponseWriter, *http.Request) that is exported, used as a
//     value (mux.HandleFunc("/", s.handleIndex)) or not called in its
//     package; an unexported one that is only called directly is checked
//     from its call sites instead (so d := *m; d.serve(w, r), Rack's dup,
//     is fine). With a pointer receiver every field write is shared; with a
//     value receiver only writes that reach shared memory are: a map entry,
//     a slice element, anything behind a pointer. A value receiver's own
//     fields are a copy;
//   - package-level variables, of this package or another
//     (http.DefaultClient.Timeout = ...);
//   - variables a handler closure captures from code that runs once: a
//     middleware constructor, a routes function, a loop registering
//     handlers. A variable declared in a handler, in a function a handler
//     calls, in a function that serves a request (one that takes a request
//     or response writer, or passes both on, as next.ServeHTTP(w, r) does)
//     or in a constructor passed to middleware.PerRequest belongs to one
//     request and is not reported.
//
// A write is an assignment (=, op=, ++, --) to the variable or to a field,
// index or dereference rooted at it; a map store; delete, clear and copy
// into it; a range loop assigning to it. Reads are never reported, and
// neither are method calls on other packages' types, so the guarded
// alternatives (c.n.Add(1) on an atomic.Int64, m.Store on a sync.Map,
// ch <- v, atomic.AddInt64(&c.n, 1)) pass.
//
// The analyzer follows static calls within the package, transitively,
// memoized and safe against cycles. A method called on an expression
// rooted at shared state has its receiver treated as shared, and so does a
// parameter given such an expression (incr(&s.hits)); every function a
// handler reaches is checked for writes to package-level variables. The
// message names the path: "(*Counter).record, called from
// (*Counter).ServeHTTP, writes field total of its receiver without a
// lock: ...".
//
// # Why -race misses it
//
// The race detector only sees races that happen while it watches: two
// requests must reach the write at the same moment in a test run with
// -race. Most tests send one request at a time, so a handler that loses
// counts in production passes them all. The analyzer reads the code
// instead, so it finds the write whether or not a test ever overlaps two
// requests. The two complement each other: hatagotest.Hammer sends a
// handler overlapping requests so that -race sees what the analyzer cannot
// (a write through an alias, a race inside another package).
//
// # Guards it understands
//
// A guarded write is not reported. The analyzer tracks, statement by
// statement, what each function holds:
//
//   - a sync.Mutex or sync.RWMutex held by Lock, or anything with Lock and
//     Unlock methods (a sync.Locker, an embedded mutex): x.Lock() takes it,
//     x.Unlock() releases it, defer x.Unlock() keeps it to the end. Nested
//     blocks start with what the enclosing block holds, and what they lock
//     or unlock does not leak out of them, so
//     mu.Lock(); if bad { mu.Unlock(); return }; c.n++ is guarded.
//     if mu.TryLock() { ... } holds it in the body, and
//     if !mu.TryLock() { return } holds it after;
//   - a write under RLock only is reported with its own message, "written
//     under RLock: a read lock lets other readers run at once; use Lock";
//   - a function whose every call site reachable from a handler holds a
//     lock is guarded, and by the house convention a function whose name
//     ends in Locked is assumed to be called with the lock held;
//   - a func literal passed to (*sync.Once).Do, sync.OnceFunc,
//     sync.OnceValue or sync.OnceValues runs once: its writes are guarded;
//   - a channel used as a lock: ch <- v followed in the same statement list
//     by <-ch, or by a deferred <-ch, holds it in between (a semaphore of
//     one); so does <-ch followed by ch <- v (a channel filled with tokens);
//   - func literals inside a handler are checked with the same shared roots
//     but start with no lock held, since they run at another time: a
//     goroutine, a callback, a stored closure. Two exceptions: a literal
//     called where it is written, func() { ... }(), runs under the current
//     locks, and a deferred literal runs under the locks whose unlock was
//     deferred before it (deferred calls run last in, first out);
//   - types built by middleware.PerRequest (its type argument, or the type
//     its constructor returns) serve one request each, and so do types
//     kept in a sync.Pool (put into one, or asserted from its Get): their
//     handler receivers are not shared. PerRequest must be called in the
//     package that declares the type for the analyzer to see it.
//
// # The directive
//
// A write that is safe for a reason the analyzer cannot see (the handler
// is only used by one goroutine, an approximate counter whose races are
// accepted) takes a directive on its line or the line above:
//
//	//hatagovet:ignore only the test server calls this, one request at a time
//	s.last = r.URL.Path
//
// The reason is required: a directive without one is itself reported and
// suppresses nothing, and so is any other //hatagovet: directive.
//
// # Flags
//
//   - -tests: also analyse _test.go files. They are skipped by default:
//     tests often record requests in a handler closure and send them one at
//     a time, which is safe, and that is their business.
//
// hatagovet also takes the usual flags of an analysis driver (-json, -c),
// and go vet passes -tests on:
//
//	go vet -vettool=$(go env GOPATH)/bin/hatagovet -tests ./...
//
// # What it does not see
//
// The analysis is static and per package, so some races pass: a write
// through a local alias (m := s.hits; m[k]++), through a value returned by a
// call (s.get().n++), inside another package's methods, or in code a
// handler reaches only through an interface or a function value. Lock
// identity is not checked: holding any mutex guards every write. A value
// read before the lock and written under it (the hands-on's read, sleep,
// write, with only the write locked) still loses updates and is not
// reported. Handlers built once per pooled context from another package
// (goji v1's middleware stacks) look shared and are reported; use the
// directive there.
//
// The test cases under testdata/src are the executable documentation: each
// line the analyzer must report carries a // want comment, and every other
// line is one it must accept.
package sharedstate
