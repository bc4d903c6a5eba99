// Command demo serves a small app through Hatago to show the pool, per-slot
// resources and the control plane at work. It takes Hatago's standard flags
// (-b, -t, --control-url, ...; -h lists them).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/resource"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	srv, err := newServer(args)
	if err != nil {
		return err
	}
	slog.Info("demo: try these",
		"hello", fmt.Sprintf("curl http://%s/hello", hostOf(srv.BindURLs())),
		"ctl", fmt.Sprintf("go run ./cmd/hatago ctl --control-url %s --control-token %s stats", srv.ControlURL(), srv.ControlToken()))
	return srv.Run(ctx)
}

// newServer makes the demo's server from its command line: Hatago's
// standard flags over the demo's defaults.
func newServer(args []string) (*hatago.Server, error) {
	cfg := hatago.Config{
		Binds:      []string{"tcp://127.0.0.1:8080"},
		MaxSlots:   4,
		Backlog:    8,
		ControlURL: "tcp://127.0.0.1:9293",
		AccessLog:  true,
		Resources:  []resource.Decl{scratchKey},
	}
	if err := cfg.Env(nil); err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var srv *hatago.Server
	srv, err := hatago.New(newApp(func() any { return srv.Stats() }), cfg)
	return srv, err
}

func hostOf(binds []string) string {
	const p = "tcp://"
	for _, b := range binds {
		if strings.HasPrefix(b, p) {
			return strings.TrimPrefix(b, p)
		}
	}
	return "127.0.0.1:8080"
}
