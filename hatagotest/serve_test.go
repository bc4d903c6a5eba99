package hatagotest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/hatagotest"
)

func TestServe(t *testing.T) {
	var s *hatagotest.Server
	t.Run("serving", func(t *testing.T) {
		s = hatagotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			slot, ok := hatago.Slot(r.Context())
			fmt.Fprintf(w, "hello %s from slot %d (%v)", r.URL.Path, slot, ok)
		}), hatago.Config{MaxSlots: 2})
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, ":0") {
			t.Errorf("got URL %q, want http://127.0.0.1:PORT", s.URL)
		}
		res, err := s.Client.Get(s.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got, want := string(b), "hello /x from slot 0 (true)"; got != want {
			t.Errorf("got %q, want %q: served by a Hatago slot", got, want)
		}
	})
	select {
	case <-s.Hatago.Done():
	default:
		t.Errorf("the server still runs after its test ended")
	}
}

// TestServerHammer hammers over real connections: requests overlap on the
// server (four inside the handler at once) and every one is answered.
func TestServerHammer(t *testing.T) {
	s := hatagotest.Serve(t, overlapHandler(t, 4), hatago.Config{MaxSlots: 8})
	res := s.Hammer(t, hatagotest.HammerOptions{Goroutines: 8, Requests: 200})
	if res.Requests != 200 || res.Status[200] != 200 || res.Errors != 0 {
		t.Errorf("got %v, want 200 answers 200", res)
	}
	if res.MaxInFlight < 4 {
		t.Errorf("got MaxInFlight %d, want at least 4", res.MaxInFlight)
	}
}

// TestServerHammerRequests sends requests made by httptest.NewRequest,
// with bodies, and checks each response.
func TestServerHammerRequests(t *testing.T) {
	s := hatagotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s ", r.Method, r.URL.Path, r.URL.Query().Get("q"))
		io.Copy(w, r.Body)
	}), hatago.Config{})
	res := s.Hammer(t, hatagotest.HammerOptions{
		Goroutines: 4,
		Requests:   40,
		Request: func(i int) *http.Request {
			return httptest.NewRequest("PUT", "/item?q="+strconv.Itoa(i), strings.NewReader("body"+strconv.Itoa(i)))
		},
		Check: func(tb testing.TB, i int, res *http.Response) {
			b, _ := io.ReadAll(res.Body)
			if want := fmt.Sprintf("PUT /item %d body%d", i, i); string(b) != want {
				tb.Errorf("request %d: got %q, want %q", i, b, want)
			}
		},
	})
	if res.Status[200] != 40 {
		t.Errorf("got %v, want 40 answers 200", res)
	}
}

func TestServeFatal(t *testing.T) {
	tests := []struct {
		name string
		run  func(tb testing.TB)
		want string
	}{
		{"workers", func(tb testing.TB) {
			hatagotest.Serve(tb, http.NotFoundHandler(), hatago.Config{Workers: 2})
		}, "cfg.Workers"},
		{"bad config", func(tb testing.TB) {
			hatagotest.Serve(tb, http.NotFoundHandler(), hatago.Config{MinSlots: 5, MaxSlots: 2})
		}, "hatagotest: Serve:"},
		{"lint on a server", func(tb testing.TB) {
			s := hatagotest.Serve(tb, http.NotFoundHandler(), hatago.Config{})
			s.Hammer(tb, hatagotest.HammerOptions{Lint: true})
		}, "HammerOptions.Lint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := runFake(t, tt.run)
			f.end()
			if _, fatal := f.reported(); !strings.Contains(fatal, tt.want) {
				t.Errorf("got fatal %q, want it to contain %q", fatal, tt.want)
			}
		})
	}
}

// logTB is a fakeTB that records Log lines too.
type logTB struct {
	*fakeTB
	mu   sync.Mutex
	logs []string
}

func (l *logTB) Log(args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs = append(l.logs, fmt.Sprint(args...))
}

// TestServeLogs checks that the server logs through the test, its stop
// included: the log's guard is cleaned up after the shutdown.
func TestServeLogs(t *testing.T) {
	l := &logTB{fakeTB: &fakeTB{TB: t}}
	hatagotest.Serve(l, http.NotFoundHandler(), hatago.Config{})
	l.end()
	l.mu.Lock()
	logs := strings.Join(l.logs, "\n")
	l.mu.Unlock()
	for _, want := range []string{"hatago: serving", "hatago: stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the test's log has no %q:\n%s", want, logs)
		}
	}
	if errs, fatal := l.reported(); len(errs) != 0 || fatal != "" {
		t.Errorf("got errors %q, fatal %q", errs, fatal)
	}
}
