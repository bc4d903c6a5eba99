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
//     request, unless the handler closure that captures it escapes the
//     function that declares it: then the closure outlives the request and
//     serves many. A closure escapes when its value (converted, wrapped,
//     bound to locals on the way) is returned, stored into memory declared
//     outside the function, sent on a channel, given to http.Handle or
//     http.HandleFunc, or given to a method of a value that escapes
//     (mux.HandleFunc("/", h) on a mux that is returned or is a field). A
//     function's result escapes unless the function is a constructor
//     passed to middleware.PerRequest, or an unexported declaration whose
//     every use is a direct call, in code that serves a request, whose
//     result does not escape there; so a routes() called
//     from sync.Once in ServeHTTP and stored in a field builds shared
//     handlers, and c.wrap(r, next).ServeHTTP(w, r) does not. A closure
//     that is only called, served where it is built
//     (m(h).ServeHTTP(w, r)), kept in the request (r.WithContext) or passed
//     on with the request (next.ServeHTTP(w, r)) stays per request.
//
// A write is an assignment (=, op=, ++, --) to the variable or to a field,
// index or dereference rooted at it; a map store; delete, clear and copy
// into it; a range loop assigning to it; and &x passed to a function or
// method of another package, which may write through it
// (json.NewDecoder(r.Body).Decode(&s.cfg), fmt.Sscan(v, &c.n)): reported
// as "passes the address of field cfg of its receiver to
// encoding/json.(*Decoder).Decode, which may write it, without a lock". The
// address rule leaves out callees that only read, or guard themselves
// (sync, sync/atomic, context, log and log/slog; reflect.DeepEqual and
// TypeOf; fmt's Append functions; and in any package the functions and
// methods whose names start with Print, Sprint, Fprint, Errorf, Marshal,
// Encode, Execute, Log, Debug, Info, Warn or Error), and values that hold a
// sync or sync/atomic value (&s.mu, a struct with its own mutex). Reads are
// never reported, and neither are method calls on other packages' types,
// so the guarded alternatives (c.n.Add(1) on an atomic.Int64, m.Store on a
// sync.Map, ch <- v, atomic.AddInt64(&c.n, 1)) pass.
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
//     x.Unlock() releases it, defer x.Unlock() keeps it to the end;
//   - where paths join, it keeps only what every path that gets there
//     holds. After an if, that is the end of each branch that falls
//     through (an if without else adds the state before it); after a
//     switch, the end of each clause that falls out, each break, and
//     without a default the state before it; after a select, the end of
//     each clause and each break; after a loop, its head (when a condition
//     or range can end it) and each break. A branch that ends in return,
//     panic, continue, break, goto, os.Exit, runtime.Goexit or log.Fatal or
//     log.Panic (or a Logger's) reaches nothing after it, so mu.Lock(); if
//     bad { mu.Unlock(); return }; c.n++ is guarded, while mu.Lock(); if
//     r.Method == "POST" { mu.Unlock() }; c.n++ is not. A loop body starts with what the state before the loop
//     and the end of an iteration (its fall through and its continues)
//     both hold: when one pass shows an iteration loses a lock, a second
//     pass walks the body without it. if mu.TryLock() { ... } holds it in
//     the body, and if !mu.TryLock() { return } holds it after;
//   - a write under RLock only is reported with its own message, "written
//     under RLock: a read lock lets other readers run at once; use Lock";
//   - lock helpers: a call statement of a function of the package applies
//     that function's net effect on the locks it names through its
//     receiver, its parameters or package-level variables, read off every
//     way it returns (func (h *T) lock() { h.mu.Lock() } takes h.mu at
//     h.lock(); unlock, rlock and helpers calling helpers likewise; a
//     helper that locks on one path only takes nothing). defer h.unlock()
//     keeps the lock to the end, and so does defer h.lock()() when lock
//     returns a func;
//   - a function whose every call site reachable from a handler holds a
//     lock is guarded, and by the house convention a function whose name
//     ends in Locked is assumed to be called with the lock held;
//   - a func literal passed to (*sync.Once).Do, sync.OnceFunc,
//     sync.OnceValue or sync.OnceValues runs once: its writes are guarded;
//   - a channel used as a lock, when the package only ever assigns it
//     make(chan T, 1) (in a constructor, a composite literal, a variable's
//     declaration): ch <- v followed in the same statement list by <-ch, or
//     by a deferred <-ch, holds it in between (a semaphore of one); so does
//     <-ch followed by ch <- v (a channel filled with a token). A channel
//     of more slots, unbuffered, or of a capacity set elsewhere (a
//     parameter) guards nothing;
//   - func literals inside a handler are checked with the same shared roots
//     but start with no lock held, since they may run at another time: a
//     goroutine, a callback, a stored closure. The literals that run
//     before the call that gets them returns run under the current locks:
//     one called where it is written, func() { ... }(); one bound to a
//     local that is only ever called directly in the function that
//     declares it (update := func() { ... }; update()), walked at each
//     call; one passed to the callbacks of sort (Slice, SliceStable,
//     SliceIsSorted, Search, Find), slices and strings and bytes (the
//     functions named ...Func, and Map), maps.DeleteFunc and EqualFunc,
//     (*sync.Map).Range, filepath.Walk and WalkDir, fs.WalkDir; and one
//     passed to a func parameter that a function of the package only calls
//     directly, under the weakest lock that function holds at those calls
//     (h.withLock(func() { h.n++ }) where withLock locks, calls f and
//     unlocks). A range-over-func body is a loop body like any other. A
//     deferred literal runs under the locks whose unlock was deferred
//     before it (deferred calls run last in, first out);
//   - types built by middleware.PerRequest (its type argument, or the type
//     its constructor returns) serve one request each, and so do types
//     kept in a sync.Pool (put into one, or asserted from its Get): their
//     handler receivers are not shared. PerRequest must be called in the
//     package that declares the type for the analyzer to see it;
//   - an unexported handler type that the package only ever builds fresh
//     in code that serves a request and serves at once,
//     (&page{...}).ServeHTTP(w, r) or p := &page{...}; p.ServeHTTP(w, r),
//     serves one request each too. Every expression of the type in the
//     package must be such a construction, or a field selection or method
//     call on such a value or on the receiver of one of its methods; any
//     other use (passed, stored, returned, converted to http.Handler, a
//     method value), a construction in setup code, or a field of the type
//     in any struct makes it shared.
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
// call (s.get().n++), inside another package's methods (s.buf.WriteString
// takes &s.buf implicitly; only an explicit &x argument is a write), or in
// code a handler reaches only through an interface or a function value.
// Lock identity is not checked: holding any mutex guards every write. A
// value read before the lock and written under it (the hands-on's read,
// sleep, write, with only the write locked) still loses updates and is not
// reported. Handlers built once per pooled context from another package
// (goji v1's middleware stacks) look shared and are reported; use the
// directive there.
//
// The lock flow is approximate where Go's control flow is irregular: a
// labeled statement that goto reaches is walked with what the statement
// before it holds, fallthrough counts as leaving the switch, and a second
// loop pass is the last (enough for a body that only releases). Lock
// helpers and withLock-style functions are recognised in the analysed
// package only, and synchronous callbacks of other packages only for the
// standard library functions listed above; a helper of another package, a
// TryLock inside a helper, or a lock helper called inside an expression
// rather than as a statement is no lock. A closure's escape is followed
// through locals, conversions, wrapping calls and method receivers in the
// function that builds it, not into the functions it is passed to (a
// same-package register(mux, h) that stores h is not seen), and a handler
// returned from a func literal is taken to escape. The fresh values of a
// per-request handler type are trusted whole: what their fields point to
// (a shared map given to &page{hits: s.hits}) is not checked, as with
// middleware.PerRequest. The address rule trusts callees by name, so a
// writer named like a printer (a Print method that fills its argument) is
// missed.
//
// The test cases under testdata/src are the executable documentation: each
// line the analyzer must report carries a // want comment, and every other
// line is one it must accept.
package sharedstate
