package hatago

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// acceptGate is a cluster worker's balanced accept: while every slot of
// the worker is taken (requests running or waiting for one as many as
// MaxSlots), its listeners stop accepting, so the kernel hands new
// connections to siblings that accept. Puma does the same
// (wait_until_not_full). An Accept already blocked when the worker
// fills up is woken by a deadline in the past and waits too; a TLS
// listener cannot be woken that way, so it may take one connection more.
type acceptGate struct {
	limit    int64
	inflight atomic.Int64

	mu       sync.Mutex
	open     chan struct{} // closed while there is room; replaced when full
	isFull   bool
	watchers []deadliner
}

type deadliner interface{ SetDeadline(time.Time) error }

func newAcceptGate(limit int) *acceptGate {
	g := &acceptGate{limit: int64(limit), open: make(chan struct{})}
	close(g.open)
	return g
}

// enter counts a request in; when it fills the worker, blocked Accepts
// are woken so they wait at the gate instead.
func (g *acceptGate) enter() {
	if g.inflight.Add(1) < g.limit {
		return
	}
	g.mu.Lock()
	if !g.isFull && g.inflight.Load() >= g.limit {
		g.isFull = true
		g.open = make(chan struct{})
		past := time.Unix(1, 0)
		for _, w := range g.watchers {
			_ = w.SetDeadline(past)
		}
	}
	g.mu.Unlock()
}

// leave counts a request out and opens the gate when there is room.
func (g *acceptGate) leave() {
	if g.inflight.Add(-1) >= g.limit {
		return
	}
	g.mu.Lock()
	if g.isFull && g.inflight.Load() < g.limit {
		g.isFull = false
		close(g.open)
	}
	g.mu.Unlock()
}

// wait returns a channel closed while there is room.
func (g *acceptGate) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

// wrap returns l behind the gate.
func (g *acceptGate) wrap(l net.Listener) net.Listener {
	gl := &gatedListener{Listener: l, gate: g, closed: make(chan struct{})}
	if d, ok := l.(deadliner); ok {
		gl.deadline = d
		g.mu.Lock()
		g.watchers = append(g.watchers, d)
		g.mu.Unlock()
	}
	return gl
}

type gatedListener struct {
	net.Listener
	gate      *acceptGate
	deadline  deadliner // nil if l cannot be woken
	closeOnce sync.Once
	closed    chan struct{}
}

func (l *gatedListener) Accept() (net.Conn, error) {
	for {
		select {
		case <-l.gate.wait():
		case <-l.closed:
			return nil, net.ErrClosed
		}
		if l.deadline != nil {
			_ = l.deadline.SetDeadline(time.Time{})
		}
		c, err := l.Listener.Accept()
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			select {
			case <-l.closed:
				return nil, net.ErrClosed
			default:
				continue // woken by enter: wait at the gate
			}
		}
		return c, err
	}
}

func (l *gatedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}
