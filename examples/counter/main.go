// Command counter serves the request counter of a Python concurrency
// hands-on: a handler that reads a total, pauses, and writes the total
// plus one, which loses counts when requests overlap. It serves the
// broken form or one of four fixed ones through a Hatago server:
//
//	go run ./examples/counter -mode broken|mutex|atomic|owner|perrequest -addr 127.0.0.1:8081 -pause 100ms
//
// GET / counts a request and answers the total; GET /total answers it
// without counting. See README.md for what three concurrent requests show.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hatago/hatago"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
}

// run serves the counter that args choose until ctx ends or a signal
// stops it.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	srv, stop, err := newServer(ctx, args, stderr)
	if err != nil {
		return err
	}
	defer stop()
	return srv.Run(ctx)
}

// newServer makes the server from the command line, and returns it with a
// func that stops what the counter started (Owner's goroutine).
func newServer(ctx context.Context, args []string, stderr io.Writer) (*hatago.Server, func(), error) {
	fs := flag.NewFlagSet("counter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "broken", "the counter: broken, mutex, atomic, owner or perrequest")
	addr := fs.String("addr", "127.0.0.1:8081", "the address to listen on")
	pause := fs.Duration("pause", 100*time.Millisecond, "the pause between reading and writing the total")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c, stop, err := newCounter(ctx, *mode, func() { time.Sleep(*pause) })
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", c)
	mux.HandleFunc("GET /total", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "total %d\n", c.Total())
	})
	srv, err := hatago.New(mux, hatago.Config{Binds: []string{"tcp://" + *addr}})
	if err != nil {
		stop()
		return nil, nil, err
	}
	slog.Info("counter: try three requests at once, then the total",
		"mode", *mode, "pause", *pause,
		"curl", fmt.Sprintf("for i in 1 2 3; do curl -s http://%s/ & done; wait; curl -s http://%s/total", *addr, *addr))
	return srv, stop, nil
}

// newCounter returns the counter of the given mode, started, and a func
// that stops it.
func newCounter(ctx context.Context, mode string, pause func()) (counter, func(), error) {
	nothing := func() {}
	switch mode {
	case "broken":
		return &Broken{pause: pause}, nothing, nil
	case "mutex":
		return &Mutex{pause: pause}, nothing, nil
	case "atomic":
		return &Atomic{pause: pause}, nothing, nil
	case "owner":
		o := NewOwner(pause)
		if err := o.Start(ctx); err != nil {
			return nil, nil, err
		}
		return o, o.Stop, nil
	case "perrequest":
		return NewPerRequest(pause).(counter), nothing, nil
	}
	return nil, nil, fmt.Errorf("unknown -mode %q: want broken, mutex, atomic, owner or perrequest", mode)
}
