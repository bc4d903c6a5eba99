package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hatago/hatago/bench/tfb"
)

// fake is an in-memory server that follows the rules unless told to break
// one, with a world table Lookup can read.
type fake struct {
	mu    sync.Mutex // guards world
	world [tfb.WorldRows + 1]int32

	noServer, badType, noClamp, rawFortunes, lostUpdates, wrongJSON, objectQueries bool
	plainCharset                                                                   string
}

func (f *fake) handler() http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, ctype string, body []byte) {
		if !f.noServer {
			w.Header().Set("Server", "fake")
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	}
	jsonType := "application/json"
	if f.badType {
		jsonType = "text/json"
	}
	n := func(r *http.Request, param string) int {
		if f.noClamp {
			var n int
			json.Unmarshal([]byte(r.URL.Query().Get(param)), &n)
			return n
		}
		return tfb.Queries(r.URL.Query().Get(param))
	}
	rows := func(count int, update bool) []tfb.World {
		f.mu.Lock()
		defer f.mu.Unlock()
		ws := make([]tfb.World, max(count, 0))
		for i := range ws {
			id := tfb.RandomID()
			ws[i] = tfb.World{ID: id, RandomNumber: f.world[id]}
			if update {
				ws[i].RandomNumber = tfb.RandomID()
				if !f.lostUpdates {
					f.world[id] = ws[i].RandomNumber
				}
			}
		}
		return ws
	}
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		msg := tfb.HelloWorld
		if f.wrongJSON {
			msg = "Hello, world"
		}
		b, _ := json.Marshal(tfb.Message{Message: msg})
		write(w, jsonType, b)
	})
	mux.HandleFunc("/db", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(rows(1, false)[0])
		write(w, jsonType, b)
	})
	mux.HandleFunc("/queries", func(w http.ResponseWriter, r *http.Request) {
		ws := rows(n(r, "queries"), false)
		var b []byte
		if f.objectQueries && len(ws) == 1 {
			b, _ = json.Marshal(ws[0])
		} else {
			b, _ = json.Marshal(ws)
		}
		write(w, jsonType, b)
	})
	mux.HandleFunc("/updates", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(rows(n(r, "queries"), true))
		write(w, jsonType, b)
	})
	mux.HandleFunc("/cached-queries", func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(rows(n(r, "count"), false))
		write(w, jsonType, b)
	})
	mux.HandleFunc("/fortunes", func(w http.ResponseWriter, r *http.Request) {
		fs := tfb.AddAndSort(append([]tfb.Fortune(nil), tfb.Fortunes...))
		page := tfb.AppendFortunesPage(nil, fs)
		if f.rawFortunes {
			page = []byte(strings.ReplaceAll(string(page), "&lt;script&gt;", "<script>"))
		}
		write(w, "text/html; charset=utf-8", page)
	})
	mux.HandleFunc("/plaintext", func(w http.ResponseWriter, r *http.Request) {
		write(w, "text/plain"+f.plainCharset, []byte(tfb.HelloWorld))
	})
	return mux
}

func (f *fake) lookup(_ context.Context, id int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int(f.world[id]), nil
}

func newFake() *fake {
	f := &fake{}
	for i := range f.world {
		f.world[i] = tfb.RandomID()
	}
	return f
}

func check(t *testing.T, f *fake, tests ...string) []Problem {
	t.Helper()
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	c := &Checker{BaseURL: srv.URL, Lookup: f.lookup}
	return c.Check(t.Context(), tests...)
}

func TestCheckPasses(t *testing.T) {
	for _, charset := range []string{"", "; charset=utf-8", "; charset=UTF-8"} {
		f := newFake()
		f.plainCharset = charset
		for _, p := range check(t, f) {
			t.Errorf("plaintext charset %q: %v", charset, p)
		}
	}
}

func TestCheckFinds(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(*fake)
		test  string // the test whose problem must be reported
		want  string // in the problem's text
	}{
		{"no Server header", func(f *fake) { f.noServer = true }, JSON, "no Server header"},
		{"wrong content type", func(f *fake) { f.badType = true }, DB, `Content-Type "text/json`},
		{"wrong message", func(f *fake) { f.wrongJSON = true }, JSON, "want {"},
		{"no clamping", func(f *fake) { f.noClamp = true }, Queries, "=501: 501 rows, want 500"},
		{"no clamping in cached queries", func(f *fake) { f.noClamp = true }, CachedQueries, "=0: 0 rows, want 1"},
		{"object for one query", func(f *fake) { f.objectQueries = true }, Queries, "not a JSON array"},
		{"unescaped fortune", func(f *fake) { f.rawFortunes = true }, Fortunes, "differs"},
		{"updates not written", func(f *fake) { f.lostUpdates = true }, Updates, "hold their new number"},
		{"latin-1 plaintext", func(f *fake) { f.plainCharset = "; charset=iso-8859-1" }, Plaintext, "not utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			tt.spoil(f)
			problems := check(t, f, tt.test)
			for _, p := range problems {
				if p.Test == tt.test && strings.Contains(p.Error(), tt.want) {
					return
				}
			}
			t.Errorf("got %v, want a %s problem with %q", problems, tt.test, tt.want)
		})
	}
}

func TestCheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &Checker{BaseURL: srv.URL}
	if got := c.Check(t.Context(), JSON, "nope"); len(got) != 2 {
		t.Errorf("got %v, want a problem for each test", got)
	}
}

func TestHTMLTokens(t *testing.T) {
	tests := []struct {
		name, a, b string
		equal      bool
	}{
		{"apostrophes", "<td>aren&#39;t</td>", "<td>aren&#x27;t</td>", true},
		{"apos entity", "<td>aren&#39;t</td>", "<td>aren&apos;t</td>", true},
		{"quotes", "<td>&quot;x&#34;</td>", "<td>&#34;x&quot;</td>", true},
		{"plus", "<td>4.33e+67</td>", "<td>4.33e&#43;67</td>", true},
		{"whitespace between tags", "<tr>\n  <td>x</td>\n</tr>", "<tr><td>x</td></tr>", true},
		{"tag case", "<TD>x</TD>", "<td>x</td>", true},
		{"text differs", "<td>x</td>", "<td>y</td>", false},
		{"raw tag in text", "<td>&lt;b&gt;</td>", "<td><b></td>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, errA := htmlTokens(tt.a)
			b, errB := htmlTokens(tt.b)
			equal := errA == nil && errB == nil && strings.Join(a, "\x00") == strings.Join(b, "\x00")
			if equal != tt.equal {
				t.Errorf("tokens %q and %q: equal %v, want %v", a, b, equal, tt.equal)
			}
		})
	}
	if _, err := htmlTokens(`<td>aren't</td>`); err == nil {
		t.Error("raw ' in text: no error")
	}
}

func FuzzHTMLTokens(f *testing.F) {
	f.Add(expectedFortunes)
	f.Add("<td>a&amp;b</td>")
	f.Add("<unterminated")
	f.Fuzz(func(t *testing.T, page string) {
		toks, err := htmlTokens(page)
		if err != nil {
			return
		}
		for _, tok := range toks {
			if tok == "" {
				t.Errorf("htmlTokens(%q): an empty token", page)
			}
		}
	})
}
