// Command plaintext serves TechEmpower's plaintext response on bare net/http
// or on Hatago, so the two can be measured side by side with wrk (see
// ../plaintext.sh). The handler is the same function in both.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/hatago/hatago"
)

var body = []byte("Hello, World!")

func plaintext(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain"}
	h["Server"] = []string{"bench"}
	w.Write(body)
}

func main() {
	server := flag.String("server", "hatago", "hatago, nethttp (bare) or nethttp-timeouts (with Hatago's default timeouts)")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *server {
	case "nethttp", "nethttp-timeouts":
		srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(plaintext)}
		if *server == "nethttp-timeouts" {
			// The same timeouts as Hatago's defaults, set the net/http way.
			srv.ReadHeaderTimeout = hatago.DefaultHeaderTimeout
			srv.ReadTimeout = hatago.DefaultRequestTimeout
			srv.IdleTimeout = hatago.DefaultIdleTimeout
			srv.WriteTimeout = hatago.DefaultWriteTimeout
		}
		go func() { <-ctx.Done(); srv.Close() }()
		err = srv.ListenAndServe()
		if err == http.ErrServerClosed {
			err = nil
		}
	case "hatago":
		cfg := hatago.Config{
			Binds:  []string{"tcp://" + *addr},
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		}
		// HATAGO_* variables tune the server under test, for example
		// HATAGO_REQUEST_TIMEOUT=-1s to measure without the hard timeout.
		if err = cfg.Env(nil); err == nil {
			cfg.Binds = []string{"tcp://" + *addr}
			err = hatago.Run(ctx, http.HandlerFunc(plaintext), cfg)
		}
	default:
		err = fmt.Errorf("unknown -server %q", *server)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
