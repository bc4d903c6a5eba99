// Command world is the TechEmpower benchmark application on Hatago, and
// Hatago's demo: all seven test types (JSON, single query, multiple
// queries, fortunes, updates, plaintext, cached queries) on Hatago's
// server core and data layer.
//
// With no flags it creates and seeds an embedded SQLite database
// (world.db in the working directory), serves on 127.0.0.1:8080 and starts
// the control server on 127.0.0.1:9293:
//
//	go run ./examples/world
//	go run ./examples/world --db 'postgres://user:pass@127.0.0.1/hello_world' -b tcp://0.0.0.0:8080
//
// With --db it uses PostgreSQL (or another SQLite file): it creates and
// seeds the world and fortune tables when they are missing, and uses them
// as they are when they exist, as when TechEmpower's own setup made them.
// It takes every standard Hatago flag (-b, -t, --control-url, ...; -h
// lists them).
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
	"strings"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/examples/world/app"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/seed"
	"github.com/hatago/hatago/seed/techempower"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "world:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	w, err := start(ctx, args, out)
	if err != nil {
		return err
	}
	defer w.close()
	if !hatago.IsWorker() {
		announce(w, slog.Default())
	}
	return w.srv.Run(ctx)
}

// world is the running application: its server, app and database.
type world struct {
	srv *hatago.Server
	app *app.App
	db  *query.DB
}

func (w *world) close() {
	if w.app != nil {
		w.app.Close()
	}
	w.db.Close()
}

// start parses the command line, prepares the database and makes the
// server, without starting it.
func start(ctx context.Context, args []string, out io.Writer) (*world, error) {
	cfg := hatago.Config{
		Binds:      []string{"tcp://127.0.0.1:8080"},
		ControlURL: "tcp://127.0.0.1:9293",
	}
	if err := cfg.Env(nil); err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet("world", flag.ContinueOnError)
	fs.SetOutput(out)
	cfg.Flags(fs)
	dbURL := fs.String("db", "sqlite:world.db", "the database: sqlite:PATH, or postgres://user:pass@host/db")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// Every slot holds a connection; leave a few for the cache fill and
	// the seeders.
	db, err := query.Open(ctx, *dbURL, query.Options{MaxConns: cfg.MaxSlots + 4})
	if err != nil {
		return nil, err
	}
	// In a cluster (-w N) the master prepares the database once, before
	// the workers start, and serves nothing itself; the workers find the
	// tables ready.
	if !hatago.IsWorker() {
		if err := techempower.Prepare(ctx, db, seed.NewProgress(out)); err != nil {
			db.Close()
			return nil, err
		}
	}
	if hatago.IsMaster(cfg) {
		srv, err := hatago.New(http.NotFoundHandler(), cfg)
		if err != nil {
			db.Close()
			return nil, err
		}
		return &world{srv: srv, db: db}, nil
	}
	a, err := app.New(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	cfg.Resources = append(cfg.Resources, a.Resources()...)
	srv, err := hatago.New(a.Handler(), cfg)
	if err != nil {
		a.Close()
		db.Close()
		return nil, err
	}
	return &world{srv: srv, app: a, db: db}, nil
}

// announce says where everything is, once the server listens.
func announce(w *world, log *slog.Logger) {
	base := "http://127.0.0.1:8080"
	for _, b := range w.srv.BindURLs() {
		if h, ok := strings.CutPrefix(b, "tcp://"); ok {
			base = "http://" + h
			break
		}
	}
	log.Info("world: serving the TechEmpower tests",
		"database", w.db.String(),
		"try", base+"/json "+base+"/db "+base+"/queries?queries=5 "+base+"/fortunes "+base+"/updates?queries=5 "+base+"/plaintext "+base+"/cached-queries?count=5",
		"stats", fmt.Sprintf("go run ./cmd/hatago ctl --control-url %s --control-token %s stats", w.srv.ControlURL(), w.srv.ControlToken()))
}
