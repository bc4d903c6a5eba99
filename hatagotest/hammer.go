package hatagotest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// HammerOptions configures Hammer and Server.Hammer. The zero value sends
// 1000 GET / requests from max(8, 4*GOMAXPROCS) goroutines.
type HammerOptions struct {
	// Goroutines is how many goroutines send requests at once. Default
	// max(8, 4*GOMAXPROCS); never more than Requests.
	Goroutines int
	// Requests is the number of requests, in all. Default 1000.
	Requests int
	// Request returns request i, 0 <= i < Requests; build it with
	// httptest.NewRequest (for Server.Hammer, the URL's scheme and host
	// become the server's). It is called from many goroutines at once, so
	// it must be safe for concurrent use. Default GET /.
	Request func(i int) *http.Request
	// Check, if set, checks the response to request i. It is called from
	// many goroutines at once, so it must be safe for concurrent use; it
	// may call tb.Errorf but not tb.Fatal or tb.FailNow (it does not run
	// on the test's goroutine). Hammer closes the body after it.
	Check func(tb testing.TB, i int, res *http.Response)
	// Lint, if true, wraps the handler in middleware.Lint reporting to the
	// test, as Lint does. Hammer only: a Server's handler is the one given
	// to Serve (wrap it with Lint there).
	Lint bool
}

// HammerResult is what a Hammer run saw.
type HammerResult struct {
	// Requests is the number of requests that were answered.
	Requests int
	// Status counts the answers by status code.
	Status map[int]int
	// Panics counts the requests whose handler panicked (Hammer only: a
	// server answers a panic itself, usually with 500).
	Panics int
	// Errors counts the requests that got no answer: a nil request from
	// Request, or (Server.Hammer) a transport error.
	Errors int
	// MaxInFlight is the largest number of requests that were being served
	// (Hammer) or awaited (Server.Hammer) at once: how much the run
	// overlapped.
	MaxInFlight int
	// Duration is the time from the release of the goroutines to the last
	// answer.
	Duration time.Duration
}

// Hammer serves h opt.Requests requests from opt.Goroutines goroutines at
// once and returns what they got. The goroutines are all started first and
// then released together, so their requests overlap as much as the
// machine allows; each calls h.ServeHTTP directly with a fresh
// httptest.ResponseRecorder, so the handler runs concurrently with itself
// and `go test -race` sees any unsynchronised state it shares between
// requests. Hammer returns when every request is answered.
//
// A handler panic is recovered and reported with tb.Errorf, with its
// stack, and the run goes on. Invalid options (a negative Goroutines or
// Requests) stop the test with tb.Fatalf. Hammer must be called from the
// test's goroutine; several Hammers may run at once.
func Hammer(tb testing.TB, h http.Handler, opt HammerOptions) HammerResult {
	tb.Helper()
	opt = hammerDefaults(tb, "Hammer", opt)
	if opt.Request == nil {
		opt.Request = func(int) *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }
	}
	if opt.Lint {
		h = Lint(tb, h)
	}
	var inFlight inFlight
	return hammer(tb, opt, func(i int, st *hammerStats) {
		req := opt.Request(i)
		if req == nil {
			tb.Errorf("hatagotest: Hammer: Request(%d) returned nil", i)
			st.errors++
			return
		}
		rec := httptest.NewRecorder()
		done := inFlight.enter()
		panicked, stack := serveRecovered(h, rec, req)
		done()
		if panicked != nil {
			tb.Errorf("hatagotest: Hammer: request %d (%s %s): handler panic: %v\n%s", i, req.Method, req.URL, panicked, stack)
			st.panics++
			return
		}
		st.answered(rec.Code)
		if opt.Check != nil {
			res := rec.Result()
			opt.Check(tb, i, res)
			res.Body.Close()
		}
	}, &inFlight)
}

// serveRecovered runs h, recovering a panic with its stack.
func serveRecovered(h http.Handler, w http.ResponseWriter, r *http.Request) (panicked any, stack []byte) {
	defer func() {
		if v := recover(); v != nil {
			panicked, stack = v, debug.Stack()
		}
	}()
	h.ServeHTTP(w, r)
	return nil, nil
}

// hammerDefaults checks opt and fills in its defaults.
func hammerDefaults(tb testing.TB, name string, opt HammerOptions) HammerOptions {
	tb.Helper()
	if opt.Goroutines < 0 {
		tb.Fatalf("hatagotest: %s: HammerOptions.Goroutines is %d, want 0 (the default) or more", name, opt.Goroutines)
	}
	if opt.Requests < 0 {
		tb.Fatalf("hatagotest: %s: HammerOptions.Requests is %d, want 0 (the default) or more", name, opt.Requests)
	}
	if opt.Goroutines == 0 {
		opt.Goroutines = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if opt.Requests == 0 {
		opt.Requests = 1000
	}
	opt.Goroutines = min(opt.Goroutines, opt.Requests)
	return opt
}

// hammerStats is one goroutine's count; they are added up at the end.
type hammerStats struct {
	requests, panics, errors int
	status                   map[int]int
}

func (st *hammerStats) answered(code int) {
	st.requests++
	st.status[code]++
}

// inFlight counts the requests under way and keeps the most at once.
type inFlight struct {
	now, most atomic.Int64
}

// enter counts a request in; the func it returns counts it out.
func (f *inFlight) enter() func() {
	n := f.now.Add(1)
	for {
		m := f.most.Load()
		if n <= m || f.most.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { f.now.Add(-1) }
}

// hammer runs do for every request index from opt.Goroutines goroutines
// released together, and adds up their counts.
func hammer(tb testing.TB, opt HammerOptions, do func(i int, st *hammerStats), f *inFlight) HammerResult {
	var (
		next  atomic.Int64 // the next request index
		ready sync.WaitGroup
		wg    sync.WaitGroup
		start = make(chan struct{})
		stats = make([]hammerStats, opt.Goroutines)
	)
	ready.Add(opt.Goroutines)
	for g := range opt.Goroutines {
		st := &stats[g]
		st.status = make(map[int]int)
		wg.Go(func() {
			ready.Done()
			<-start
			for {
				i := int(next.Add(1) - 1)
				if i >= opt.Requests {
					return
				}
				hammerOne(tb, i, st, do)
			}
		})
	}
	ready.Wait() // every goroutine exists and waits at the barrier
	began := time.Now()
	close(start)
	wg.Wait()
	res := HammerResult{Status: make(map[int]int), Duration: time.Since(began), MaxInFlight: int(f.most.Load())}
	for _, st := range stats {
		res.Requests += st.requests
		res.Panics += st.panics
		res.Errors += st.errors
		for code, n := range st.status {
			res.Status[code] += n
		}
	}
	return res
}

// hammerOne runs one request, reporting a panic in Request or Check
// rather than letting it crash the test binary.
func hammerOne(tb testing.TB, i int, st *hammerStats, do func(i int, st *hammerStats)) {
	defer func() {
		if v := recover(); v != nil {
			tb.Errorf("hatagotest: request %d: panic in Request or Check: %v\n%s", i, v, debug.Stack())
		}
	}()
	do(i, st)
}

// String summarises the result on one line.
func (r HammerResult) String() string {
	return fmt.Sprintf("%d requests in %v, at most %d at once; status %v; %d panics, %d errors",
		r.Requests, r.Duration.Round(time.Microsecond), r.MaxInFlight, r.Status, r.Panics, r.Errors)
}
