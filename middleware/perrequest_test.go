package middleware_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hatago/hatago/middleware"
)

// perRequestPage keeps per-request state in its fields, as a Rack
// middleware that dups itself does.
type perRequestPage struct {
	user  string
	lines []string
	seen  map[string]int
}

func (p *perRequestPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.user != "" || p.lines != nil || p.seen != nil {
		http.Error(w, "a previous request's state leaked in", http.StatusInternalServerError)
		return
	}
	p.user = r.URL.Query().Get("user")
	p.seen = map[string]int{}
	for i := range 50 {
		p.lines = append(p.lines, fmt.Sprintf("%s-%d", p.user, i))
		p.seen[p.user]++
	}
	fmt.Fprintf(w, "%p %s %d %d", p, p.user, len(p.lines), p.seen[p.user])
}

// TestPerRequestFreshValues serves requests from many goroutines at once:
// each must get a value of its own, with zero fields, and go test -race
// must see no race on the fields they write.
func TestPerRequestFreshValues(t *testing.T) {
	var made sync.Map // pointer -> true
	h := middleware.PerRequest(func() *perRequestPage {
		p := &perRequestPage{}
		if _, dup := made.LoadOrStore(p, true); dup {
			t.Errorf("newHandler returned %p twice", p)
		}
		return p
	})
	const goroutines, each = 16, 25
	var mu sync.Mutex
	pointers := map[string]bool{}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				user := fmt.Sprintf("u%d.%d", g, i)
				rec := coreGet(h, "/?user="+user)
				if rec.Code != http.StatusOK {
					t.Errorf("got %v %q, want 200", rec.Code, rec.Body.String())
					return
				}
				var ptr, gotUser string
				var lines, seen int
				if _, err := fmt.Sscanf(rec.Body.String(), "%s %s %d %d", &ptr, &gotUser, &lines, &seen); err != nil {
					t.Errorf("body %q: %v", rec.Body.String(), err)
					return
				}
				if gotUser != user || lines != 50 || seen != 50 {
					t.Errorf("got %s %d %d, want %s 50 50", gotUser, lines, seen, user)
				}
				mu.Lock()
				pointers[ptr] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// made keeps every value alive, so the allocator cannot reuse one:
	// each request must have had its own.
	if got, want := len(pointers), goroutines*each; got != want {
		t.Errorf("got %v distinct values, want %v", got, want)
	}
}

func TestPerRequestRejectsNil(t *testing.T) {
	msg := coreMustPanic(t, func() { middleware.PerRequest[*perRequestPage](nil) })
	if want := "middleware: PerRequest: newHandler is nil"; !strings.Contains(msg, want) {
		t.Errorf("got %q, want %q", msg, want)
	}
}
