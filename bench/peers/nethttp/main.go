// Command nethttp serves the seven TechEmpower tests on the standard
// library's net/http, written the way the fastest net/http entries write
// them: a ServeMux, headers set by map assignment, encoding/json into a
// buffer with an explicit Content-Length, a hand-written escaping writer for
// the fortunes page, and a pgx pool with its statement cache. net/http adds
// the Date header itself. It is the closest peer to Hatago, which serves
// the same kind of http.Handler.
//
//	nethttp -addr 127.0.0.1:8080 -db postgres://user:pass@127.0.0.1/hatago_bench
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/hatago/hatago/bench/tfb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen `host:port`")
	dbURL := flag.String("db", os.Getenv("HATAGO_BENCH_POSTGRES"), "PostgreSQL `URL`")
	pool := flag.Int("pool", 16, "database connections")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL, *pool); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, dbURL string, poolSize int) error {
	pool, err := tfb.Open(ctx, dbURL, poolSize)
	if err != nil {
		return err
	}
	defer pool.Close()
	s := &server{db: tfb.DB{Pool: pool}}
	if s.cache, err = s.db.LoadWorlds(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.routes()}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.Close()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// server holds the handlers' shared, read-only state.
type server struct {
	db    tfb.DB
	cache []tfb.World
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /json", s.json)
	mux.HandleFunc("GET /db", s.single)
	mux.HandleFunc("GET /queries", s.queries)
	mux.HandleFunc("GET /fortunes", s.fortunes)
	mux.HandleFunc("GET /updates", s.updates)
	mux.HandleFunc("GET /plaintext", s.plaintext)
	mux.HandleFunc("GET /cached-queries", s.cachedQueries)
	return mux
}

var (
	serverName    = []string{"net/http"}
	typeJSON      = []string{"application/json"}
	typeText      = []string{"text/plain"}
	typeHTML      = []string{"text/html; charset=utf-8"}
	helloWorld    = []byte(tfb.HelloWorld)
	helloWorldLen = []string{strconv.Itoa(len(helloWorld))}
)

// write sends body with the test's headers; net/http adds Date.
func write(w http.ResponseWriter, ctype []string, body []byte) {
	h := w.Header()
	h["Server"] = serverName
	h["Content-Type"] = ctype
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	write(w, typeJSON, body)
}

func (s *server) json(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, &tfb.Message{Message: tfb.HelloWorld})
}

func (s *server) single(w http.ResponseWriter, r *http.Request) {
	var world tfb.World
	if err := s.db.World(r.Context(), &world); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, &world)
}

func (s *server) queries(w http.ResponseWriter, r *http.Request) {
	worlds := make([]tfb.World, tfb.Queries(r.URL.Query().Get("queries")))
	if err := s.db.Worlds(r.Context(), worlds); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, worlds)
}

func (s *server) updates(w http.ResponseWriter, r *http.Request) {
	worlds := make([]tfb.World, tfb.Queries(r.URL.Query().Get("queries")))
	if err := s.db.Update(r.Context(), worlds); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, worlds)
}

func (s *server) cachedQueries(w http.ResponseWriter, r *http.Request) {
	worlds := make([]tfb.World, tfb.Queries(r.URL.Query().Get("count")))
	for i := range worlds {
		worlds[i] = s.cache[tfb.RandomID()-1]
	}
	writeJSON(w, worlds)
}

func (s *server) fortunes(w http.ResponseWriter, r *http.Request) {
	fortunes, err := s.db.Fortunes(r.Context(), make([]tfb.Fortune, 0, 16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	write(w, typeHTML, tfb.AppendFortunesPage(make([]byte, 0, 2048), fortunes))
}

func (s *server) plaintext(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Server"] = serverName
	h["Content-Type"] = typeText
	h["Content-Length"] = helloWorldLen
	w.Write(helloWorld)
}
