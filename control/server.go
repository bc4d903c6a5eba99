package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors returned by [Server.Start].
var (
	// ErrStarted is returned by Start when the server was started already.
	ErrStarted = errors.New("control: server already started")
	// ErrClosed is returned by Start after Shutdown.
	ErrClosed = errors.New("control: server closed")
	// ErrNotSocket is returned by Start when a unix:// URL names a path
	// that exists and is not a socket. The file is left alone.
	ErrNotSocket = errors.New("control: path exists and is not a socket")
	// ErrInUse is returned by Start when a unix:// URL names a socket
	// that another process is listening on.
	ErrInUse = errors.New("control: socket in use by a running server")
)

// Timeouts of the control server's http.Server. Control requests are
// small; a goroutine dump of a large process is the slowest answer.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	staleDialTimeout  = time.Second

	// clusterStatsTimeout bounds how long /stats and /metrics wait for a
	// cluster's workers, so that a hung worker cannot hang them: the
	// master answers with its last check-in instead.
	clusterStatsTimeout = 500 * time.Millisecond
)

// notClusterMessage is the error text of a cluster command sent to a
// server whose Target is not a [ClusterTarget].
const notClusterMessage = "not in cluster mode (start with -w N)"

// Config configures a control [Server]. The zero value is not valid: URL
// and Target are required.
type Config struct {
	// URL is where the server listens: tcp://HOST:PORT (port 0 picks a
	// free port) or unix:///PATH. A unix socket file is created with mode
	// 0600 and removed at Shutdown.
	URL string
	// Token authenticates every request. If empty, New generates a random
	// token; read it with Server.Token. Start logs a generated token once.
	// It must be printable ASCII without spaces.
	Token string
	// Target is the server being controlled. Its Stop and Halt must return
	// at once (as the Target interface requires): they run on goroutines
	// that Shutdown waits for. If it is also a [ClusterTarget] (a
	// cluster's master), /stats and /metrics report the cluster and the
	// cluster commands (/restart, /phased-restart, /worker-count-up,
	// /worker-count-down) are served; otherwise those answer 501.
	Target Target
	// Logger receives the listening address, refused requests, stop,
	// halt and cluster commands (and the master's refusals and Restart
	// errors) and recovered panics. Nil discards them.
	Logger *slog.Logger
}

// Server is a control server: an HTTP server on a TCP or unix socket that
// reports stats of a [Target] and stops or halts it, after checking a
// token; for a [ClusterTarget] it also restarts it and changes its
// number of workers. Its methods are safe for concurrent use.
type Server struct {
	target    Target
	cluster   ClusterTarget // target, if it is a cluster's master; else nil
	logger    *slog.Logger
	addr      address
	token     string
	tokenSum  [sha256.Size]byte
	generated bool // token made by New, so Start logs it

	actions sync.WaitGroup // Target.Stop and Target.Halt calls in flight

	mu            sync.Mutex // guards the fields below
	state         serverState
	ln            net.Listener
	srv           *http.Server
	closing       chan struct{} // closed once the http.Server has stopped
	done          chan struct{} // closed once Serve and all actions returned
	actionsClosed bool          // no more actions.Add; run actions inline
	shutdownErr   error
	newConns      map[net.Conn]struct{} // accepted, no request read yet
}

type serverState int

const (
	stateNew serverState = iota
	stateStarting
	stateRunning
	stateClosed
)

// New validates cfg and returns a server that is not yet listening. It
// does no I/O. Errors are *[ConfigError] values naming the field, for
// example `control: URL: unsupported scheme "ftp" (want tcp or unix)`.
func New(cfg Config) (*Server, error) {
	addr, err := parseURL("URL", cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Target == nil {
		return nil, &ConfigError{Field: "Target", Msg: "nil (want the server to control)"}
	}
	if err := checkToken("Token", cfg.Token); err != nil {
		return nil, err
	}
	cluster, _ := cfg.Target.(ClusterTarget)
	s := &Server{
		target:  cfg.Target,
		cluster: cluster,
		logger:  cfg.Logger,
		addr:    addr,
		token:   cfg.Token,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.token == "" {
		s.token = newToken()
		s.generated = true
	}
	s.tokenSum = sha256.Sum256([]byte(s.token))
	return s, nil
}

// newToken returns 32 random hex digits.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

// Token returns the token requests must carry: Config.Token or the one
// New generated. It is safe for concurrent use.
func (s *Server) Token() string { return s.token }

// Addr returns the address the server listens on, or nil before Start.
// It is safe for concurrent use.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL returns the control URL clients should use: after Start, the
// actual address (so tcp://127.0.0.1:0 becomes tcp://127.0.0.1:PORT);
// before, the configured one in normal form. It is safe for concurrent use.
func (s *Server) URL() string {
	if a := s.Addr(); a != nil && s.addr.network == "tcp" {
		return "tcp://" + a.String()
	}
	return s.addr.String()
}

// Start listens on the configured URL and serves in a goroutine that
// Shutdown waits for. ctx bounds only the listening: cancelling it later
// does not stop the server; Shutdown does.
//
// Start returns listen errors at once. For a unix:// URL it first removes
// a stale socket file (one nobody listens on); it returns an error
// wrapping [ErrNotSocket] if the path is another kind of file and
// [ErrInUse] if a server listens on it. It returns [ErrStarted] if called
// twice and [ErrClosed] after Shutdown. It is safe for concurrent use.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case stateStarting, stateRunning:
		s.mu.Unlock()
		return ErrStarted
	case stateClosed:
		s.mu.Unlock()
		return ErrClosed
	}
	s.state = stateStarting
	s.mu.Unlock()

	ln, err := s.listen(ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.state == stateStarting {
			s.state = stateNew
		}
		return err
	}
	if s.state == stateClosed { // Shutdown ran while we listened
		ln.Close()
		return ErrClosed
	}
	s.state = stateRunning
	s.ln = ln
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		ConnState:         s.trackConn,
	}
	s.srv.RegisterOnShutdown(s.closeNewConns)
	s.newConns = make(map[net.Conn]struct{})
	s.closing = make(chan struct{})
	s.done = make(chan struct{})
	srv, closing, done := s.srv, s.closing, s.done
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("control: serve failed", "url", s.addr.String(), "err", err)
		}
		<-closing
		s.actions.Wait()
	}()

	url := s.addr.String()
	if s.addr.network == "tcp" {
		url = "tcp://" + ln.Addr().String()
	}
	if s.generated {
		s.logger.Info("control: listening", "url", url, "token", s.token)
	} else {
		s.logger.Info("control: listening", "url", url)
	}
	return nil
}

// listen opens the listener, preparing and securing a unix socket path.
func (s *Server) listen(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	if s.addr.network == "tcp" {
		ln, err := lc.Listen(ctx, "tcp", s.addr.address)
		if err != nil {
			return nil, fmt.Errorf("control: listen %s: %w", s.addr, err)
		}
		return ln, nil
	}
	path := s.addr.address
	if err := removeStaleSocket(ctx, path); err != nil {
		return nil, err
	}
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		if len(path) > 103 {
			return nil, fmt.Errorf("control: listen %s: %w (socket paths must be shorter than 104 bytes)", s.addr, err)
		}
		return nil, fmt.Errorf("control: listen %s: %w", s.addr, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: listen %s: %w", s.addr, err)
	}
	return ln, nil
}

// removeStaleSocket removes the socket file at path if no one listens on
// it. A missing path is fine; any other kind of file is an error.
func removeStaleSocket(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control: listen unix://%s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s is a %s; remove it or choose another path", ErrNotSocket, path, fileKind(fi.Mode()))
	}
	d := net.Dialer{Timeout: staleDialTimeout}
	conn, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		conn.Close()
		return fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("control: listen unix://%s: checking existing socket: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control: listen unix://%s: removing stale socket: %w", path, err)
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	default:
		return "non-socket file"
	}
}

// Shutdown stops the server: it stops accepting, waits for requests in
// flight and for the Target.Stop and Target.Halt calls they started, and
// removes a unix socket file. If ctx ends first, it closes the remaining
// connections and returns ctx.Err(). It is idempotent and safe for
// concurrent use: later calls wait for the first to finish and return its
// error. Shutdown before Start returns nil and makes Start fail.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	prev := s.state
	s.state = stateClosed
	srv, closing, done := s.srv, s.closing, s.done
	s.mu.Unlock()
	if done == nil { // never started
		return nil
	}
	if prev == stateRunning {
		err := srv.Shutdown(ctx)
		if err != nil {
			srv.Close()
			err = fmt.Errorf("control: shutdown: %w", err)
		}
		s.mu.Lock()
		s.actionsClosed = true
		s.shutdownErr = err
		s.mu.Unlock()
		close(closing)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdownErr
}

// trackConn records which connections have not begun a request.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew {
		s.newConns[c] = struct{}{}
	} else {
		delete(s.newConns, c)
	}
}

// closeNewConns closes the connections that have not begun a request.
// http.Server.Shutdown runs it once the listener is closed; without it,
// Shutdown would wait five seconds for each, and clients such as
// http.Transport dial spare connections that they may never use.
func (s *Server) closeNewConns() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.newConns))
	for c := range s.newConns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// serveHTTP authenticates, routes and recovers panics of one request.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger.Error("control: handler panicked", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", p))
		}
	}()
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if !s.authorize(w, r) {
		return
	}
	rt, ok := routes[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown path %q (want one of %s)", r.URL.Path, commandPaths()))
		return
	}
	if !rt.allows(r.Method) {
		h.Set("Allow", strings.Join(rt.methods, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (want %s)", r.Method, r.URL.Path, strings.Join(rt.methods, " or ")))
		return
	}
	rt.handle(s, w, r)
}

// authorize checks the request's token, answering 401 or 403 if it is
// missing or wrong.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := requestToken(r)
	if !ok {
		s.logger.Warn("control: request without token", "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="hatago control"`)
		writeError(w, http.StatusUnauthorized, "missing token: pass ?token=TOKEN or Authorization: Bearer TOKEN")
		return false
	}
	// Comparing digests keeps the time independent of the length too.
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
		s.logger.Warn("control: request with wrong token", "path", r.URL.Path, "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "wrong token")
		return false
	}
	return true
}

// requestToken returns the token of an Authorization: Bearer header or,
// failing that, of the token query parameter.
func requestToken(r *http.Request) (string, bool) {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok, true
		}
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		return tok, true
	}
	return "", false
}

// route is the handler of one path and the methods it accepts.
type route struct {
	methods []string
	handle  func(*Server, http.ResponseWriter, *http.Request)
}

func (rt route) allows(method string) bool {
	for _, m := range rt.methods {
		if m == method {
			return true
		}
	}
	return false
}

var (
	get     = []string{http.MethodGet}
	getPost = []string{http.MethodGet, http.MethodPost}
)

// routes maps paths to handlers. Commands that act accept GET as
// pumactl sends it.
var routes = map[string]route{
	"/stats":             {get, (*Server).handleStats},
	"/gc":                {getPost, (*Server).handleGC},
	"/gc-stats":          {get, (*Server).handleGCStats},
	"/goroutines":        {get, (*Server).handleGoroutines},
	"/thread-backtraces": {get, (*Server).handleGoroutines},
	"/stop":              {getPost, (*Server).handleStop},
	"/halt":              {getPost, (*Server).handleHalt},
	"/restart":           {getPost, (*Server).handleRestart},
	"/phased-restart":    {getPost, (*Server).handlePhasedRestart},
	"/worker-count-up":   {getPost, (*Server).handleWorkerCountUp},
	"/worker-count-down": {getPost, (*Server).handleWorkerCountDown},
	"/metrics":           {get, (*Server).handleMetrics},
}

// handleStats answers the Stats document, or for a cluster the
// ClusterStats document, waiting at most clusterStatsTimeout for the
// workers.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	if s.cluster != nil {
		writeJSON(w, http.StatusOK, s.clusterStats(r.Context()))
		return
	}
	writeJSON(w, http.StatusOK, s.target.Stats())
}

func (s *Server) clusterStats(ctx context.Context) ClusterStats {
	ctx, cancel := context.WithTimeout(ctx, clusterStatsTimeout)
	defer cancel()
	return s.cluster.ClusterStats(ctx)
}

func (s *Server) handleGC(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, runGC())
}

func (s *Server) handleGCStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, readGCStats())
}

func (s *Server) handleGoroutines(w http.ResponseWriter, _ *http.Request) {
	b, err := goroutineDump()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeBody(w, "text/plain; charset=utf-8", b)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	if s.cluster != nil {
		cs := s.clusterStats(r.Context())
		writeClusterMetrics(&b, &cs, time.Now())
	} else {
		_ = WriteMetrics(&b, s.target.Stats()) // a strings.Builder does not fail
	}
	writeBody(w, MetricsContentType, []byte(b.String()))
}

func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "stop", "stopping", s.target.Stop)
}

func (s *Server) handleHalt(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "halt", "halting", s.target.Halt)
}

// handleRestart answers first and then calls Restart, as act does for
// stop: the hot restart replaces the process. An error of Restart is
// logged, the answer having left already.
func (s *Server) handleRestart(w http.ResponseWriter, r *http.Request) {
	c := s.clusterTarget(w)
	if c == nil {
		return
	}
	s.act(w, r, "restart", "restarting", func() {
		if err := c.Restart(); err != nil {
			s.logger.Error("control: restart failed", "err", err)
		}
	})
}

func (s *Server) handlePhasedRestart(w http.ResponseWriter, r *http.Request) {
	s.clusterCommand(w, r, "phased restart", "phased restart started", ClusterTarget.PhasedRestart)
}

func (s *Server) handleWorkerCountUp(w http.ResponseWriter, r *http.Request) {
	s.clusterCommand(w, r, "worker count up", "worker count up", ClusterTarget.WorkerCountUp)
}

func (s *Server) handleWorkerCountDown(w http.ResponseWriter, r *http.Request) {
	s.clusterCommand(w, r, "worker count down", "worker count down", ClusterTarget.WorkerCountDown)
}

// clusterTarget returns the cluster target, or answers 501 and returns
// nil if the server controls a single process.
func (s *Server) clusterTarget(w http.ResponseWriter) ClusterTarget {
	if s.cluster == nil {
		writeError(w, http.StatusNotImplemented, notClusterMessage)
	}
	return s.cluster
}

// clusterCommand calls fn, a ClusterTarget method that returns at once,
// and answers {"message": msg}, or 409 Conflict with the text of its
// error.
func (s *Server) clusterCommand(w http.ResponseWriter, r *http.Request, name, msg string, fn func(ClusterTarget) error) {
	c := s.clusterTarget(w)
	if c == nil {
		return
	}
	s.logger.Info("control: "+name+" requested", "remote", r.RemoteAddr)
	if err := fn(c); err != nil {
		s.logger.Warn("control: "+name+" refused", "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, messageBody{Message: msg})
}

// act answers {"message": msg}, pushes the answer to the client and then
// calls fn on a goroutine that Shutdown waits for, so the client hears
// back even if fn ends the process.
func (s *Server) act(w http.ResponseWriter, r *http.Request, name, msg string, fn func()) {
	s.logger.Info("control: "+name+" requested", "remote", r.RemoteAddr)
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusOK, messageBody{Message: msg})
	_ = http.NewResponseController(w).Flush()

	s.mu.Lock()
	if s.actionsClosed { // Shutdown gave up waiting for requests; run here
		s.mu.Unlock()
		s.runAction(name, fn)
		return
	}
	s.actions.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.actions.Done()
		s.runAction(name, fn)
	}()
}

func (s *Server) runAction(name string, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("control: target panicked", "action", name, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn()
}

type messageBody struct {
	Message string `json:"message"`
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// writeJSON answers v as JSON, or 500 if v cannot be encoded.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error()})
	}
	writeStatusBody(w, status, "application/json", append(b, '\n'))
}

func writeBody(w http.ResponseWriter, contentType string, b []byte) {
	writeStatusBody(w, http.StatusOK, contentType, b)
}

func writeStatusBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
