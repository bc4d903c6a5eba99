// Package addr checks the address of shared state passed to a function of
// another package, which may write it out of the analyzer's sight.
package addr

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log"
	"net/http"
	"sync"
	"sync/atomic"
)

type config struct{ Name string }

type J struct {
	mu    sync.Mutex
	rw    sync.RWMutex
	cfg   config
	n     int
	count int64
	stats struct {
		sync.Mutex
		hits int
	}
}

func (j *J) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	json.NewDecoder(r.Body).Decode(&j.cfg)  // want `^\(\*J\)\.ServeHTTP passes the address of field cfg of its receiver to encoding/json\.\(\*Decoder\)\.Decode, which may write it, without a lock: one \*J serves every request goroutine at once; guard it with a sync\.Mutex or keep per-request state in locals or middleware\.PerRequest$`
	fmt.Sscan(r.URL.Query().Get("n"), &j.n) // want `passes the address of field n of its receiver to fmt\.Sscan, which may write it, without a lock`

	j.mu.Lock()
	json.NewDecoder(r.Body).Decode(&j.cfg)
	j.mu.Unlock()

	j.rw.RLock()
	json.Unmarshal(nil, &j.cfg) // want `^\(\*J\)\.ServeHTTP passes the address of field cfg of its receiver to encoding/json\.Unmarshal, which may write it, under RLock: a read lock lets other readers run at once; use Lock$`
	j.rw.RUnlock()

	var local config
	json.NewDecoder(r.Body).Decode(&local) // the handler's own
	c := j.cfg
	json.Unmarshal(nil, &c)           // a copy
	fmt.Println(&j.cfg)               // printing reads
	log.Printf("%+v", &j.cfg)         // logging reads
	xml.Marshal(&j.cfg)               // marshalling reads
	json.NewEncoder(w).Encode(&j.cfg) // encoding reads
	atomic.AddInt64(&j.count, 1)      // atomic
	json.Unmarshal(nil, &j.stats)     // holds its own mutex
}

var defaults config

func handle(w http.ResponseWriter, r *http.Request) {
	json.Unmarshal(nil, &defaults) // want `^handle passes the address of package-level variable defaults to encoding/json\.Unmarshal, which may write it, without a lock: every request goroutine shares it; guard it with a sync\.Mutex or keep per-request state in locals$`
}

func Captured() http.Handler {
	var n int
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Sscan(r.URL.Path, &n) // want `^handler closure passes the address of n, captured from Captured, to fmt\.Sscan, which may write it, and every request shares it: guard it with a sync\.Mutex or declare it inside the handler so each request gets its own$`
	})
}

// V has a value receiver: its fields are a copy.
type V struct{ n int }

func (v V) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fmt.Sscan(r.URL.Path, &v.n)
}
