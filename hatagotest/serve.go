package hatagotest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hatago/hatago"
)

// ShutdownTimeout bounds the graceful stop of a Server when its test ends.
const ShutdownTimeout = 10 * time.Second

// Server is a Hatago server started by Serve for one test. Its methods are
// safe for concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT, with no
	// trailing slash.
	URL string
	// Client sends requests to the server over keep-alive connections,
	// with enough idle connections kept for Hammer's goroutines.
	Client *http.Client
	// Hatago is the server itself, for its stats and lifecycle.
	Hatago *hatago.Server
}

// Serve starts a real Hatago server for h with cfg, listening on 127.0.0.1
// with a port of its own (cfg.Binds is replaced), and stops it
// gracefully when the test ends, within ShutdownTimeout; a failed stop is
// reported with tb.Errorf. Without cfg.Logger the server logs through
// tb.Log, so its lines show with -v or when the test fails. Serve stops
// the test with tb.Fatalf if the server cannot start or cfg sets Workers
// (a cluster runs in processes of its own; see hatago.Server.Run).
func Serve(tb testing.TB, h http.Handler, cfg hatago.Config) *Server {
	tb.Helper()
	if cfg.Workers != 0 {
		tb.Fatalf("hatagotest: Serve: cfg.Workers is %d; Serve runs the server in the test's process, so it must be 0", cfg.Workers)
	}
	cfg.Binds = []string{"tcp://127.0.0.1:0"}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(newTBWriter(tb), nil))
	}
	hs, err := hatago.New(h, cfg)
	if err != nil {
		tb.Fatalf("hatagotest: Serve: %v", err)
	}
	if err := hs.Start(context.Background()); err != nil {
		tb.Fatalf("hatagotest: Serve: %v", err)
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     30 * time.Second,
	}
	s := &Server{
		URL:    "http://" + hs.Addrs()[0].String(),
		Client: &http.Client{Transport: tr},
		Hatago: hs,
	}
	tb.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			tb.Errorf("hatagotest: Serve: stopping the server: %v", err)
		}
	})
	return s
}

// Hammer is Hammer over real connections: it sends opt.Requests requests
// to s from opt.Goroutines goroutines released together, through
// s.Client, and returns what they got. The requests from opt.Request get
// s's scheme and host when their URL has none (as those of
// httptest.NewRequest do); their Host header is kept. A request that gets
// no response is reported with tb.Errorf and counted in Errors.
// opt.Lint is not allowed (wrap the handler given to Serve instead):
// Hammer stops the test with tb.Fatalf for it, or for other invalid
// options. Hammer must be called from the test's goroutine.
func (s *Server) Hammer(tb testing.TB, opt HammerOptions) HammerResult {
	tb.Helper()
	if opt.Lint {
		tb.Fatalf("hatagotest: Server.Hammer: HammerOptions.Lint cannot wrap a running server's handler; pass hatagotest.Lint(t, h) to Serve")
	}
	opt = hammerDefaults(tb, "Server.Hammer", opt)
	host := s.URL[len("http://"):]
	var inFlight inFlight
	return hammer(tb, opt, func(i int, st *hammerStats) {
		var req *http.Request
		if opt.Request == nil {
			req, _ = http.NewRequest(http.MethodGet, s.URL+"/", nil)
		} else if req = opt.Request(i); req == nil {
			tb.Errorf("hatagotest: Server.Hammer: Request(%d) returned nil", i)
			st.errors++
			return
		}
		req.RequestURI = "" // set by httptest.NewRequest; a client must not
		if req.URL.Host == "" {
			u := *req.URL
			u.Scheme, u.Host = "http", host
			req.URL = &u
		}
		done := inFlight.enter()
		res, err := s.Client.Do(req)
		done()
		if err != nil {
			tb.Errorf("hatagotest: Server.Hammer: request %d (%s %s): %v", i, req.Method, req.URL, err)
			st.errors++
			return
		}
		defer res.Body.Close()
		st.answered(res.StatusCode)
		if opt.Check != nil {
			opt.Check(tb, i, res)
		}
		io.Copy(io.Discard, res.Body) // so the connection is reused
	}, &inFlight)
}
