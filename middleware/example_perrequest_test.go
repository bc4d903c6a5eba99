package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hatago/hatago/middleware"
)

// perRequestGreeter keeps the request's state in its fields: safe only because
// PerRequest gives every request one of its own.
type perRequestGreeter struct {
	greeting string // shared, read-only configuration
	name     string // per request
	visits   map[string]int
}

func (g *perRequestGreeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.name = r.URL.Query().Get("name")
	g.visits[g.name]++
	fmt.Fprintf(w, "%s, %s (%d)", g.greeting, g.name, g.visits[g.name])
}

func ExamplePerRequest() {
	greeting := "Hello" // captured, read by every request, written by none
	h := middleware.PerRequest(func() *perRequestGreeter {
		// A fresh map per request: copying a template value would
		// share one map between every request.
		return &perRequestGreeter{greeting: greeting, visits: map[string]int{}}
	})
	for _, name := range []string{"Ann", "Bo", "Ann"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?name="+name, nil))
		fmt.Println(rec.Body.String())
	}
	// Output:
	// Hello, Ann (1)
	// Hello, Bo (1)
	// Hello, Ann (1)
}
