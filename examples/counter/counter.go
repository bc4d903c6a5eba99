package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hatago/hatago/middleware"
)

// defaultPause is how long a counter with a nil pause hook pauses between
// reading and writing the total: the hands-on's time.sleep(10), "some
// work", made short so the demo and the tests are quick.
const defaultPause = 10 * time.Millisecond

// pauseFor runs pause, or sleeps defaultPause if it is nil.
func pauseFor(pause func()) {
	if pause == nil {
		time.Sleep(defaultPause)
		return
	}
	pause()
}

// A counter is a handler that counts the requests it serves; Total
// returns the count.
type counter interface {
	http.Handler
	Total() int
}

var (
	_ counter = (*Broken)(nil)
	_ counter = (*Mutex)(nil)
	_ counter = (*Atomic)(nil)
	_ counter = (*Owner)(nil)
	_ counter = perRequest{}
)

// Broken is the request counter of the concurrency hands-on as it was
// written there: it reads the total, pauses, and writes the total plus
// one. Requests that overlap all read the same total before any writes,
// so all but one of their counts are lost, and the unsynchronised read and
// write of total are a data race that `go test -race` reports. Broken is
// not safe for concurrent use: that is its point. The zero value is ready;
// a nil pause sleeps 10ms.
type Broken struct {
	total int
	pause func()
}

// ServeHTTP counts the request, racily, and answers "total N".
func (c *Broken) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := c.total // read
	pauseFor(c.pause)
	c.total = t + 1 // write what was read plus one: another request's count may be lost
	fmt.Fprintf(w, "total %d\n", t+1)
}

// Total returns the count. It races with ServeHTTP, as the rest of
// Broken does.
func (c *Broken) Total() int { return c.total }

// Mutex is Broken fixed with a mutex held across the read, the pause and
// the write: the three are one critical section, so no count is lost. The
// price is that requests wait for each other's pause: they are served one
// at a time. Mutex is safe for concurrent use; the zero value is ready.
type Mutex struct {
	mu    sync.Mutex // guards total, across the pause
	total int
	pause func()
}

// ServeHTTP counts the request and answers "total N".
func (c *Mutex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	t := c.total
	pauseFor(c.pause)
	c.total = t + 1
	c.mu.Unlock()
	fmt.Fprintf(w, "total %d\n", t+1)
}

// Total returns the count.
func (c *Mutex) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Atomic is Broken fixed with an atomic counter: the pause comes first,
// outside any lock, and the read and the write become one indivisible
// Add, so requests pause together and no count is lost. Atomic is safe
// for concurrent use; the zero value is ready.
type Atomic struct {
	total atomic.Int64
	pause func()
}

// ServeHTTP counts the request and answers "total N".
func (c *Atomic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pauseFor(c.pause)
	n := c.total.Add(1)
	fmt.Fprintf(w, "total %d\n", n)
}

// Total returns the count.
func (c *Atomic) Total() int { return int(c.total.Load()) }

// errOwnerStopped and errOwnerNotStarted answer the requests an Owner
// cannot count.
var (
	errOwnerStopped    = errors.New("counter: the owner has stopped")
	errOwnerNotStarted = errors.New("counter: the owner has not started")
)

// Owner is Broken fixed by giving the total to one goroutine, which alone
// reads and writes it: handlers send it a request on a channel and get the
// new total back, as ThreadButler's services own their state. There is no
// shared variable to lock. Make one with NewOwner, Start it before serving
// and Stop it after; a request before Start or after Stop gets 503.
// Owner's methods are safe for concurrent use.
type Owner struct {
	pause    func()
	requests chan ownerRequest
	done     chan struct{} // closed when the owning goroutine has ended
	final    atomic.Int64  // the total when it ended

	mu      sync.Mutex // guards the fields below
	started bool
	stop    context.CancelFunc
}

// ownerRequest asks the owning goroutine to add to the total and answer
// with the new total, on reply, which has a buffer of one so the owner
// never waits for the asker.
type ownerRequest struct {
	add   int
	reply chan int
}

// NewOwner returns an Owner whose requests pause with pause (nil sleeps
// 10ms) before they are counted. It starts nothing.
func NewOwner(pause func()) *Owner {
	return &Owner{pause: pause, requests: make(chan ownerRequest), done: make(chan struct{})}
}

// Start starts the goroutine that owns the total; it runs until ctx ends
// or Stop is called. Start returns an error if called twice.
func (o *Owner) Start(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started {
		return errors.New("counter: Owner started twice")
	}
	o.started = true
	ctx, o.stop = context.WithCancel(ctx)
	go o.own(ctx)
	return nil
}

// own is the owning goroutine. total is its local variable: nothing else
// can reach it.
func (o *Owner) own(ctx context.Context) {
	defer close(o.done)
	total := 0
	for {
		select {
		case req := <-o.requests:
			total += req.add
			req.reply <- total
		case <-ctx.Done():
			o.final.Store(int64(total))
			return
		}
	}
}

// Stop stops the owning goroutine and waits for it to end. It is
// idempotent, and does nothing for an Owner never started.
func (o *Owner) Stop() {
	o.mu.Lock()
	stop := o.stop
	o.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-o.done
}

// ask sends the owner a request and returns its answer. Every send and
// wait also watches the owner's end and ctx, so no caller hangs.
func (o *Owner) ask(ctx context.Context, add int) (int, error) {
	o.mu.Lock()
	started := o.started
	o.mu.Unlock()
	if !started {
		return 0, errOwnerNotStarted
	}
	req := ownerRequest{add: add, reply: make(chan int, 1)}
	select {
	case o.requests <- req:
		return <-req.reply, nil // the owner answers each request it takes at once
	case <-o.done:
		return int(o.final.Load()), errOwnerStopped
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// ServeHTTP counts the request and answers "total N", or 503 if the owner
// is not running.
func (o *Owner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pauseFor(o.pause)
	n, err := o.ask(r.Context(), 1)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "total %d\n", n)
}

// Total returns the count: 0 before Start, the final count after Stop.
func (o *Owner) Total() int {
	n, _ := o.ask(context.Background(), 0)
	return n
}

// visit is one request's count: middleware.PerRequest builds a fresh one
// for every request (Rack's dup idiom), so its fields are the request's
// own and ServeHTTP writes them freely. Only the total is shared, and it
// is an atomic.
type visit struct {
	total *atomic.Int64 // shared by every visit
	pause func()

	start time.Time // per request, from here on
	n     int64
}

// ServeHTTP counts the request and answers "total N", with the time it
// took in a Server-Timing header.
func (v *visit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.start = time.Now()
	pauseFor(v.pause)
	v.n = v.total.Add(1)
	w.Header().Set("Server-Timing", fmt.Sprintf("count;dur=%.3f", float64(time.Since(v.start))/float64(time.Millisecond)))
	fmt.Fprintf(w, "total %d\n", v.n)
}

// perRequest is what NewPerRequest returns: the handler and its total.
type perRequest struct {
	http.Handler
	total *atomic.Int64
}

// Total returns the count.
func (p perRequest) Total() int { return int(p.total.Load()) }

// NewPerRequest returns the per-request form of the counter: every request
// is served by a fresh visit that keeps its own state in its fields, and
// counts in one shared atomic total. The handler also has a Total() int
// method. It is safe for concurrent use; a nil pause sleeps 10ms.
func NewPerRequest(pause func()) http.Handler {
	total := new(atomic.Int64)
	return perRequest{
		Handler: middleware.PerRequest(func() *visit { return &visit{total: total, pause: pause} }),
		total:   total,
	}
}
