// Package app is the TechEmpower benchmark application on Hatago: the
// seven test types of TechEmpower's FrameworkBenchmarks (JSON,
// single query, multiple queries, fortunes, updates, plaintext and cached
// queries), served by any Hatago server and backed by Hatago's data layer
// on SQLite or PostgreSQL.
//
// Each Hatago slot holds a database connection of its own (a per-worker
// resource, see package resource), so a request never waits on the pool
// and its prepared statements stay on its connection.
package app

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/resource"
)

// World is a row of the world table.
type World struct {
	ID           int32 `db:"id" json:"id"`
	RandomNumber int32 `db:"randomnumber" json:"randomNumber"`
}

// Fortune is a row of the fortune table.
type Fortune struct {
	ID      int32  `db:"id"`
	Message string `db:"message"`
}

// Rows is how many rows the world table has: ids 1..Rows.
const Rows = 10000

// App serves the benchmark's routes. Make one with New; its Handler
// serves them and Resources lists what it needs of each slot.
type App struct {
	db      *query.DB
	conn    *resource.Key[*query.Conn]
	cache   []World // index id-1; filled at start for /cached-queries
	date    atomic.Pointer[[]string]
	stop    chan struct{}
	stopped sync.WaitGroup
}

// New makes the application on db, whose world and fortune tables must
// exist and be seeded. It reads the world table once for the cached-
// queries test.
func New(ctx context.Context, db *query.DB) (*App, error) {
	a := &App{db: db, stop: make(chan struct{})}
	a.conn = resource.New("db", func(ctx context.Context, _ int) (*query.Conn, error) {
		return db.Acquire(ctx)
	}, func(c *query.Conn) error { c.Release(); return nil })
	ws, err := query.Table[World](db, "world").OrderBy("id").Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("world: fill the cache: %w", err)
	}
	a.cache = make([]World, Rows)
	for _, w := range ws {
		if w.ID >= 1 && w.ID <= Rows {
			a.cache[w.ID-1] = w
		}
	}
	a.tickDate(time.Now())
	a.stopped.Add(1)
	go a.dates()
	return a, nil
}

// Close stops the Date header's clock.
func (a *App) Close() {
	close(a.stop)
	a.stopped.Wait()
}

// Resources is what each slot of the server holds for the application:
// its own database connection.
func (a *App) Resources() []resource.Decl { return []resource.Decl{a.conn} }

// dates refreshes the cached Date header every second.
func (a *App) dates() {
	defer a.stopped.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			a.tickDate(now)
		case <-a.stop:
			return
		}
	}
}

func (a *App) tickDate(now time.Time) {
	v := []string{now.UTC().Format(http.TimeFormat)}
	a.date.Store(&v)
}

// executor is the slot's own connection, or the pool outside a Hatago
// slot (in tests through httptest, say).
func (a *App) executor(ctx context.Context) query.Executor {
	if c, ok := a.conn.Lookup(ctx); ok {
		return c
	}
	return a.db
}

var (
	serverHeader = []string{"Hatago"}
	jsonType     = []string{"application/json"}
	textType     = []string{"text/plain"}
	htmlType     = []string{"text/html; charset=utf-8"}
	helloWorld   = []byte("Hello, World!")
)

// Handler serves the seven routes. A switch on the path is the cheapest
// router there is, and this application is a benchmark.
func (a *App) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Server"] = serverHeader
		h["Date"] = *a.date.Load()
		switch r.URL.Path {
		case "/plaintext":
			h["Content-Type"] = textType
			h["Content-Length"] = []string{strconv.Itoa(len(helloWorld))}
			w.Write(helloWorld)
		case "/json":
			a.json(w, r)
		case "/db":
			a.single(w, r)
		case "/queries":
			a.queries(w, r)
		case "/fortunes":
			a.fortunes(w, r)
		case "/updates":
			a.updates(w, r)
		case "/cached-queries":
			a.cached(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.Write(b)
}

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func (a *App) json(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, &struct {
		Message string `json:"message"`
	}{"Hello, World!"})
}

func randomID() int32 { return rand.Int32N(Rows) + 1 }

func (a *App) single(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	world, err := query.Table[World](a.executor(ctx), "world").Find(ctx, randomID())
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, &world)
}

// Count parses a queries or count parameter as the benchmark wants it:
// missing, not a number or below 1 is 1; above 500 is 500.
func Count(s string) int {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n < 1:
		return 1
	case n > 500:
		return 500
	}
	return n
}

// worlds reads n random rows, each with a query of its own.
func (a *App) worlds(ctx context.Context, n int) ([]World, error) {
	worlds := query.Table[World](a.executor(ctx), "world")
	out := make([]World, n)
	for i := range out {
		w, err := worlds.Find(ctx, randomID())
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

func (a *App) queries(w http.ResponseWriter, r *http.Request) {
	ws, err := a.worlds(r.Context(), Count(r.URL.Query().Get("queries")))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, ws)
}

func (a *App) updates(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, err := a.worlds(ctx, Count(r.URL.Query().Get("queries")))
	if err != nil {
		fail(w, err)
		return
	}
	for i := range ws {
		old := ws[i].RandomNumber
		for ws[i].RandomNumber == old { // every row really changes
			ws[i].RandomNumber = randomID()
		}
	}
	// One statement for all the rows, sorted by id so that concurrent
	// updates lock rows in the same order and never deadlock; a row drawn
	// twice is written once, with its last value.
	batch := slices.Clone(ws)
	slices.SortStableFunc(batch, func(x, y World) int { return int(x.ID - y.ID) })
	batch = compactLast(batch)
	_, err = query.Table[World](a.executor(ctx), "world").
		Upsert(ctx, []string{"id"}, []string{"randomnumber"}, batch...)
	if err != nil {
		fail(w, err)
		return
	}
	// The response shows each row as written.
	last := make(map[int32]int32, len(batch))
	for _, b := range batch {
		last[b.ID] = b.RandomNumber
	}
	for i := range ws {
		ws[i].RandomNumber = last[ws[i].ID]
	}
	writeJSON(w, ws)
}

// compactLast keeps the last of each run of equal ids in a sorted slice.
func compactLast(ws []World) []World {
	out := ws[:0]
	for i, w := range ws {
		if i+1 < len(ws) && ws[i+1].ID == w.ID {
			continue
		}
		out = append(out, w)
	}
	return out
}

func (a *App) cached(w http.ResponseWriter, r *http.Request) {
	n := Count(r.URL.Query().Get("count"))
	ws := make([]World, n)
	for i := range ws {
		ws[i] = a.cache[randomID()-1]
	}
	writeJSON(w, ws)
}

var fortunesPage = template.Must(template.New("fortunes").Parse(`<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>{{range .}}<tr><td>{{.ID}}</td><td>{{.Message}}</td></tr>{{end}}</table></body></html>`))

func (a *App) fortunes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fs, err := query.Table[Fortune](a.executor(ctx), "fortune").Get(ctx)
	if err != nil {
		fail(w, err)
		return
	}
	fs = append(fs, Fortune{ID: 0, Message: "Additional fortune added at request time."})
	slices.SortFunc(fs, func(x, y Fortune) int {
		switch {
		case x.Message < y.Message:
			return -1
		case x.Message > y.Message:
			return 1
		}
		return 0
	})
	w.Header()["Content-Type"] = htmlType
	if err := fortunesPage.Execute(w, fs); err != nil {
		fail(w, err)
	}
}
