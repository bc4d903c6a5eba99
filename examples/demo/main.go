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
	cfg := hatago.Config{
		Binds:      []string{"tcp://127.0.0.1:8080"},
		MaxSlots:   4,
		Backlog:    8,
		ControlURL: "tcp://127.0.0.1:9293",
		AccessLog:  true,
		Resources:  []resource.Decl{scratchKey},
	}
	if err := cfg.Env(nil); err != nil {
		return err
	}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var srv *hatago.Server
	h := newApp(func() any { return srv.Stats() })
	srv, err := hatago.New(h, cfg)
	if err != nil {
		return err
	}
	slog.Info("demo: try these",
		"hello", fmt.Sprintf("curl http://%s/hello", hostOf(cfg.Binds)),
		"ctl", fmt.Sprintf("go run ./cmd/hatago ctl --control-url %s --control-token %s stats", srv.ControlURL(), srv.ControlToken()))
	return srv.Run(ctx)
}

func hostOf(binds []string) string {
	if len(binds) == 0 {
		return "127.0.0.1:8080"
	}
	const p = "tcp://"
	if len(binds[0]) > len(p) && binds[0][:len(p)] == p {
		return binds[0][len(p):]
	}
	return binds[0]
}
