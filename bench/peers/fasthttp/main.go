// Command fasthttp serves the seven TechEmpower tests on valyala/fasthttp,
// written the way the fastest TechEmpower Go entries write them: one
// handler that switches on the path, responses built in fasthttp's reused
// objects, goccy/go-json, a hand-written escaping writer for the fortunes
// page, pooled result buffers, and a pgx pool with its statement cache.
// fasthttp itself caches the Date header and refreshes it every second, and
// flushes pipelined responses only when no more input is buffered.
//
// With -prefork it runs one child process per core (GOMAXPROCS in the
// parent), each with GOMAXPROCS=1 and its share of the -pool connections,
// all accepting on the same port through SO_REUSEPORT (fasthttp/prefork).
//
//	fasthttp -addr 127.0.0.1:8080 -db postgres://user:pass@127.0.0.1/hatago_bench [-prefork]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/goccy/go-json"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/prefork"

	"github.com/hatago/hatago/bench/tfb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen `host:port`")
	dbURL := flag.String("db", os.Getenv("HATAGO_BENCH_POSTGRES"), "PostgreSQL `URL`")
	pool := flag.Int("pool", 16, "database connections (with -prefork: in all children together)")
	usePrefork := flag.Bool("prefork", false, "one process per core, each with GOMAXPROCS=1")
	flag.Parse()
	var err error
	if *usePrefork && !prefork.IsChild() {
		// The parent only starts and watches the children. A signal ends
		// it as by default; the children see it gone and exit.
		p := prefork.New(&fasthttp.Server{})
		p.Reuseport = true
		err = p.ListenAndServe(*addr)
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = run(ctx, *addr, *dbURL, *pool, *usePrefork)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fasthttp:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, alone or as a prefork child.
func run(ctx context.Context, addr, dbURL string, poolSize int, child bool) error {
	if child {
		// Before prefork's listen sets GOMAXPROCS to 1, it still counts the
		// children the parent starts.
		n := runtime.GOMAXPROCS(0)
		poolSize = max(1, (poolSize+n-1)/n)
	}
	pool, err := tfb.Open(ctx, dbURL, poolSize)
	if err != nil {
		return err
	}
	defer pool.Close()
	s := &server{db: tfb.DB{Pool: pool}}
	if s.cache, err = s.db.LoadWorlds(ctx); err != nil {
		return err
	}
	srv := &fasthttp.Server{Name: "fasthttp", Handler: s.handle}
	serve := func() error { return srv.ListenAndServe(addr) }
	if child {
		p := prefork.New(srv)
		p.Reuseport = true
		p.OnMasterDeath = func() { os.Exit(1) }
		serve = func() error { return p.ListenAndServe(addr) }
	}
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.Shutdown()
	return <-errc
}

// server holds the handlers' shared, read-only state.
type server struct {
	db    tfb.DB
	cache []tfb.World
}

var (
	typeJSON   = []byte("application/json")
	typeText   = []byte("text/plain")
	typeHTML   = []byte("text/html; charset=utf-8")
	helloWorld = []byte(tfb.HelloWorld)
)

// Result buffers are reused between requests, as fasthttp reuses its own.
var (
	worldsPool   = sync.Pool{New: func() any { return &worldsBuf{w: make([]tfb.World, 0, tfb.MaxQueries)} }}
	fortunesPool = sync.Pool{New: func() any { return &fortunesBuf{f: make([]tfb.Fortune, 0, 16)} }}
)

type worldsBuf struct{ w []tfb.World }
type fortunesBuf struct {
	f    []tfb.Fortune
	page []byte
}

func (s *server) handle(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/plaintext":
		ctx.Response.Header.SetContentTypeBytes(typeText)
		ctx.Response.SetBodyRaw(helloWorld)
	case "/json":
		writeJSON(ctx, &tfb.Message{Message: tfb.HelloWorld})
	case "/db":
		var w tfb.World
		if err := s.db.World(context.Background(), &w); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		writeJSON(ctx, &w)
	case "/queries":
		buf := worldsPool.Get().(*worldsBuf)
		defer worldsPool.Put(buf)
		worlds := buf.w[:tfb.Queries(ctx.QueryArgs().Peek("queries"))]
		if err := s.db.Worlds(context.Background(), worlds); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		writeJSON(ctx, worlds)
	case "/updates":
		buf := worldsPool.Get().(*worldsBuf)
		defer worldsPool.Put(buf)
		worlds := buf.w[:tfb.Queries(ctx.QueryArgs().Peek("queries"))]
		if err := s.db.Update(context.Background(), worlds); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		writeJSON(ctx, worlds)
	case "/cached-queries":
		buf := worldsPool.Get().(*worldsBuf)
		defer worldsPool.Put(buf)
		worlds := buf.w[:tfb.Queries(ctx.QueryArgs().Peek("count"))]
		for i := range worlds {
			worlds[i] = s.cache[tfb.RandomID()-1]
		}
		writeJSON(ctx, worlds)
	case "/fortunes":
		buf := fortunesPool.Get().(*fortunesBuf)
		defer fortunesPool.Put(buf)
		fortunes, err := s.db.Fortunes(context.Background(), buf.f[:0])
		if err != nil {
			ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		buf.f = fortunes
		buf.page = tfb.AppendFortunesPage(buf.page[:0], fortunes)
		ctx.Response.Header.SetContentTypeBytes(typeHTML)
		ctx.Response.SetBody(buf.page)
	default:
		ctx.Error("Not Found", fasthttp.StatusNotFound)
	}
}

// writeJSON encodes v straight into the response's reused body buffer.
func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	ctx.Response.Header.SetContentTypeBytes(typeJSON)
	if err := json.NewEncoder(ctx.Response.BodyWriter()).Encode(v); err != nil {
		ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
	}
}
