package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hatago/hatago/internal/histogram"
)

// Errors returned by Acquire.
var (
	// ErrFull means every slot was busy and the backlog was at its bound:
	// the request should be refused (Hatago answers 503 with Retry-After).
	ErrFull = errors.New("pool: backlog full")
	// ErrClosed means the pool is closing or closed.
	ErrClosed = errors.New("pool: closed")
	// ErrWaitTimeout means the request waited Config.MaxWait in the
	// backlog without getting a slot.
	ErrWaitTimeout = errors.New("pool: waited too long for a slot")
)

// Config sets up a Pool. The zero value of each optional field is its
// default.
type Config struct {
	// Min is the number of slots kept started when idle; Start opens them.
	Min int
	// Max is the bound on slots serving at once. It must be at least 1.
	Max int
	// Backlog bounds the requests waiting for a slot when all Max are busy.
	// Zero means no waiting: a request that finds no free slot is refused.
	Backlog int
	// IdleTimeout is how long a slot above Min stays idle before it is
	// trimmed. Zero keeps slots forever.
	IdleTimeout time.Duration
	// MaxWait bounds the time a request waits in the backlog; past it
	// Acquire returns ErrWaitTimeout. Zero: no bound but the context's.
	MaxWait time.Duration
	// OnStart, if set, prepares a slot before its first request (Hatago
	// opens the slot's resources here). It runs without any pool lock held,
	// in the goroutine of the request that needed the slot, with that
	// request's context. An error fails that Acquire; the slot's index is
	// freed for a later try.
	OnStart func(ctx context.Context, s *Slot) error
	// OnStop, if set, releases what OnStart prepared. It runs once per
	// started slot, when the slot is trimmed or the pool closes, without
	// any pool lock held.
	OnStop func(s *Slot)
	// Window is the length of the period the queue-time and latency
	// percentiles are computed over (see Stats). Default one minute.
	Window time.Duration
}

func (c Config) validate() error {
	switch {
	case c.Max < 1:
		return fmt.Errorf("pool: Max must be at least 1, got %d", c.Max)
	case c.Min < 0 || c.Min > c.Max:
		return fmt.Errorf("pool: Min must be within 0..Max (%d), got %d", c.Max, c.Min)
	case c.Backlog < 0:
		return fmt.Errorf("pool: Backlog must not be negative, got %d", c.Backlog)
	case c.IdleTimeout < 0:
		return fmt.Errorf("pool: IdleTimeout must not be negative, got %v", c.IdleTimeout)
	case c.MaxWait < 0:
		return fmt.Errorf("pool: MaxWait must not be negative, got %v", c.MaxWait)
	}
	return nil
}

// Slot is one unit of admitted concurrency. A request holds a slot from
// Acquire to Release, and no other request holds it meanwhile, so what hangs
// on a slot (Data) is used by one goroutine at a time. Indexes are stable:
// a slot keeps its index from start to stop, and a new slot takes the
// lowest free index, so indexes stay within 0..Max-1.
type Slot struct {
	// Data is the holder's own: OnStart sets it, the request that holds
	// the slot uses it, OnStop releases it.
	Data any

	index int
	// Owned by the holder between Acquire and Release.
	arrived time.Duration // monotonic clock at arrival
	queued  time.Duration
	// Guarded by Pool.mu while the slot is idle.
	idleTicks int
}

// Index returns the slot's stable index in 0..Max-1.
func (s *Slot) Index() int { return s.index }

// Queued returns how long the current request waited for this slot.
func (s *Slot) Queued() time.Duration { return s.queued }

// Arrived returns when the current request called Acquire, on the pool's
// monotonic clock (see Pool.Clock).
func (s *Slot) Arrived() time.Duration { return s.arrived }

// Pool admits requests onto a bounded set of slots, with a bounded backlog
// in front of them. Slots start lazily up to Max and are trimmed back to Min
// after IdleTimeout. All methods are safe for concurrent use.
type Pool struct {
	cfg     Config
	base    time.Time     // origin of the monotonic clock
	stopped chan struct{} // closed by Close: stops the trimmer
	loops   sync.WaitGroup

	mu         sync.Mutex // guards the fields below
	idle       []*Slot    // a stack: the top is the warmest, idle[0] the coldest
	taken      []bool     // indexes in use by started slots
	running    int        // started slots, busy or idle, including starting ones
	busy       int        // slots held by a request, including starting ones
	waiters    waitQueue
	backlogMax int // high-water mark of waiters.n since the last Stats
	free       *waiter
	requests   uint64
	rejected   uint64
	starts     uint64
	trims      uint64
	queueTime  *histogram.Window
	latency    *histogram.Window
	queueSum   time.Duration // since start
	latencySum time.Duration
	closed     bool
	drained    chan struct{} // closed when closed and busy reaches 0
}

// New returns a Pool. It does no I/O; Start opens the Min slots. It panics if
// cfg is invalid (Max below 1, Min above Max, a negative Backlog or
// IdleTimeout): those are programming errors, which hatago.Config reports as
// errors before it gets here.
func New(cfg Config) *Pool {
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	now := time.Now()
	return &Pool{
		cfg:       cfg,
		base:      now,
		stopped:   make(chan struct{}),
		idle:      make([]*Slot, 0, cfg.Max),
		taken:     make([]bool, cfg.Max),
		queueTime: histogram.NewWindow(cfg.Window, now),
		latency:   histogram.NewWindow(cfg.Window, now),
		drained:   make(chan struct{}),
	}
}

// mono reads the monotonic clock, cheaper than time.Now.
func (p *Pool) mono() time.Duration { return time.Since(p.base) }

// Clock returns the time since the pool was made, on the monotonic clock
// that Slot.Arrived uses. It is cheaper than time.Now.
func (p *Pool) Clock() time.Duration { return p.mono() }

// Start opens Min slots and starts the idle trimmer. It returns the first
// error of OnStart, after stopping the slots it opened.
func (p *Pool) Start(ctx context.Context) error {
	slots := make([]*Slot, 0, p.cfg.Min)
	for range p.cfg.Min {
		p.mu.Lock()
		i := p.reserveLocked()
		p.mu.Unlock()
		s, err := p.startSlot(ctx, i)
		if err != nil {
			p.mu.Lock()
			for _, s := range slots {
				p.taken[s.index] = false
				p.running--
				p.busy--
			}
			p.mu.Unlock()
			for _, s := range slots {
				p.retire(s)
			}
			return err
		}
		slots = append(slots, s)
	}
	p.mu.Lock()
	for _, s := range slots {
		p.busy--
		p.idle = append(p.idle, s)
	}
	p.mu.Unlock()
	if p.cfg.IdleTimeout > 0 {
		p.loops.Add(1)
		go p.trimLoop()
	}
	return nil
}

// Acquire returns a free slot for one request, waiting in the backlog while
// all slots are busy. It returns ErrFull at once when the backlog is at its
// bound, ErrClosed once Close has begun, ctx's error if ctx ends while
// waiting, ErrWaitTimeout after waiting Config.MaxWait, or the error of
// OnStart when a new slot failed to start. The
// caller must Release the slot when the request is done.
func (p *Pool) Acquire(ctx context.Context) (*Slot, error) {
	arrived := p.mono()
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		if n := len(p.idle); n > 0 {
			s := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.busy++
			p.mu.Unlock()
			s.arrived, s.queued = arrived, 0
			return s, nil
		}
		if p.running < p.cfg.Max {
			i := p.reserveLocked()
			p.mu.Unlock()
			s, err := p.startSlot(ctx, i)
			if err != nil {
				return nil, err
			}
			s.arrived, s.queued = arrived, p.mono()-arrived
			return s, nil
		}
		if p.waiters.n >= p.cfg.Backlog {
			p.rejected++
			p.mu.Unlock()
			return nil, ErrFull
		}
		s, err := p.wait(ctx, arrived)
		if err != nil {
			return nil, err
		}
		if s != nil {
			s.arrived, s.queued = arrived, p.mono()-arrived
			return s, nil
		}
		// Woken without a slot: a start failed or the pool is closing.
		// Look again, holding the lock as at the top of the loop.
		p.mu.Lock()
	}
}

// wait queues the caller in the backlog; p.mu is held on entry and released
// on return. It returns the slot handed over, or nil when woken to look
// again.
func (p *Pool) wait(ctx context.Context, arrived time.Duration) (*Slot, error) {
	w := p.free
	if w != nil {
		p.free = w.next
		w.next = nil
	} else {
		w = &waiter{ch: make(chan *Slot, 1)}
	}
	p.waiters.push(w)
	p.backlogMax = max(p.backlogMax, p.waiters.n)
	p.mu.Unlock()

	var expired <-chan time.Time
	if p.cfg.MaxWait > 0 {
		t := time.NewTimer(p.cfg.MaxWait - (p.mono() - arrived))
		defer t.Stop()
		expired = t.C
	}
	giveUp := ctx.Err
	select {
	case s := <-w.ch:
		p.mu.Lock()
		p.recycleLocked(w)
		p.mu.Unlock()
		return s, nil
	case <-ctx.Done():
	case <-expired:
		giveUp = func() error { return ErrWaitTimeout }
	}
	p.mu.Lock()
	if w.queued {
		p.waiters.remove(w)
		p.recycleLocked(w)
		p.mu.Unlock()
		return nil, giveUp()
	}
	// A slot (or a wake-up) was handed over as ctx ended.
	s := <-w.ch
	p.recycleLocked(w)
	if s == nil && p.closed {
		// Woken by Close: report that rather than ctx, so the caller
		// answers "shutting down" even if its context ended meanwhile.
		p.mu.Unlock()
		return nil, ErrClosed
	}
	var stop bool
	if s != nil {
		stop = p.handOffLocked(s) // pass it on
	} else if next := p.waiters.pop(); next != nil {
		next.ch <- nil // pass the wake-up on: a slot may start for the next
	}
	p.mu.Unlock()
	if stop {
		p.retire(s)
	}
	return nil, giveUp()
}

func (p *Pool) recycleLocked(w *waiter) {
	w.next = p.free
	p.free = w
}

// reserveLocked books a new slot under the lowest free index; the caller
// then opens it with startSlot. The booked slot counts as running and busy.
func (p *Pool) reserveLocked() int {
	i := 0
	for p.taken[i] {
		i++
	}
	p.taken[i] = true
	p.running++
	p.busy++
	return i
}

// startSlot opens the slot booked under index i by reserveLocked, without
// the lock held. The slot is returned busy; on failure its booking is
// undone.
func (p *Pool) startSlot(ctx context.Context, i int) (*Slot, error) {
	s := &Slot{index: i}
	var err error
	if p.cfg.OnStart != nil {
		err = p.startHook(ctx, s)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.taken[i] = false
		p.running--
		p.busy--
		p.signalDrainedLocked()
		// A waiter queued while this start was under way could now start
		// a slot of its own: wake the first to look again.
		if w := p.waiters.pop(); w != nil {
			w.ch <- nil
		}
		return nil, fmt.Errorf("pool: start slot %d: %w", i, err)
	}
	p.starts++
	return s, nil
}

// startHook runs OnStart, turning a panic into an error so that a bad
// resource cannot take the process down or leak the index.
func (p *Pool) startHook(ctx context.Context, s *Slot) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return p.cfg.OnStart(ctx, s)
}

// Release returns a slot taken by Acquire, recording the request's queue
// time and latency. The slot goes to the longest-waiting request, if any.
func (p *Pool) Release(s *Slot) {
	end := p.mono()
	p.mu.Lock()
	p.requests++
	latency := end - s.arrived
	p.queueTime.Record(s.queued)
	p.latency.Record(latency)
	p.queueSum += s.queued
	p.latencySum += latency
	stop := p.handOffLocked(s)
	p.mu.Unlock()
	if stop {
		p.retire(s)
	}
}

// handOffLocked gives s to the first waiter, or makes it idle. It reports
// whether s must be stopped instead because the pool is closing.
func (p *Pool) handOffLocked(s *Slot) (stop bool) {
	if w := p.waiters.pop(); w != nil {
		w.ch <- s
		return false
	}
	p.busy--
	if p.closed {
		p.running--
		p.taken[s.index] = false
		p.signalDrainedLocked()
		return true
	}
	s.idleTicks = 0
	p.idle = append(p.idle, s)
	return false
}

func (p *Pool) signalDrainedLocked() {
	if p.closed && p.busy == 0 {
		select {
		case <-p.drained:
		default:
			close(p.drained)
		}
	}
}

// retire stops a slot that has already left the pool's books.
func (p *Pool) retire(s *Slot) {
	if p.cfg.OnStop != nil {
		p.cfg.OnStop(s)
	}
}

// trimLoop retires slots above Min that stayed idle for IdleTimeout. It
// looks four times per IdleTimeout, so a slot goes after between 1 and 1.25
// IdleTimeouts idle.
func (p *Pool) trimLoop() {
	defer p.loops.Done()
	const looks = 4
	t := time.NewTicker(p.cfg.IdleTimeout / looks)
	defer t.Stop()
	for {
		select {
		case <-p.stopped:
			return
		case <-t.C:
			for _, s := range p.trim(looks) {
				p.retire(s)
			}
		}
	}
}

// trim ages the idle slots by one look and takes out those idle for more
// than looks looks, coldest first, while more than Min are running.
func (p *Pool) trim(looks int) []*Slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.idle {
		s.idleTicks++
	}
	// idle[0] is the coldest; ages fall towards the top of the stack.
	for n < len(p.idle) && p.running > p.cfg.Min && p.idle[n].idleTicks > looks {
		p.taken[p.idle[n].index] = false
		p.running--
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]*Slot, n)
	copy(out, p.idle[:n])
	m := copy(p.idle, p.idle[n:])
	clear(p.idle[m:])
	p.idle = p.idle[:m]
	p.trims += uint64(n)
	return out
}

// Close stops admitting: Acquire returns ErrClosed from now on, and requests
// waiting in the backlog are woken to get it too. It then waits until every
// held slot is released, or ctx ends, and stops the idle slots. Slots
// released after ctx ended are stopped on release. Close returns ctx's error
// if requests were still holding slots when it ended. It is idempotent.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stopped)
		for w := p.waiters.pop(); w != nil; w = p.waiters.pop() {
			w.ch <- nil
		}
		p.signalDrainedLocked()
	}
	p.mu.Unlock()
	p.loops.Wait()

	var err error
	select {
	case <-p.drained:
	default:
		select {
		case <-p.drained:
		case <-ctx.Done():
			err = fmt.Errorf("pool: close: %d requests still running: %w", p.Busy(), ctx.Err())
		}
	}
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	for _, s := range idle {
		p.taken[s.index] = false
	}
	p.running -= len(idle)
	p.mu.Unlock()
	for _, s := range idle {
		p.retire(s)
	}
	return err
}

// Busy returns the number of slots held by requests now.
func (p *Pool) Busy() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy
}

// waiter is one request waiting in the backlog.
type waiter struct {
	ch         chan *Slot // buffered 1: a handed-over slot, or nil to look again
	prev, next *waiter
	queued     bool
}

// waitQueue is a FIFO of waiters; any waiter can leave it in O(1).
type waitQueue struct {
	head, tail *waiter
	n          int
}

func (q *waitQueue) push(w *waiter) {
	w.queued = true
	w.prev, w.next = q.tail, nil
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
	q.n++
}

func (q *waitQueue) pop() *waiter {
	w := q.head
	if w != nil {
		q.remove(w)
	}
	return w
}

func (q *waitQueue) remove(w *waiter) {
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	q.n--
}
