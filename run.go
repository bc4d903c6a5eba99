package hatago

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// Run serves h with cfg until ctx ends, the process gets SIGINT or SIGTERM,
// or the control server stops it; then it stops gracefully within
// cfg.ShutdownTimeout (see Server.Shutdown). A second signal during the stop
// halts at once. Run returns an invalid config or a failed start at once,
// and otherwise the result of the stop: nil when every admitted request
// finished.
func Run(ctx context.Context, h http.Handler, cfg Config) error {
	s, err := New(h, cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Run starts s and serves until ctx ends, a signal or the control server
// stops it, as the package-level Run does.
func (s *Server) Run(ctx context.Context) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := s.Start(ctx); err != nil {
		return err
	}
	select {
	case <-s.Done():
		return s.stopErr
	case <-ctx.Done():
		s.log.Info("hatago: context done, stopping")
	case sig := <-sigs:
		s.log.Info("hatago: signal, stopping", "signal", sig.String(), "deadline", s.cfg.ShutdownTimeout)
	}
	deadline, cancelDeadline := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancelDeadline()
	result := make(chan error, 1)
	go func() { result <- s.Shutdown(deadline) }()
	select {
	case err := <-result:
		return err
	case sig := <-sigs:
		s.log.Warn("hatago: second signal, halting", "signal", sig.String())
		s.halt()
	}
	return <-result
}
