package hatago

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Phases of a connection, as the sweeper sees them.
const (
	phaseNew  = iota // accepted; no request reached the handler yet (a TLS handshake included)
	phaseIdle        // its last handler returned: finishing that response, waiting, reading the next
)

// connKey is the context key of a connection's *connState.
type connKey struct{}

// connState is what the server keeps of one connection, in its context.
//
// Header and idle limits are enforced by sweeping these records on a coarse
// clock rather than by net/http's per-request socket deadlines, and a
// request only marks its entry into and exit from the handler: two atomic
// operations, where net/http's deadlines cost clock reads and timer resets
// that on a small machine came to a tenth of its whole cost per request.
type connState struct {
	conn net.Conn
	// phase packs the phase (low bit) and the coarse clock at its start.
	phase atomic.Uint64
	// handlers counts this connection's requests inside the server's
	// handler: several at once with HTTP/2.
	handlers atomic.Int32
}

func (c *connState) set(phase uint64, now time.Duration) {
	c.phase.Store(uint64(now)<<1 | phase)
}

func (c *connState) get() (phase uint64, since time.Duration) {
	v := c.phase.Load()
	return v & 1, time.Duration(v >> 1)
}

// connTracker keeps the server's open connections and closes those past
// their limits.
type connTracker struct {
	header, idle time.Duration
	now          atomic.Int64 // the coarse clock: the pool's clock at the last sweep
	conns        sync.Map     // net.Conn → *connState, from accept to close
}

func (t *connTracker) clock() time.Duration { return time.Duration(t.now.Load()) }

// open registers a new connection; it is net/http's ConnContext.
func (t *connTracker) open(c net.Conn) *connState {
	cs := &connState{conn: c}
	cs.set(phaseNew, t.clock())
	t.conns.Store(c, cs)
	return cs
}

// hook forgets connections that net/http closed or handed to a handler; it
// is net/http's ConnState. Per-request states need no work here: enter and
// leave track them.
func (t *connTracker) hook(c net.Conn, state http.ConnState) {
	if state == http.StateHijacked || state == http.StateClosed {
		t.conns.Delete(c)
	}
}

// enter and leave bracket a request's time in the handler. When the last
// handler of a connection returns, its idle time starts.
func (t *connTracker) enter(cs *connState) { cs.handlers.Add(1) }

func (t *connTracker) leave(cs *connState) {
	if cs.handlers.Add(-1) == 0 {
		cs.set(phaseIdle, t.clock())
	}
}

// closeNew closes the connections whose first request has not reached the
// handler. A
// graceful stop runs it once the listeners are closed: net/http would take
// each for a request under way and wait up to five seconds for it, and
// clients such as browsers open spare connections they may never use.
func (t *connTracker) closeNew() {
	t.conns.Range(func(k, v any) bool {
		cs := v.(*connState)
		if phase, _ := cs.get(); phase == phaseNew && cs.handlers.Load() == 0 {
			cs.conn.Close()
			t.conns.Delete(k)
		}
		return true
	})
}

// sweep advances the coarse clock to now and closes the connections past
// their limit: a new connection whose first request did not reach the
// handler within the header timeout, and a connection whose next request
// did not within the idle timeout of its last handler's return. It returns
// how many it closed.
func (t *connTracker) sweep(now time.Duration) int {
	t.now.Store(int64(now))
	closed := 0
	t.conns.Range(func(k, v any) bool {
		cs := v.(*connState)
		if cs.handlers.Load() > 0 {
			return true // the request and write timeouts govern handlers
		}
		phase, since := cs.get()
		limit := t.idle
		if phase == phaseNew {
			limit = t.header
		}
		if now-since > limit {
			cs.conn.Close()
			t.conns.Delete(k)
			closed++
		}
		return true
	})
	return closed
}
