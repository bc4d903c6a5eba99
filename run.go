package hatago

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/hatago/hatago/cluster"
	"github.com/hatago/hatago/internal/logfile"
)

// Run serves h with cfg until ctx ends, the process gets SIGINT or SIGTERM,
// or the control server stops it; then it stops gracefully within
// cfg.ShutdownTimeout (see Server.Shutdown). A second signal during the stop
// halts at once. Run returns an invalid config or a failed start at once,
// and otherwise the result of the stop: nil when every admitted request
// finished.
//
// With cfg.Workers set, Run runs a cluster instead (see Server.Run).
func Run(ctx context.Context, h http.Handler, cfg Config) error {
	s, err := New(h, cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Run starts s and serves until ctx ends, a signal or the control server
// stops it, as the package-level Run does.
//
// In a cluster (Config.Workers), the process that calls Run first becomes
// the master: it opens the sockets and the control server, runs
// BeforeWorkers, and starts the workers by running its own binary again
// with the same arguments; it serves no requests itself. In each worker
// the same program reaches Run again, which then serves on the master's
// sockets, checks in with the master and stops when the master tells it
// to or dies. The master takes Puma's signals: TERM and INT stop, USR1
// restarts the workers in phases, USR2 restarts the master in place,
// TTIN and TTOU add and remove a worker, HUP reopens the log file.
//
// SIGHUP reopens Config.LogFile; in single mode without a log file it
// stops the server, as in Puma.
func (s *Server) Run(ctx context.Context) error {
	if err := s.openLog(); err != nil {
		return err
	}
	defer s.closeLog()
	w, err := cluster.Current()
	if err != nil {
		return err
	}
	switch {
	case w != nil:
		return s.runWorker(ctx, w)
	case s.cfg.Workers > 0:
		return s.runMaster(ctx)
	}
	return s.serveUntilStopped(ctx, WorkerInfo{PID: os.Getpid()}, nil)
}

// serveUntilStopped runs the worker hooks around the server's life: it
// starts it, serves until a stop, and stops it. onStart, if set, runs once
// the server serves and returns a channel that yields when the server
// must stop (a cluster worker's master went away).
func (s *Server) serveUntilStopped(ctx context.Context, info WorkerInfo, onStart func(context.Context) <-chan error) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if s.cfg.OnWorkerBoot != nil {
		if err := s.cfg.OnWorkerBoot(ctx, info); err != nil {
			return fmt.Errorf("hatago: OnWorkerBoot: %w", err)
		}
	}
	if s.cfg.OnWorkerShutdown != nil {
		defer s.cfg.OnWorkerShutdown(info)
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	var gone <-chan error
	if onStart != nil {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		gone = onStart(runCtx)
	}
	for stop := false; !stop; {
		select {
		case <-s.Done():
			return s.stopErr
		case <-ctx.Done():
			s.log.Info("hatago: context done, stopping")
			stop = true
		case err := <-gone:
			if errors.Is(err, cluster.ErrMasterGone) {
				s.log.Warn("hatago: the master is gone, stopping", "err", err)
				stop = true
			}
		case sig := <-sigs:
			if sig == syscall.SIGHUP && (s.logFile != nil || onStart != nil) {
				s.reopenLog()
				continue
			}
			s.log.Info("hatago: signal, stopping", "signal", sig.String(), "deadline", s.cfg.ShutdownTimeout)
			stop = true
		}
	}
	deadline, cancelDeadline := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancelDeadline()
	result := make(chan error, 1)
	go func() { result <- s.Shutdown(deadline) }()
	for {
		select {
		case err := <-result:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				s.reopenLog()
				continue
			}
			s.log.Warn("hatago: second signal, halting", "signal", sig.String())
			s.halt()
			return <-result
		}
	}
}

// openLog opens Config.LogFile, if set: the server's log goes there when
// the config gave no Logger, and so does standard error.
func (s *Server) openLog() error {
	if s.cfg.LogFile == "" {
		return nil
	}
	f, err := logfile.Open(s.cfg.LogFile)
	if err != nil {
		return configErr("LogFile", "--log-file", "%v", err)
	}
	if err := f.RedirectStderr(); err != nil {
		f.Close()
		return configErr("LogFile", "--log-file", "%v", err)
	}
	s.logFile = f
	if !s.ownLogger {
		s.log = slog.New(slog.NewTextHandler(f, nil))
		s.cfg.Logger = s.log
	}
	return nil
}

// reopenLog reopens the log file, after log rotation moved it.
func (s *Server) reopenLog() {
	if s.logFile == nil {
		return
	}
	if err := s.logFile.Reopen(); err != nil {
		s.log.Error("hatago: reopening the log file", "err", err)
		return
	}
	s.log.Info("hatago: log file reopened", "path", s.cfg.LogFile)
}

func (s *Server) closeLog() {
	if s.logFile != nil {
		s.logFile.Close()
		s.logFile = nil
	}
}
