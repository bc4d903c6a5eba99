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
	phaseNew     = iota // accepted; no request byte yet (a TLS handshake included)
	phaseActive         // reading a request's headers, or in a handler
	phaseWriting        // its handlers returned; net/http is finishing the response
	phaseIdle           // between requests on a keep-alive connection
)

// connState is what the server keeps of one connection, in its context.
//
// Header, idle and write limits are enforced by sweeping these records on a
// coarse clock rather than by net/http's per-request socket deadlines: a
// request then costs two atomic stores instead of clock reads and timer
// resets, which on a small machine was a tenth of net/http's whole cost per
// request.
type connState struct {
	conn net.Conn
	// phase packs the phase (low 2 bits) and the coarse clock at its start.
	phase atomic.Uint64
	// handlers counts this connection's requests inside the server's
	// handler: several at once with HTTP/2.
	handlers atomic.Int32
}

func (c *connState) set(phase uint64, now time.Duration) {
	c.phase.Store(uint64(now)<<2 | phase)
}

func (c *connState) get() (phase uint64, since time.Duration) {
	v := c.phase.Load()
	return v & 3, time.Duration(v >> 2)
}

// connTracker keeps the server's open connections and closes those past
// their limits.
type connTracker struct {
	header, idle, write time.Duration
	now                 atomic.Int64 // the coarse clock: the pool's clock at the last sweep
	conns               sync.Map     // net.Conn → *connState
}

func (t *connTracker) clock() time.Duration { return time.Duration(t.now.Load()) }

// open registers a new connection; it is net/http's ConnContext.
func (t *connTracker) open(c net.Conn) *connState {
	cs := &connState{conn: c}
	cs.set(phaseNew, t.clock())
	t.conns.Store(c, cs)
	return cs
}

// hook follows net/http's view of a connection; it is net/http's ConnState.
func (t *connTracker) hook(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateActive, http.StateIdle:
		v, ok := t.conns.Load(c)
		if !ok {
			return
		}
		phase := uint64(phaseActive)
		if state == http.StateIdle {
			phase = phaseIdle
		}
		v.(*connState).set(phase, t.clock())
	case http.StateHijacked, http.StateClosed:
		t.conns.Delete(c)
	}
}

// enter and leave bracket a request's time in the handler.
func (t *connTracker) enter(cs *connState) { cs.handlers.Add(1) }

func (t *connTracker) leave(cs *connState) {
	if cs.handlers.Add(-1) == 0 {
		cs.set(phaseWriting, t.clock())
	}
}

// closeNew closes the connections that have not begun a request. A
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
// their limit: headers not read within the header timeout (counting from
// accept for the first request), a response not written within the write
// timeout, a keep-alive connection idle past the idle timeout. It returns
// how many it closed.
func (t *connTracker) sweep(now time.Duration) int {
	t.now.Store(int64(now))
	closed := 0
	t.conns.Range(func(k, v any) bool {
		cs := v.(*connState)
		phase, since := cs.get()
		var limit time.Duration
		switch {
		case cs.handlers.Load() > 0:
			return true // the request timeout governs handlers
		case phase == phaseNew || phase == phaseActive:
			limit = t.header
		case phase == phaseWriting:
			limit = t.write
		case phase == phaseIdle:
			limit = t.idle
		}
		if limit > 0 && now-since > limit {
			cs.conn.Close()
			t.conns.Delete(k)
			closed++
		}
		return true
	})
	return closed
}
