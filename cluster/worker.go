package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hatago/hatago/bind"
	"github.com/hatago/hatago/control"
)

// Environment variables through which a master hands its sockets on: to
// its workers (envWorker) and to itself across a hot restart (envMaster).
// Their values are JSON; a user never sets them.
const (
	envWorker = "HATAGO_CLUSTER_WORKER"
	envMaster = "HATAGO_CLUSTER_MASTER"
)

// ErrMasterGone is returned by Worker.Serve when the master's end of the
// pipe closed: the master died or was killed, and the worker must stop.
var ErrMasterGone = errors.New("cluster: the master is gone")

// passed is a listening socket handed to another process: the descriptor
// it arrives on and the bind URL it serves.
type passed struct {
	FD   int    `json:"fd"`
	Bind string `json:"bind"`
}

// workerEnv is the value of envWorker.
type workerEnv struct {
	Index     int           `json:"index"`
	Phase     int           `json:"phase"`
	Pipe      int           `json:"pipe"`
	Checkin   time.Duration `json:"checkin"`
	Listen    []passed      `json:"listen"`
	MasterPID int           `json:"master_pid"`
}

// Worker is this process's place in a cluster when a master started it.
// Current returns it; the server then serves on Listeners and runs Serve.
type Worker struct {
	// Index is the worker's stable index, 0 to workers-1. A replacement
	// (after a crash, a recycle or in a phased restart) takes the index of
	// the worker it replaces, so per-index resources stay meaningful.
	Index int
	// Phase is the master's phase when the worker started: the number of
	// phased restarts before it.
	Phase int
	// MasterPID is the master's process ID.
	MasterPID int

	env  workerEnv
	pipe *pipe
}

// Current returns the Worker this process is, or nil when it is not a
// cluster worker. The first call reads and then unsets the variable the
// master set, so that processes the worker starts in turn are not taken
// for workers; later calls return the same answer.
func Current() (*Worker, error) { return current() }

var current = sync.OnceValues(readCurrent)

func readCurrent() (*Worker, error) {
	v, ok := os.LookupEnv(envWorker)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(envWorker)
	var env workerEnv
	if err := json.Unmarshal([]byte(v), &env); err != nil {
		return nil, fmt.Errorf("cluster: bad %s: %w", envWorker, err)
	}
	f := os.NewFile(uintptr(env.Pipe), "cluster-pipe")
	if f == nil {
		return nil, fmt.Errorf("cluster: bad pipe descriptor %d", env.Pipe)
	}
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cluster: the pipe to the master (descriptor %d): %w", env.Pipe, err)
	}
	return &Worker{Index: env.Index, Phase: env.Phase, MasterPID: env.MasterPID, env: env, pipe: newPipe(c)}, nil
}

// Listeners returns the listeners the master handed on, one per bind, in
// the master's order; TLS binds serve TLS. A bind with reuseport=true is
// not handed on: each worker opens its own socket with SO_REUSEPORT and
// the kernel spreads connections among them. The caller owns them. A unix
// listener does not remove its socket file on Close: the master does.
func (w *Worker) Listeners() ([]net.Listener, error) {
	ls := make([]net.Listener, 0, len(w.env.Listen))
	fail := func(err error) ([]net.Listener, error) {
		for _, l := range ls {
			l.Close()
		}
		return nil, err
	}
	for _, p := range w.env.Listen {
		b, err := bind.Parse(p.Bind)
		if err != nil {
			return fail(fmt.Errorf("cluster: passed socket %d: %w", p.FD, err))
		}
		if p.FD < 0 {
			// A reuseport bind: each worker listens on its own socket.
			l, err := b.Listen(context.Background())
			if err != nil {
				return fail(fmt.Errorf("cluster: %w", err))
			}
			ls = append(ls, l)
			continue
		}
		f := os.NewFile(uintptr(p.FD), p.Bind)
		l, err := bind.FromFile(f, b)
		f.Close()
		if err != nil {
			return fail(fmt.Errorf("cluster: passed socket %d: %w", p.FD, err))
		}
		if u, ok := l.(*net.UnixListener); ok {
			u.SetUnlinkOnClose(false)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// Serve tells the master the worker booted, then checks in with stats()
// every check-in interval and answers the master's requests for fresh
// stats, until ctx ends (it returns nil) or the master goes away (it
// returns ErrMasterGone, and the worker should stop). Call it once the
// server serves. stats must be safe to call from Serve's goroutines.
func (w *Worker) Serve(ctx context.Context, stats func() control.Stats) error {
	defer w.pipe.close()
	if err := w.pipe.send(message{Type: msgBoot, PID: os.Getpid()}); err != nil {
		return fmt.Errorf("%w: %v", ErrMasterGone, err)
	}
	gone := make(chan error, 1)
	go func() {
		for {
			m, err := w.pipe.recv()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
					err = ErrMasterGone
				}
				gone <- err
				return
			}
			if m.Type == msgStats {
				st := stats()
				if err := w.pipe.send(message{Type: msgStats, ID: m.ID, Stats: &st}); err != nil {
					gone <- fmt.Errorf("%w: %v", ErrMasterGone, err)
					return
				}
			}
		}
	}()
	every := w.env.Checkin
	if every <= 0 {
		every = DefaultCheckinInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-gone:
			if errors.Is(err, ErrMasterGone) {
				return ErrMasterGone
			}
			return fmt.Errorf("%w: %v", ErrMasterGone, err)
		case <-t.C:
			st := stats()
			if err := w.pipe.send(message{Type: msgCheckin, Stats: &st}); err != nil {
				return fmt.Errorf("%w: %v", ErrMasterGone, err)
			}
		}
	}
}
