package hatago

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hatago/hatago/bind"
	"github.com/hatago/hatago/control"
	"github.com/hatago/hatago/internal/logfile"
	"github.com/hatago/hatago/pool"
	"github.com/hatago/hatago/resource"
)

// Server serves one http.Handler through a bounded pool of slots, with the
// timeouts, limits, stats and control plane of Config. Make one with New,
// then Start it and Shutdown (or Close) it; Run does all three. A Server's
// methods are safe for concurrent use.
type Server struct {
	cfg     Config
	binds   []bind.Bind
	handler http.Handler
	pool    *pool.Pool
	conns   connTracker
	http    *http.Server
	control *control.Server // nil without ControlURL
	log     *slog.Logger

	retryAfter string
	haltCtx    context.Context // cancelled by Close: cuts a graceful stop short
	halt       context.CancelFunc
	serving    sync.WaitGroup // Serve loops and the reaper
	accepting  sync.WaitGroup // Serve loops: done once each has registered its last connection
	reaperStop chan struct{}
	stopOnce   sync.Once
	done       chan struct{} // closed when a stop has finished
	stopErr    error         // set before done is closed

	panics   atomic.Uint64
	timedOut atomic.Uint64

	// Cluster mode (see cluster.go): a worker serves on the sockets the
	// master passed, through the accept gate; a master's control server
	// is its own.
	passed        []net.Listener
	gate          *acceptGate
	masterControl atomic.Pointer[control.Server]
	logFile       *logfile.File
	ownLogger     bool // Config.Logger was set: LogFile does not replace it

	mu        sync.Mutex // guards the fields below
	started   bool
	stopping  bool // a stop has begun: Start must not serve
	startedAt time.Time
	listeners []net.Listener
	slots     []*slotState // by slot index; nil for slots not running
}

// slotState is what the server hangs on each slot: its resources and the
// reusable wrappers of the request it serves.
type slotState struct {
	res  *resource.Set
	rw   responseWriter
	body limitedBody
}

var _ control.Target = (*Server)(nil)

// freezer is a handler that must not change once serving starts, such as a
// middleware.Stack; Start freezes it.
type freezer interface{ Freeze() }

// New checks cfg and returns a Server for h. It does no I/O. An invalid
// field gives a *ConfigError naming it.
func New(h http.Handler, cfg Config) (*Server, error) {
	if h == nil {
		return nil, &ConfigError{Field: "handler", Reason: "is nil"}
	}
	ownLogger := cfg.Logger != nil
	cfg, binds, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		ownLogger:  ownLogger,
		cfg:        cfg,
		binds:      binds,
		handler:    h,
		log:        cfg.Logger,
		retryAfter: strconv.Itoa(int((cfg.RetryAfter + time.Second - 1) / time.Second)),
		reaperStop: make(chan struct{}),
		done:       make(chan struct{}),
		slots:      make([]*slotState, cfg.MaxSlots),
	}
	s.haltCtx, s.halt = context.WithCancel(context.Background())
	s.pool = pool.New(pool.Config{
		Min:         cfg.MinSlots,
		Max:         cfg.MaxSlots,
		Backlog:     cfg.Backlog,
		IdleTimeout: cfg.SlotIdleTimeout,
		MaxWait:     cfg.RequestTimeout,
		OnStart:     s.openSlot,
		OnStop:      s.closeSlot,
	})
	s.http = &http.Server{
		Handler: http.HandlerFunc(s.serve),
		// Header, idle and write limits are the reaper's (see connState),
		// so net/http sets no deadlines of its own.
		MaxHeaderBytes: cfg.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		ConnState:      s.conns.hook,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return s.conns.open(ctx, c, cfg.RequestTimeout > 0)
		},
	}
	s.conns.header, s.conns.idle, s.conns.mono = cfg.HeaderTimeout, cfg.IdleTimeout, s.pool.Clock
	if cfg.ControlURL != "" {
		s.control, err = control.New(control.Config{URL: cfg.ControlURL, Token: cfg.ControlToken, Target: s, Logger: cfg.Logger})
		if err != nil {
			return nil, configErr("ControlURL", "--control-url", "%v", err)
		}
	}
	return s, nil
}

// settleNew is a graceful stop's first step, taken with the listeners
// closed and before net/http's Shutdown: net/http drops, unanswered, any
// request it reads once Shutdown has begun, so a connection accepted just
// before the stop must deliver its first request to the handler first.
// settleNew waits until every connection has done so or been closed by
// closeNew as a silent spare, or until ctx ends.
func (s *Server) settleNew(ctx context.Context) {
	t := time.NewTicker(newConnGrace / 10)
	defer t.Stop()
	silent := 0
	defer func() {
		if silent > 0 {
			s.log.Info("hatago: stopping: closed connections that sent no request", "connections", silent, "grace", newConnGrace)
		}
	}()
	for {
		s.conns.now.Store(int64(s.pool.Clock()))
		left, closed := s.conns.closeNew(newConnGrace)
		silent += closed
		if left == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// slotStartTimeout bounds opening a slot's resources.
const slotStartTimeout = 30 * time.Second

// openSlot is the pool's OnStart: it opens the slot's resources. A slot
// outlives the request that started it, so that request's cancellation
// (its client leaving, say) does not cut the opening short; a timeout of
// its own bounds it instead.
func (s *Server) openSlot(ctx context.Context, slot *pool.Slot) error {
	st := &slotState{rw: responseWriter{writeTimeout: s.cfg.WriteTimeout, clock: s.conns.clock}}
	if len(s.cfg.Resources) > 0 {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), slotStartTimeout)
		defer cancel()
		set, err := resource.Open(ctx, slot.Index(), s.cfg.Resources)
		if err != nil {
			s.log.Error("hatago: slot failed to open its resources", "slot", slot.Index(), "err", err)
			return err
		}
		st.res = set
	}
	slot.Data = st
	s.mu.Lock()
	s.slots[slot.Index()] = st
	s.mu.Unlock()
	return nil
}

// closeSlot is the pool's OnStop: it closes the slot's resources.
func (s *Server) closeSlot(slot *pool.Slot) {
	st := slot.Data.(*slotState)
	s.mu.Lock()
	if s.slots[slot.Index()] == st {
		s.slots[slot.Index()] = nil
	}
	s.mu.Unlock()
	if st.res != nil {
		if err := st.res.Close(); err != nil {
			s.log.Error("hatago: closing a slot's resources", "slot", slot.Index(), "err", err)
		}
	}
}

// Start opens the MinSlots slots, listens on every bind (using sockets
// inherited from systemd socket activation where they match), starts the
// control server, and serves in the background. A handler with a Freeze
// method, such as a middleware.Stack, is frozen first. It returns at once with the
// first error, having undone what it did. Start may be called once, and
// not once a stop has begun: it then returns an error wrapping
// ErrShuttingDown.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("hatago: Start called twice")
	}
	if s.stopping {
		s.mu.Unlock()
		return fmt.Errorf("hatago: Start after a stop: %w", ErrShuttingDown)
	}
	s.started = true
	s.mu.Unlock()

	// A handler that can be frozen (a middleware.Stack) is, before the
	// first request: adding middleware while goroutines serve the chain
	// would be a race, so from here on it panics instead.
	if f, ok := s.handler.(freezer); ok {
		f.Freeze()
	}
	if err := s.pool.Start(ctx); err != nil {
		return fmt.Errorf("hatago: start slots: %w", err)
	}
	ls := s.passed
	if ls == nil {
		var err error
		if ls, err = s.listen(ctx); err != nil {
			s.closePool()
			return err
		}
	}
	if s.control != nil {
		if err := s.control.Start(ctx); err != nil {
			for _, l := range ls {
				l.Close()
			}
			s.closePool()
			return fmt.Errorf("hatago: control server: %w", err)
		}
	}

	s.conns.now.Store(int64(s.pool.Clock())) // before the first connection
	s.mu.Lock()
	if s.stopping {
		// A stop (from the control server, say) began meanwhile: undo.
		s.mu.Unlock()
		for _, l := range ls {
			l.Close()
		}
		if s.control != nil {
			_ = s.control.Shutdown(ctx)
		}
		s.closePool()
		return fmt.Errorf("hatago: start: %w", ErrShuttingDown)
	}
	for i, l := range ls {
		ls[i] = &onceListener{Listener: l}
	}
	s.listeners = ls
	s.startedAt = time.Now().UTC()
	// Counted under s.mu, which a stop takes before it waits for them.
	s.serving.Add(len(ls) + 1)
	s.accepting.Add(len(ls))
	s.mu.Unlock()
	for _, l := range ls {
		go func() {
			defer s.serving.Done()
			defer s.accepting.Done()
			if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				s.log.Error("hatago: serve stopped", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	go s.reap()
	attrs := []any{"slots", fmt.Sprintf("%d:%d", s.cfg.MinSlots, s.cfg.MaxSlots), "backlog", s.cfg.Backlog, "pid", os.Getpid()}
	for _, l := range ls {
		attrs = append(attrs, "listen", listenerURL(l))
	}
	if s.control != nil {
		attrs = append(attrs, "control", s.control.URL())
	}
	s.log.Info("hatago: serving", attrs...)
	return nil
}

// listen opens the listeners of the binds, taking sockets from systemd
// socket activation where they match.
func (s *Server) listen(ctx context.Context) ([]net.Listener, error) {
	inherited, err := bind.Systemd(os.Getenv, true)
	if err != nil {
		return nil, fmt.Errorf("hatago: systemd sockets: %w", err)
	}
	binds := s.binds
	if len(inherited) > 0 && len(s.cfg.Binds) == 1 && s.cfg.Binds[0] == DefaultBind {
		binds = nil // socket-activated with no binds of our own: serve what systemd gave
	}
	ls, err := bind.ListenAll(ctx, binds, inherited)
	if err != nil {
		closeInherited(inherited, nil)
		return nil, fmt.Errorf("hatago: listen: %w", err)
	}
	if binds == nil {
		for _, in := range inherited {
			ls = append(ls, in.Listener)
		}
	} else {
		closeInherited(inherited, ls)
	}
	return ls, nil
}

// onceListener closes its listener once and reports that close's error
// after: a stop closes the listeners before net/http's Shutdown, which
// closes them again.
type onceListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

func listenerURL(l net.Listener) string {
	a := l.Addr()
	if a.Network() == "unix" {
		return "unix://" + a.String()
	}
	return "tcp://" + a.String()
}

// closeInherited closes the systemd sockets that no bind took.
func closeInherited(inherited []bind.Inherited, taken []net.Listener) {
	for _, in := range inherited {
		used := false
		for _, l := range taken {
			used = used || l == in.Listener
		}
		if !used {
			in.Listener.Close()
		}
	}
}

func (s *Server) closePool() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	_ = s.pool.Close(ctx)
}

// Addrs returns the addresses the server listens on, in the order of
// Config.Binds; empty before Start.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		addrs[i] = l.Addr()
	}
	return addrs
}

// BindURLs returns the configured bind URLs in canonical form.
func (s *Server) BindURLs() []string {
	urls := make([]string, len(s.binds))
	for i, b := range s.binds {
		urls[i] = b.String()
	}
	return urls
}

// ControlURL returns the control server's URL (with the real port when
// ControlURL asked for port 0), or "" without a control server.
func (s *Server) ControlURL() string {
	if c := s.masterControl.Load(); c != nil {
		return c.URL()
	}
	if s.control == nil {
		return ""
	}
	return s.control.URL()
}

// ControlToken returns the control server's token: Config.ControlToken or
// the one made at New.
func (s *Server) ControlToken() string {
	if s.control == nil {
		return ""
	}
	return s.control.Token()
}

// Done returns a channel closed when the server has stopped, whoever
// stopped it: Shutdown, Close, or the control server.
func (s *Server) Done() <-chan struct{} { return s.done }

// Shutdown stops the server gracefully: it stops accepting (new
// connections are refused) and closes idle connections. A connection
// accepted just before gets a moment (a quarter of a second, longer while
// its request waits unread in the socket) to deliver its first request,
// which is served; one that stays silent is closed. Admitted requests
// finish, including those waiting in the backlog, and then the slots
// and their resources close. If ctx ends first, requests still waiting are
// answered 503, running ones have their context cancelled, and every
// connection is closed; Shutdown then returns an error saying how many
// requests did not finish. Shutdown is idempotent: later calls wait for the
// first (or for their own ctx) and return its result.
func (s *Server) Shutdown(ctx context.Context) error {
	first := false
	s.stopOnce.Do(func() {
		first = true
		s.mu.Lock()
		s.stopping = true
		s.mu.Unlock()
		s.stopErr = s.stop(ctx)
		close(s.done)
	})
	if first {
		return s.stopErr
	}
	select {
	case <-s.done:
		return s.stopErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server at once: connections are closed and request
// contexts cancelled without waiting. It cuts short a Shutdown under way.
func (s *Server) Close() error {
	s.halt()
	return s.Shutdown(context.Background())
}

// Stop begins a graceful stop bounded by Config.ShutdownTimeout and
// returns at once; Done tells when it is over. The control server's stop
// command calls it.
func (s *Server) Stop() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
}

// Halt begins an immediate stop, as Close, and returns at once; Done tells
// when it is over. The control server's halt command calls it.
func (s *Server) Halt() {
	s.halt()
	go func() { _ = s.Shutdown(context.Background()) }()
}

// forceGrace is how long, past a stop's deadline, waiting requests get to
// send their 503 and cancelled handlers get to return before their
// connections are cut.
const forceGrace = 500 * time.Millisecond

func (s *Server) stop(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.haltCtx, cancel)()

	ps := s.pool.Stats()
	s.log.Info("hatago: stopping", "busy", ps.Busy, "backlog", ps.Backlog)

	// Stop accepting, answer with Connection: close from here on (idle
	// connections close now; clients retry a request that crossed that
	// close on a used connection), and let connections accepted just
	// before the stop deliver their first request.
	s.mu.Lock()
	for _, l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	s.http.SetKeepAlivesEnabled(false)
	// A connection Accept returned just before the close is registered
	// (ConnContext) only on the Serve loop's way back to Accept: wait for
	// the loops to end, so settleNew sees every connection there is.
	accepted := make(chan struct{})
	go func() { s.accepting.Wait(); close(accepted) }()
	select {
	case <-accepted:
	case <-ctx.Done():
	}
	s.settleNew(ctx)

	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		ps := s.pool.Stats()
		errs = append(errs, fmt.Errorf("hatago: stop: deadline passed with %d requests running and %d waiting: %w", ps.Busy, ps.Backlog, err))
		// Out of time: answer the backlog, cancel the handlers, and give
		// both a moment before cutting every connection.
		wait := forceGrace
		if s.haltCtx.Err() != nil {
			wait = 0 // halted: no grace
		}
		grace, cancelGrace := context.WithTimeout(context.Background(), wait)
		_ = s.pool.Close(ctx) // wakes the backlog first: each waiter answers 503
		s.cancelRequests(ErrShuttingDown)
		_ = s.http.Shutdown(grace) // lets those answers go out, and cancelled handlers return
		cancelGrace()
		s.http.Close()
	}
	close(s.reaperStop)
	s.serving.Wait()
	// Closes the idle slots' resources; busy ones close when released.
	already, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := s.pool.Close(already); err != nil && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("hatago: stop: %w", err))
	}
	if s.control != nil {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		if err := s.control.Shutdown(cctx); err != nil {
			errs = append(errs, fmt.Errorf("hatago: control server: %w", err))
		}
		ccancel()
	}
	err := errors.Join(errs...)
	if err != nil {
		s.log.Warn("hatago: stopped before every request finished", "err", err)
	} else {
		s.log.Info("hatago: stopped")
	}
	return err
}

// cancelRequests cancels the context of every request in flight with
// cause. Requests served without a RequestTimeout have no context of the
// server's own to cancel: closing their connections cancels them.
func (s *Server) cancelRequests(cause error) {
	s.mu.Lock()
	slots := append([]*slotState(nil), s.slots...)
	s.mu.Unlock()
	for _, st := range slots {
		if st != nil {
			st.rw.cancelActive(cause)
		}
	}
}

// serve is the http.Handler that net/http runs: it admits the request onto
// a slot and runs the user's handler there.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var began time.Time // for the access log of requests refused before a slot
	if s.cfg.AccessLog {
		began = time.Now()
	}
	if s.cfg.MaxBodyBytes > 0 && r.ContentLength > s.cfg.MaxBodyBytes {
		closeConn(w, r)
		status, n := s.answer(w, r, ErrBodyTooLarge)
		s.logAccess(r, status, n, time.Since(began), 0, -1)
		return
	}
	if g := s.gate; g != nil {
		g.enter()
		defer g.leave()
	}
	conn, _ := r.Context().Value(connKey{}).(*connState)
	if conn != nil {
		s.conns.enter(conn)
		defer s.conns.leave(conn)
	}
	slot, err := s.pool.Acquire(r.Context())
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// The client left while waiting. Returning would let net/http
			// answer 200 for a request never served, to a client that may
			// still read (one that half-closed): drop the connection.
			panic(http.ErrAbortHandler)
		}
		switch {
		case errors.Is(err, pool.ErrWaitTimeout):
			s.timedOut.Add(1)
			closeConn(w, r)
			err = ErrRequestTimeout
		case errors.Is(err, ErrBacklogFull):
			w.Header().Set("Retry-After", s.retryAfter)
		case errors.Is(err, ErrShuttingDown):
			w.Header().Set("Connection", "close")
		}
		status, n := s.answer(w, r, err)
		s.logAccess(r, status, n, time.Since(began), time.Since(began), -1)
		return
	}
	st := slot.Data.(*slotState)

	var cancel context.CancelCauseFunc
	var deadline time.Duration
	if s.cfg.RequestTimeout > 0 {
		deadline = slot.Arrived() + s.cfg.RequestTimeout
	}
	req := r
	h1 := conn != nil && r.ProtoMajor == 1
	if h1 {
		// See connState: the request's context is net/http's, under the
		// connection's.
		cancel = conn.cancel
		conn.info.set(slot.Index(), slot.Queued(), st.res)
	} else {
		parent := r.Context()
		if s.cfg.RequestTimeout > 0 {
			parent, cancel = context.WithCancelCause(parent)
		}
		rc := &requestContext{Context: parent}
		rc.info.set(slot.Index(), slot.Queued(), st.res)
		req = r.WithContext(rc)
	}
	rw := &st.rw
	rw.begin(w, r, conn, deadline, cancel)
	if s.cfg.MaxBodyBytes > 0 && r.Body != nil && r.Body != http.NoBody {
		st.body.reset(r.Body, s.cfg.MaxBodyBytes, rw)
		req.Body = &st.body
	}

	panicked, stack := s.invoke(rw, req)

	o := rw.end()
	if h1 {
		conn.info.clear()
		if conn.Err() != nil {
			// Canceled by a timeout or a forced stop: every later request
			// on the connection would start canceled.
			closeConn(w, r)
		}
	} else if cancel != nil {
		cancel(context.Canceled)
	}
	status, written, answered := o.status, o.written, o.answered
	abort := false
	switch {
	case o.cut:
		abort = true // the client stopped reading: drop what is left
	case panicked != nil && panicked != http.ErrAbortHandler:
		s.panics.Add(1)
		s.log.Error("hatago: handler panic", "method", r.Method, "path", r.URL.Path, "slot", slot.Index(),
			"panic", fmt.Sprint(panicked), "stack", string(stack))
		if answered {
			abort = true
		} else {
			closeConn(w, r)
			status, written = s.answer(w, r, &PanicError{Value: panicked, Stack: stack})
		}
	case panicked != nil:
		abort = true
	case o.timedOut && !answered:
		closeConn(w, r)
		status, written = s.answer(w, r, ErrRequestTimeout)
	case o.timedOut:
		abort = true // the response was begun and cannot be completed
	case status == 0 && o.bodyTooLarge:
		closeConn(w, r)
		status, written = s.answer(w, r, ErrBodyTooLarge)
	case status == 0:
		status = http.StatusOK
	}
	if s.cfg.AccessLog {
		s.logAccess(r, status, written, s.pool.Clock()-slot.Arrived(), slot.Queued(), slot.Index())
	}
	s.pool.Release(slot)
	if abort {
		// Tell net/http to drop the connection (HTTP/1) or reset the
		// stream (HTTP/2), without a log line: the client must not take a
		// cut-off response for a whole one.
		panic(http.ErrAbortHandler)
	}
}

// closeConn asks net/http to close an HTTP/1 connection after the response,
// which is all that failed. On HTTP/2 the header would close the whole
// connection, with every other stream on it, so it is left out there.
func closeConn(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

// answer runs ErrorHandler for err and returns the status and body bytes it
// sent.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, err error) (status int, written int64) {
	rec := statusRecorder{ResponseWriter: w}
	s.cfg.ErrorHandler(&rec, r, err)
	if rec.status == 0 {
		rec.status = http.StatusOK // what net/http sends for an empty answer
	}
	return rec.status, rec.written
}

// statusRecorder notes what an ErrorHandler sends.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 && (code < 100 || code > 199) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAccess writes a request's access log line, if the access log is on.
// slot is -1 for a request refused before it got one.
func (s *Server) logAccess(r *http.Request, status int, written int64, duration, queued time.Duration, slot int) {
	if !s.cfg.AccessLog {
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", written),
		slog.Duration("duration", duration),
		slog.Duration("queue", queued),
		slog.Int("slot", slot),
		slog.String("remote", r.RemoteAddr))
}

// invoke runs the handler, recovering a panic with its stack.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request) (panicked any, stack []byte) {
	defer func() {
		if v := recover(); v != nil {
			panicked = v
			if v != http.ErrAbortHandler {
				stack = debug.Stack()
			}
		}
	}()
	s.handler.ServeHTTP(w, r)
	return nil, nil
}

// reap enforces the time limits: it ends requests that ran past
// RequestTimeout and closes connections past the header, idle and write
// timeouts (see connTracker). It looks ten times per shortest limit (twenty
// for RequestTimeout), at most every second and at least every 5ms.
func (s *Server) reap() {
	defer s.serving.Done()
	every := min(s.cfg.HeaderTimeout, s.cfg.IdleTimeout) / 10
	if s.cfg.WriteTimeout > 0 {
		every = min(every, s.cfg.WriteTimeout/10)
	}
	if s.cfg.RequestTimeout > 0 {
		every = min(every, s.cfg.RequestTimeout/20)
	}
	every = min(max(every, 5*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	var slots []*slotState
	for {
		select {
		case <-s.reaperStop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		slots = append(slots[:0], s.slots...)
		s.mu.Unlock()
		now := s.pool.Clock()
		s.conns.sweep(now)
		for i, st := range slots {
			if st == nil {
				continue
			}
			if st.rw.expire(now, s) {
				s.log.Warn("hatago: request timed out", "slot", i, "timeout", s.cfg.RequestTimeout)
			} else if st.rw.cutStalled(now) {
				s.log.Warn("hatago: response cut: the client stopped reading", "slot", i, "write_timeout", s.cfg.WriteTimeout)
			}
		}
	}
}

// Stats returns the server's stats document: Puma's single-mode fields and
// Hatago's extras.
func (s *Server) Stats() control.Stats {
	ps := s.pool.Stats()
	s.mu.Lock()
	started := s.startedAt
	s.mu.Unlock()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	var heap uint64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		heap = sample[0].Value.Uint64()
	}
	return control.Stats{
		StartedAt:     started,
		Backlog:       ps.Backlog,
		Running:       ps.Running,
		PoolCapacity:  ps.Capacity(),
		BusyThreads:   ps.Busy,
		MaxThreads:    ps.Max,
		RequestsCount: ps.Requests,
		BacklogMax:    ps.BacklogMax,
		MinThreads:    ps.Min,
		BacklogLimit:  ps.BacklogLimit,
		Rejected:      ps.Rejected,
		TimedOut:      s.timedOut.Load(),
		Panics:        s.panics.Load(),
		SlotsStarted:  ps.Started,
		SlotsTrimmed:  ps.Trimmed,
		QueueTime:     percentiles(ps.QueueTime, ps.Requests, ps.QueueTimeTotal),
		Latency:       percentiles(ps.Latency, ps.Requests, ps.LatencyTotal),
		Goroutines:    runtime.NumGoroutine(),
		HeapBytes:     heap,
		RSSBytes:      residentBytes(),
		PID:           os.Getpid(),
		Version:       version(),
	}
}

func percentiles(s pool.Summary, total uint64, sum time.Duration) control.Percentiles {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return control.Percentiles{Count: s.Count, P50: ms(s.P50), P90: ms(s.P90), P99: ms(s.P99), Max: ms(s.Max),
		TotalCount: total, TotalSeconds: sum.Seconds()}
}

// version returns the main module's version, as the build recorded it.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/hatago/hatago" {
				return d.Version
			}
		}
		return bi.Main.Version
	}
	return ""
}
