package hatagotest_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/hatago/hatago/hatagotest"
)

// counter counts its requests; the mutex keeps the count right when
// requests run at once.
type counter struct {
	mu    sync.Mutex // guards total
	total int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.total++
	n := c.total
	c.mu.Unlock()
	fmt.Fprintf(w, "request %d\n", n)
}

// exampleT stands in for the *testing.T a test would pass.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Hammer a counter with 1000 requests from many goroutines at once. In a
// test, pass its t, and run it with -race: without the mutex, the race
// detector would fail the test, and the total would come out short.
func ExampleHammer() {
	var t exampleT // in a test: t *testing.T
	c := &counter{}
	res := hatagotest.Hammer(t, c, hatagotest.HammerOptions{Requests: 1000})
	fmt.Println("answered:", res.Requests, res.Status)
	fmt.Println("counted:", c.total)
	// Output:
	// answered: 1000 map[200:1000]
	// counted: 1000
}
