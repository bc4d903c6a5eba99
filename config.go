package hatago

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/hatago/hatago/bind"
	"github.com/hatago/hatago/resource"
)

// Defaults of Config. A zero field takes its default; where a field says so,
// a negative value turns the limit off.
const (
	DefaultBind            = "tcp://0.0.0.0:8080"
	DefaultMaxSlots        = 16
	DefaultBacklog         = 1024
	DefaultSlotIdleTimeout = 30 * time.Second
	DefaultHeaderTimeout   = 10 * time.Second
	DefaultIdleTimeout     = 20 * time.Second
	DefaultWriteTimeout    = 60 * time.Second
	DefaultRequestTimeout  = 60 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMaxHeaderBytes  = 64 << 10
	DefaultMaxBodyBytes    = 32 << 20
	DefaultRetryAfter      = 1 * time.Second
)

// WorkersAuto as Config.Workers starts one worker per CPU (GOMAXPROCS).
const WorkersAuto = -1

// WorkerInfo tells a worker hook which worker it runs in.
type WorkerInfo struct {
	// Index is the worker's stable index, 0 to Workers-1; a replacement
	// takes the index of the worker it replaces.
	Index int
	// Phase counts the phased restarts before the worker started.
	Phase int
	// PID is the worker's process ID.
	PID int
}

// Config configures a Server. The zero value serves on DefaultBind with the
// defaults above. Fields map to the flags and environment variables of
// Config.Flags and Config.Env, named in each field's comment.
type Config struct {
	// Binds lists where to listen, as URLs: tcp://HOST:PORT,
	// unix:///path.sock, ssl://HOST:PORT?cert=FILE&key=FILE, fd://N (see
	// package bind). Default DefaultBind. Flag -b (repeatable),
	// HATAGO_BIND (comma-separated).
	Binds []string

	// MinSlots and MaxSlots bound the slots: the units of admitted
	// concurrency, Puma's threads. MinSlots are opened at start and kept;
	// more open on demand up to MaxSlots and close after SlotIdleTimeout
	// idle. Defaults 0 and DefaultMaxSlots. Flag -t MIN:MAX (or -t MAX),
	// HATAGO_THREADS.
	MinSlots, MaxSlots int
	// Backlog bounds the requests waiting for a slot when all are busy;
	// past it requests get 503 with Retry-After. Negative: no waiting at
	// all. Default DefaultBacklog. Flag --backlog, HATAGO_BACKLOG.
	Backlog int
	// SlotIdleTimeout is how long a slot above MinSlots stays idle before
	// it closes. Negative: never. Default DefaultSlotIdleTimeout.
	// Flag --slot-idle-timeout, HATAGO_SLOT_IDLE_TIMEOUT.
	SlotIdleTimeout time.Duration

	// HeaderTimeout bounds the time from accepting a connection (a TLS
	// handshake included) to its first request's headers being read: a
	// client that never finishes them is cut off. Later requests on a
	// keep-alive connection are bounded by IdleTimeout. The body is bounded
	// by RequestTimeout, which runs while the handler reads it. Default
	// DefaultHeaderTimeout. Flag --header-timeout.
	HeaderTimeout time.Duration
	// IdleTimeout bounds the time from a handler's return to the next
	// request's headers on the same connection (Puma's persistent_timeout):
	// the rest of the response going out, the wait, the next headers.
	// Default DefaultIdleTimeout. Flag --idle-timeout.
	IdleTimeout time.Duration
	// WriteTimeout bounds writing a response while the handler runs, from
	// its first byte: past it the connection (an HTTP/2 stream) is cut and
	// the handler's writes fail with os.ErrDeadlineExceeded. What net/http
	// sends after the handler returns (at most a buffer's worth) is bounded
	// by IdleTimeout. A handler that sets its own write deadline with
	// http.ResponseController is bounded by that instead, so a long stream
	// can extend its time. Negative: none. Default DefaultWriteTimeout.
	// Flag --write-timeout.
	WriteTimeout time.Duration
	// RequestTimeout is the hard limit on a request, from its arrival
	// (queue time included: a request still waiting for a slot then is
	// answered 503). When it passes, the request's context is
	// cancelled with cause ErrRequestTimeout and, if the handler has not
	// started its response, the client is answered at once (503 through
	// ErrorHandler) and the connection closed. The slot stays busy until
	// the handler returns. Negative: none. Default DefaultRequestTimeout.
	// Flag --request-timeout, HATAGO_REQUEST_TIMEOUT.
	RequestTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers; past it the
	// client gets 431. Default DefaultMaxHeaderBytes. Flag
	// --max-header-bytes.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body; past it the client gets 413
	// (at once when Content-Length says so, or when the handler's read
	// crosses the bound). Negative: none. Default DefaultMaxBodyBytes.
	// Flag --max-body-bytes, HATAGO_MAX_BODY_BYTES.
	MaxBodyBytes int64
	// ShutdownTimeout bounds a graceful stop started by a signal or the
	// control server: past it, remaining requests are cut off. Default
	// DefaultShutdownTimeout. Flag --shutdown-timeout,
	// HATAGO_SHUTDOWN_TIMEOUT.
	ShutdownTimeout time.Duration
	// RetryAfter is the delay sent in Retry-After with a 503 for a full
	// backlog, rounded up to whole seconds. Default DefaultRetryAfter.
	RetryAfter time.Duration

	// ControlURL, if set, starts the control server there
	// (tcp://HOST:PORT or unix:///path.sock; see package control). Flag
	// --control-url, HATAGO_CONTROL_URL.
	ControlURL string
	// ControlToken is the control server's token; when empty a random one
	// is made and logged at start. Flag --control-token,
	// HATAGO_CONTROL_TOKEN.
	ControlToken string

	// Resources are opened for every slot when it starts and closed when
	// it stops; handlers reach them with resource.Key.From.
	Resources []resource.Decl

	// Workers, if positive, runs a cluster: a master process that starts
	// this many worker processes from its own binary, each serving on the
	// master's sockets with the slots above (see package cluster and Run).
	// WorkersAuto means one per CPU. 0 serves in this process alone
	// (single mode). Flag -w N|auto, WEB_CONCURRENCY or HATAGO_WORKERS.
	Workers int
	// WorkerBootTimeout bounds a worker's start, from exec until it
	// serves; past it the worker is killed and started again. Default
	// cluster.DefaultBootTimeout. Flag --worker-boot-timeout.
	WorkerBootTimeout time.Duration
	// WorkerCheckinInterval is how often a worker reports its stats to the
	// master. Default cluster.DefaultCheckinInterval. Flag
	// --worker-checkin-interval.
	WorkerCheckinInterval time.Duration
	// WorkerTimeout is how long a worker may go without checking in
	// before the master kills and replaces it (Puma's worker_timeout).
	// Default cluster.DefaultWorkerTimeout. Flag --worker-timeout.
	WorkerTimeout time.Duration
	// RecycleRequests, if positive, replaces a worker after about this
	// many requests; RecycleBytes after its resident memory passes about
	// this many bytes. Each worker's limit is drawn up to 10% lower, so
	// workers do not come due together, and one is replaced at a time.
	// Flags --recycle-requests and --recycle-memory (bytes, or with a
	// unit: 512MB, 1GiB).
	RecycleRequests uint64
	RecycleBytes    uint64
	// WorkerCull says which worker goes when the count goes down:
	// "youngest" (the default) or "oldest". Flag --worker-cull.
	WorkerCull string
	// OnWorkerBoot runs in each worker process before it starts serving,
	// and OnWorkerShutdown after it stopped (Puma's on_worker_boot and
	// on_worker_shutdown). In single mode they run once, for worker 0.
	// An error from OnWorkerBoot stops the worker before it serves.
	OnWorkerBoot     func(ctx context.Context, w WorkerInfo) error
	OnWorkerShutdown func(w WorkerInfo)
	// BeforeWorkers runs in the master before it starts the workers
	// (Puma's before_fork): prepare what every worker needs, once. An
	// error stops the start. Not run in single mode.
	BeforeWorkers func(ctx context.Context) error

	// LogFile, if set, sends the server's log (when Logger is nil) and
	// the process's standard error to this file, appended to and reopened
	// on SIGHUP, as log rotation expects. In a cluster the workers write
	// to it too. Flag --log-file, HATAGO_LOG_FILE.
	LogFile string

	// Logger receives the server's own log lines (start, stop, panics,
	// errors). Default slog.Default().
	Logger *slog.Logger
	// AccessLog, if true, logs every request at Info level through Logger:
	// method, path, status, bytes, duration, queue time and slot (-1 for a
	// request refused before it got one). Flag --access-log,
	// HATAGO_ACCESS_LOG.
	AccessLog bool
	// ErrorHandler answers the failures that happen outside a handler's
	// own response: a full backlog, a stop, a slot whose resources failed
	// to open, a request timeout, a body too large, and a panic before the
	// handler wrote anything. err is one of ErrBacklogFull,
	// ErrShuttingDown, ErrRequestTimeout, ErrBodyTooLarge, a *PanicError,
	// or an error opening a slot; ErrorStatus maps it to a status. It must
	// not keep w or r. Default DefaultErrorHandler. Puma calls this the
	// lowlevel_error_handler.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field  string // the Config field, e.g. "MaxSlots"
	Flag   string // its flag, e.g. "-t", or ""
	Reason string
}

// Error returns "hatago: config: FIELD (FLAG): REASON".
func (e *ConfigError) Error() string {
	if e.Flag != "" {
		return fmt.Sprintf("hatago: config: %s (%s): %s", e.Field, e.Flag, e.Reason)
	}
	return fmt.Sprintf("hatago: config: %s: %s", e.Field, e.Reason)
}

func configErr(field, flag, format string, args ...any) error {
	return &ConfigError{Field: field, Flag: flag, Reason: fmt.Sprintf(format, args...)}
}

// withDefaults returns c with defaults filled in and checks it. Errors are
// *ConfigError values naming the field.
func (c Config) withDefaults() (Config, []bind.Bind, error) {
	if len(c.Binds) == 0 {
		c.Binds = []string{DefaultBind}
	}
	binds := make([]bind.Bind, 0, len(c.Binds))
	for _, u := range c.Binds {
		b, err := bind.Parse(u)
		if err != nil {
			return c, nil, configErr("Binds", "-b", "%v", err)
		}
		binds = append(binds, b)
	}
	if c.MaxSlots == 0 {
		c.MaxSlots = max(DefaultMaxSlots, c.MinSlots)
	}
	switch {
	case c.MaxSlots < 1:
		return c, nil, configErr("MaxSlots", "-t", "must be at least 1, got %d", c.MaxSlots)
	case c.MinSlots < 0:
		return c, nil, configErr("MinSlots", "-t", "must not be negative, got %d", c.MinSlots)
	case c.MinSlots > c.MaxSlots:
		return c, nil, configErr("MinSlots", "-t", "must not exceed MaxSlots (%d), got %d", c.MaxSlots, c.MinSlots)
	}
	switch {
	case c.Backlog == 0:
		c.Backlog = DefaultBacklog
	case c.Backlog < 0:
		c.Backlog = 0
	}
	durations := []struct {
		field, flag string
		v           *time.Duration
		def         time.Duration
		canDisable  bool
	}{
		{"SlotIdleTimeout", "--slot-idle-timeout", &c.SlotIdleTimeout, DefaultSlotIdleTimeout, true},
		{"HeaderTimeout", "--header-timeout", &c.HeaderTimeout, DefaultHeaderTimeout, false},
		{"IdleTimeout", "--idle-timeout", &c.IdleTimeout, DefaultIdleTimeout, false},
		{"WriteTimeout", "--write-timeout", &c.WriteTimeout, DefaultWriteTimeout, true},
		{"RequestTimeout", "--request-timeout", &c.RequestTimeout, DefaultRequestTimeout, true},
		{"ShutdownTimeout", "--shutdown-timeout", &c.ShutdownTimeout, DefaultShutdownTimeout, false},
		{"RetryAfter", "", &c.RetryAfter, DefaultRetryAfter, false},
	}
	for _, d := range durations {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0 && !d.canDisable:
			return c, nil, configErr(d.field, d.flag, "must be positive, got %v", *d.v)
		case *d.v < 0:
			*d.v = 0 // off
		}
	}
	switch {
	case c.MaxHeaderBytes == 0:
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	case c.MaxHeaderBytes < 0:
		return c, nil, configErr("MaxHeaderBytes", "--max-header-bytes", "must be positive, got %d", c.MaxHeaderBytes)
	}
	switch {
	case c.MaxBodyBytes == 0:
		c.MaxBodyBytes = DefaultMaxBodyBytes
	case c.MaxBodyBytes < 0:
		c.MaxBodyBytes = 0 // off
	}
	if c.ControlURL != "" && !strings.HasPrefix(c.ControlURL, "tcp://") && !strings.HasPrefix(c.ControlURL, "unix://") {
		return c, nil, configErr("ControlURL", "--control-url", "want tcp://HOST:PORT or unix:///PATH, got %q", c.ControlURL)
	}
	switch {
	case c.Workers == WorkersAuto:
		c.Workers = runtime.GOMAXPROCS(0)
	case c.Workers < 0:
		return c, nil, configErr("Workers", "-w", "must be a count, 0 or auto, got %d", c.Workers)
	}
	for _, d := range []struct {
		field, flag string
		v           time.Duration
	}{
		{"WorkerBootTimeout", "--worker-boot-timeout", c.WorkerBootTimeout},
		{"WorkerCheckinInterval", "--worker-checkin-interval", c.WorkerCheckinInterval},
		{"WorkerTimeout", "--worker-timeout", c.WorkerTimeout},
	} {
		if d.v < 0 {
			return c, nil, configErr(d.field, d.flag, "must be positive, got %v", d.v)
		}
	}
	if c.WorkerTimeout > 0 && c.WorkerTimeout <= max(c.WorkerCheckinInterval, 0) {
		return c, nil, configErr("WorkerTimeout", "--worker-timeout", "must exceed WorkerCheckinInterval (%v), got %v", c.WorkerCheckinInterval, c.WorkerTimeout)
	}
	switch c.WorkerCull {
	case "", "youngest", "oldest":
	default:
		return c, nil, configErr("WorkerCull", "--worker-cull", "want youngest or oldest, got %q", c.WorkerCull)
	}
	for i, r := range c.Resources {
		if r == nil {
			return c, nil, configErr("Resources", "", "entry %d is nil", i)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = DefaultErrorHandler
	}
	return c, binds, nil
}
