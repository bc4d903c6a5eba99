package hatago

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/hatago/hatago/bind"
	"github.com/hatago/hatago/cluster"
	"github.com/hatago/hatago/control"
)

// IsWorker reports whether this process is a cluster worker, started by a
// master (see Config.Workers). A program can skip there what only the
// master does, such as preparing a database once for every worker.
func IsWorker() bool {
	w, _ := cluster.Current()
	return w != nil
}

// IsMaster reports whether Run with cfg makes this process a cluster's
// master: cfg.Workers is set and this process is not a worker. The master
// serves no requests; its handler is never called.
func IsMaster(cfg Config) bool {
	return cfg.Workers != 0 && !IsWorker()
}

// runMaster runs this process as a cluster's master: it opens the sockets
// (or takes them over from before a hot restart), starts the control
// server on the master, and supervises the workers until stopped.
func (s *Server) runMaster(ctx context.Context) error {
	resumed, err := cluster.Resume()
	if err != nil {
		return err
	}
	if s.cfg.BeforeWorkers != nil {
		if err := s.cfg.BeforeWorkers(ctx); err != nil {
			return fmt.Errorf("hatago: BeforeWorkers: %w", err)
		}
	}
	var sockets []cluster.Socket
	var unlink []string
	if resumed != nil {
		sockets = resumed.Sockets
		for i, b := range s.binds {
			if b.Scheme == "unix" && i < len(sockets) && sockets[i].File != nil {
				unlink = append(unlink, b.Addr)
			}
		}
	} else if sockets, unlink, err = s.openSockets(ctx); err != nil {
		return err
	}
	defer func() {
		for _, sk := range sockets {
			if sk.File != nil {
				sk.File.Close()
			}
		}
		for _, path := range unlink {
			os.Remove(path)
		}
	}()
	var ctl *control.Server
	m, err := cluster.New(cluster.Config{
		Workers:         s.cfg.Workers,
		Sockets:         sockets,
		BootTimeout:     s.cfg.WorkerBootTimeout,
		CheckinInterval: s.cfg.WorkerCheckinInterval,
		WorkerTimeout:   s.cfg.WorkerTimeout,
		ShutdownTimeout: s.cfg.ShutdownTimeout + time.Second, // the worker's own deadline first
		RecycleRequests: s.cfg.RecycleRequests,
		RecycleBytes:    s.cfg.RecycleBytes,
		CullOldest:      s.cfg.WorkerCull == "oldest",
		Logger:          s.log,
		Version:         version(),
		Resumed:         resumed,
		OnHUP:           s.reopenLog,
		BeforeExec: func() {
			if ctl != nil {
				sctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = ctl.Shutdown(sctx)
				cancel()
			}
			s.closeLog()
		},
	})
	if err != nil {
		return &ConfigError{Field: "Workers", Flag: "-w", Reason: err.Error()}
	}
	if s.cfg.ControlURL != "" {
		// The token New made (or the configured one), so that what was
		// announced before Run holds.
		ctl, err = control.New(control.Config{URL: s.cfg.ControlURL, Token: s.control.Token(), Target: m, Logger: s.log})
		if err != nil {
			return configErr("ControlURL", "--control-url", "%v", err)
		}
		if err := ctl.Start(ctx); err != nil {
			return fmt.Errorf("hatago: control server: %w", err)
		}
		s.masterControl.Store(ctl)
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = ctl.Shutdown(sctx)
			cancel()
		}()
	}
	attrs := []any{"workers", s.cfg.Workers, "slots", fmt.Sprintf("%d:%d", s.cfg.MinSlots, s.cfg.MaxSlots), "pid", os.Getpid()}
	for _, sk := range sockets {
		attrs = append(attrs, "listen", sk.Bind)
	}
	if ctl != nil {
		attrs = append(attrs, "control", ctl.URL())
	}
	s.log.Info("hatago: cluster mode", attrs...)
	return m.Run(ctx)
}

// openSockets opens the master's listening sockets, taking systemd's
// where they match, and returns them as files to hand on, and the unix
// socket files to remove at the end.
func (s *Server) openSockets(ctx context.Context) (sockets []cluster.Socket, unlink []string, err error) {
	inherited, err := bind.Systemd(os.Getenv, true)
	if err != nil {
		return nil, nil, fmt.Errorf("hatago: systemd sockets: %w", err)
	}
	binds := s.binds
	if len(inherited) > 0 && len(s.cfg.Binds) == 1 && s.cfg.Binds[0] == DefaultBind {
		binds = nil
	}
	ls, err := bind.ListenAll(ctx, binds, inherited)
	if err != nil {
		closeInherited(inherited, nil)
		return nil, nil, fmt.Errorf("hatago: listen: %w", err)
	}
	urls := make([]string, len(ls))
	for i := range ls {
		urls[i] = binds[i].String()
	}
	if binds == nil {
		for _, in := range inherited {
			ls = append(ls, in.Listener)
			urls = append(urls, "fd://"+strconv.Itoa(in.FD))
		}
	} else {
		closeInherited(inherited, ls)
	}
	fail := func(err error) ([]cluster.Socket, []string, error) {
		for _, sk := range sockets {
			if sk.File != nil {
				sk.File.Close()
			}
		}
		for _, l := range ls {
			l.Close()
		}
		return nil, nil, err
	}
	for i, l := range ls {
		fromSystemd := false
		for _, in := range inherited {
			fromSystemd = fromSystemd || in.Listener == l
		}
		if binds != nil && binds[i].ReusePort {
			// Checked by opening it; each worker opens its own.
			sockets = append(sockets, cluster.Socket{Bind: urls[i]})
			continue
		}
		f, err := bind.File(l)
		if err != nil {
			return fail(fmt.Errorf("hatago: listen: %w", err))
		}
		if u, ok := l.(*net.UnixListener); ok {
			u.SetUnlinkOnClose(false)
			if !fromSystemd {
				unlink = append(unlink, u.Addr().String())
			}
		}
		sockets = append(sockets, cluster.Socket{File: f, Bind: urls[i]})
	}
	for _, l := range ls {
		l.Close() // the files hold the sockets now
	}
	return sockets, unlink, nil
}

// runWorker serves as a cluster worker: on the master's sockets, checking
// in with the master until the master stops it or goes away.
func (s *Server) runWorker(ctx context.Context, w *cluster.Worker) error {
	s.log = s.log.With("worker", w.Index)
	s.cfg.Logger = s.log
	ls, err := w.Listeners()
	if err != nil {
		return err
	}
	s.gate = newAcceptGate(s.cfg.MaxSlots)
	for i, l := range ls {
		ls[i] = s.gate.wrap(l)
	}
	s.passed = ls
	s.control = nil // the master has the control server
	info := WorkerInfo{Index: w.Index, Phase: w.Phase, PID: os.Getpid()}
	return s.serveUntilStopped(ctx, info, func(ctx context.Context) <-chan error {
		gone := make(chan error, 1)
		go func() { gone <- w.Serve(ctx, s.Stats) }()
		return gone
	})
}
