package middleware_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/middleware"
)

// TestServerFreezesStack serves a Stack through a real Hatago server: Start
// freezes it before the first request, so a late Use panics at once
// instead of racing with the goroutines that serve the chain.
func TestServerFreezesStack(t *testing.T) {
	st := middleware.New(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Outer", "1")
			next.ServeHTTP(w, r)
		})
	})
	st.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	srv, err := hatago.New(st, hatago.Config{
		Binds:  []string{"tcp://127.0.0.1:0"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frozen() {
		t.Fatal("New froze the stack; only Start may")
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if !st.Frozen() {
		t.Fatal("Start did not freeze the stack")
	}

	func() {
		defer func() {
			v := recover()
			if v == nil {
				t.Fatal("Use after Start did not panic")
			}
			if msg := fmt.Sprint(v); !strings.Contains(msg, "frozen") {
				t.Errorf("panic %q does not say the stack is frozen", msg)
			}
		}()
		st.Use(func(next http.Handler) http.Handler { return next })
	}()

	resp, err := http.Get("http://" + srv.Addrs()[0].String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got, want := string(body), "hello"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if got := resp.Header.Get("X-Outer"); got != "1" {
		t.Errorf("X-Outer %q, want 1: the middleware added before Start must run", got)
	}
}
