package hatago

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hatago/hatago/internal/ctxkey"
)

// Phases of a connection, as the sweeper sees them.
const (
	phaseNew  = iota // accepted; no request reached the handler yet (a TLS handshake included)
	phaseIdle        // its last handler returned: finishing that response, waiting, reading the next
)

// connKey is the context key of a connection's *connState.
type connKey struct{}

// connState is what the server keeps of one connection. It is also the
// connection's context, which net/http derives each request's context from.
//
// An HTTP/1 connection serves one request at a time, so its requests need
// no context of their own: the handler gets net/http's request untouched,
// and the slot, queue time and resources of the request in flight are read
// from here (atomically, so a goroutine that outlives its request reads a
// stale answer, never a torn one). A request timeout cancels the
// connection's context, which reaches the request's through net/http's
// own; the connection is closed after such a request. HTTP/2 streams share
// a connection, so each gets a context of its own (see requestContext).
// This spares HTTP/1 three allocations per request, a request copy among
// them.
//
// Header and idle limits are enforced by sweeping these records on a coarse
// clock rather than by net/http's per-request socket deadlines, and a
// request only marks its entry into and exit from the handler: two atomic
// operations, where net/http's deadlines cost clock reads and timer resets
// that on a small machine came to a tenth of its whole cost per request.
type connState struct {
	context.Context
	cancel context.CancelCauseFunc // cancels Context; nil without request timeouts
	conn   net.Conn
	info   requestInfo // the HTTP/1 request in flight
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
	mono         func() time.Duration // the exact clock (the pool's), read once per connection
	now          atomic.Int64         // the coarse clock: mono at the last sweep
	conns        sync.Map             // net.Conn → *connState, from accept to close
}

func (t *connTracker) clock() time.Duration { return time.Duration(t.now.Load()) }

func (c *connState) Value(key any) any {
	switch key.(type) {
	case connKey:
		return c
	case infoKey:
		if c.info.slot.Load() >= 0 {
			return &c.info
		}
		return nil
	case ctxkey.Resources:
		if res := c.info.res.Load(); res != nil {
			return res
		}
	}
	return c.Context.Value(key)
}

// open registers a new connection and returns its state, derived from
// ctx; it is net/http's ConnContext. With cancelable set, requests on it can
// be canceled through the connection's context.
func (t *connTracker) open(ctx context.Context, c net.Conn, cancelable bool) *connState {
	cs := &connState{conn: c}
	cs.Context = ctx
	if cancelable {
		cs.Context, cs.cancel = context.WithCancelCause(ctx)
	}
	cs.info.slot.Store(-1)
	// The exact clock: the coarse one may be a sweep (up to a second)
	// behind, which would age a connection accepted just before a stop
	// past newConnGrace at once.
	cs.set(phaseNew, t.mono())
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

// newConnGrace is how long a graceful stop lets a connection that was
// accepted just before it deliver its first request. In a cluster the
// socket's other workers would have taken the connection had this one not
// accepted it: closing it at once would fail a request that was on its way
// (a phased restart under load does just that). Longer than a loopback
// round trip, short enough that a browser's silent spare connection does
// not hold the stop up.
const newConnGrace = 250 * time.Millisecond

// closeNew closes the connections whose first request has not reached the
// handler, that are older than minAge and that have no request waiting
// in their socket. It returns how many such new connections it left open
// and how many it closed. A graceful stop runs it (see Server.settleNew): clients such as
// browsers open spare connections they may never use, which must not
// hold the stop up. A request waiting unread means the server, not the
// client, is slow (a busy machine has not yet run the connection's
// goroutine): that connection is left to be served.
func (t *connTracker) closeNew(minAge time.Duration) (left, closed int) {
	now := t.clock()
	t.conns.Range(func(k, v any) bool {
		cs := v.(*connState)
		if phase, since := cs.get(); phase != phaseNew || cs.handlers.Load() > 0 {
			return true
		} else if now-since < minAge || requestWaiting(cs.conn) {
			left++
			return true
		}
		cs.conn.Close()
		t.conns.Delete(k)
		closed++
		return true
	})
	return left, closed
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
