package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/resource"
)

// scratch is the demo's per-slot resource: each slot owns one, so handlers
// use it without a lock. A real app would hold a database connection here.
type scratch struct {
	slot   int
	served int // requests this slot served: no lock, the slot is ours
	buf    []byte
}

var scratchKey = resource.New("scratch",
	func(_ context.Context, slot int) (*scratch, error) {
		return &scratch{slot: slot, buf: make([]byte, 0, 256)}, nil
	}, nil)

// app is the demo's handler; stats reads the server it runs in.
type app struct {
	mux   *http.ServeMux
	stats func() any
}

func newApp(stats func() any) *app {
	a := &app{mux: http.NewServeMux(), stats: stats}
	a.mux.HandleFunc("GET /{$}", a.index)
	a.mux.HandleFunc("GET /hello", a.hello)
	a.mux.HandleFunc("GET /slow", a.slow)
	a.mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("the demo's /panic route") })
	a.mux.HandleFunc("GET /stats", a.statsJSON)
	return a
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

const indexText = `Hatago demo

  /hello          which slot served you, and how long you queued
  /slow?ms=2000   hold a slot (try many at once: the backlog fills, then 503)
  /panic          a handler panic: 500, and the server serves on
  /stats          the live stats document (Puma's fields and Hatago's)
`

func (a *app) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, indexText)
}

func (a *app) hello(w http.ResponseWriter, r *http.Request) {
	s := scratchKey.From(r.Context())
	s.served++
	s.buf = fmt.Appendf(s.buf[:0], "Hello from slot %d (its request #%d), queued %v\n",
		s.slot, s.served, hatago.QueueTime(r.Context()))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(s.buf)
}

func (a *app) slow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > 60000 {
		ms = 1000
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		slot, _ := hatago.Slot(r.Context())
		fmt.Fprintf(w, "slept %dms on slot %d\n", ms, slot)
	case <-r.Context().Done():
		// Cancelled: the client left, the request timed out or the server
		// is stopping. Nothing more to write.
	}
}

func (a *app) statsJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(a.stats())
}
