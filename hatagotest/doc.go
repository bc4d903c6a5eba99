// Package hatagotest helps test handlers for concurrency: it drives them
// with many requests at once, so that `go test -race` sees the races a
// sequential test never would, checks them with the Lint middleware, and
// serves them through a real Hatago server.
//
// # Hammer
//
// A handler that keeps a count in a struct field passes every sequential
// test: one request at a time never races. [Hammer] serves a handler many
// requests from many goroutines, released together behind a barrier so
// that their requests overlap, calling ServeHTTP directly with a recorder
// (no sockets, so thousands of requests take milliseconds):
//
//	func TestCounter(t *testing.T) {
//		c := &Counter{}
//		res := hatagotest.Hammer(t, c, hatagotest.HammerOptions{Requests: 1000, Lint: true})
//		if c.Total() != res.Requests {
//			t.Errorf("got %d, want %d", c.Total(), res.Requests)
//		}
//	}
//
// Run it with -race: a racy handler then fails the test with the race
// detector's report, the two stacks that conflict. Without -race, Hammer
// still finds lost updates, panics and contract violations (with Lint),
// but only the race detector finds a race that did no visible harm in
// this run and will in another.
//
// # Serve
//
// [Serve] starts a real Hatago server for a handler on 127.0.0.1 with a
// free port and shuts it down when the test ends; [Server.Hammer] sends
// the same hammering over real connections, through the server's slots,
// backlog, timeouts and middleware.
//
// # Lint
//
// [Lint] wraps a handler in [middleware.Lint] reporting to the test:
// WriteHeader called twice, a header changed after it was sent, a
// ResponseWriter used by a goroutine after the handler returned, and the
// other rules middleware.Lint lists, each with the stack of the
// offending call. HammerOptions.Lint does the same for a Hammer.
package hatagotest
