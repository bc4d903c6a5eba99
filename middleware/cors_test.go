package middleware

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// corsServe runs one request through CORS(cfg) and reports whether the
// next handler ran.
func corsServe(t testing.TB, cfg CORSConfig, method string, hdr http.Header) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	called := false
	h := CORS(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		w.WriteHeader(http.StatusTeapot)
	}))
	r := httptest.NewRequest(method, "/", nil)
	for k, vs := range hdr {
		r.Header[http.CanonicalHeaderKey(k)] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec, called
}

// corsHeaders is the CORS part of a response, for comparison.
type corsHeaders struct {
	allowOrigin, credentials, expose, vary string
}

func TestCORSActual(t *testing.T) {
	app := CORSConfig{AllowedOrigins: []string{"https://app.example.com", "https://*.example.org", "http://localhost:3000"}}
	tests := []struct {
		name   string
		cfg    CORSConfig
		method string
		origin []string
		want   corsHeaders
	}{
		{"no Origin still varies", app, "GET", nil, corsHeaders{vary: "Origin"}},
		{"exact", app, "GET", []string{"https://app.example.com"}, corsHeaders{"https://app.example.com", "", "", "Origin"}},
		{"case kept in the echo", app, "POST", []string{"HTTPS://App.Example.com"}, corsHeaders{"HTTPS://App.Example.com", "", "", "Origin"}},
		{"port", app, "GET", []string{"http://localhost:3000"}, corsHeaders{"http://localhost:3000", "", "", "Origin"}},
		{"other port", app, "GET", []string{"http://localhost:3001"}, corsHeaders{vary: "Origin"}},
		{"other scheme", app, "GET", []string{"http://app.example.com"}, corsHeaders{vary: "Origin"}},
		{"not listed", app, "GET", []string{"https://evil.com"}, corsHeaders{vary: "Origin"}},
		{"suffix trick", app, "GET", []string{"https://app.example.com.evil.com"}, corsHeaders{vary: "Origin"}},
		{"trailing slash is not an origin", app, "GET", []string{"https://app.example.com/"}, corsHeaders{vary: "Origin"}},
		{"two Origin lines", app, "GET", []string{"https://app.example.com", "https://app.example.com"}, corsHeaders{vary: "Origin"}},
		{"wildcard one level", app, "GET", []string{"https://a.example.org"}, corsHeaders{"https://a.example.org", "", "", "Origin"}},
		{"wildcard not the apex", app, "GET", []string{"https://example.org"}, corsHeaders{vary: "Origin"}},
		{"wildcard not two levels", app, "GET", []string{"https://a.b.example.org"}, corsHeaders{vary: "Origin"}},
		{"wildcard look-alike", app, "GET", []string{"https://evilexample.org"}, corsHeaders{vary: "Origin"}},
		{"wildcard with empty label", app, "GET", []string{"https://.example.org"}, corsHeaders{vary: "Origin"}},
		{"wildcard scheme", app, "GET", []string{"http://a.example.org"}, corsHeaders{vary: "Origin"}},
		{"null not listed", app, "GET", []string{"null"}, corsHeaders{vary: "Origin"}},
		{"method not allowed", app, "PUT", []string{"https://app.example.com"}, corsHeaders{vary: "Origin"}},
		{"OPTIONS without request method is not a preflight", CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"options"}},
			"OPTIONS", []string{"https://app.example.com"}, corsHeaders{"https://app.example.com", "", "", "Origin"}},
		{"any origin", CORSConfig{AllowedOrigins: []string{"*"}}, "GET", []string{"https://x.test"}, corsHeaders{allowOrigin: "*"}},
		{"any origin without Origin", CORSConfig{AllowedOrigins: []string{"*"}}, "GET", nil, corsHeaders{}},
		{"any origin is not null", CORSConfig{AllowedOrigins: []string{"*"}}, "GET", []string{"null"}, corsHeaders{}},
		{"null listed", CORSConfig{AllowedOrigins: []string{"null"}}, "GET", []string{"null"}, corsHeaders{"null", "", "", "Origin"}},
		{"default port written", CORSConfig{AllowedOrigins: []string{"https://app.example.com:443"}}, "GET", []string{"https://app.example.com"},
			corsHeaders{"https://app.example.com", "", "", "Origin"}},
		{"default port sent", CORSConfig{AllowedOrigins: []string{"https://app.example.com"}}, "GET", []string{"https://app.example.com:443"},
			corsHeaders{"https://app.example.com:443", "", "", "Origin"}},
		{"IPv6", CORSConfig{AllowedOrigins: []string{"http://[::1]:8080"}}, "GET", []string{"http://[::1]:8080"}, corsHeaders{"http://[::1]:8080", "", "", "Origin"}},
		{"credentials and exposed headers", CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true, ExposedHeaders: []string{"X-Total", "ETag"}},
			"GET", []string{"https://app.example.com"}, corsHeaders{"https://app.example.com", "true", "X-Total, ETag", "Origin"}},
		{"exposed with any origin", CORSConfig{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{"*"}}, "GET", []string{"https://x.test"}, corsHeaders{"*", "", "*", ""}},
		{"func allows", CORSConfig{AllowOriginFunc: func(o string) bool { return o == "https://Tenant.example.net" }}, "GET", []string{"https://Tenant.example.net"},
			corsHeaders{"https://Tenant.example.net", "", "", "Origin"}},
		{"func refuses", CORSConfig{AllowOriginFunc: func(o string) bool { return false }}, "GET", []string{"https://x.test"}, corsHeaders{vary: "Origin"}},
		{"func not asked about garbage", CORSConfig{AllowOriginFunc: func(o string) bool { return true }}, "GET", []string{"https://x.test/path"}, corsHeaders{vary: "Origin"}},
		{"func asked about null", CORSConfig{AllowOriginFunc: func(o string) bool { return o == "null" }}, "GET", []string{"null"}, corsHeaders{"null", "", "", "Origin"}},
		{"list before func", CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowOriginFunc: func(string) bool { panic("asked") }}, "GET",
			[]string{"https://app.example.com"}, corsHeaders{"https://app.example.com", "", "", "Origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, called := corsServe(t, tt.cfg, tt.method, http.Header{"Origin": tt.origin})
			if !called || rec.Code != http.StatusTeapot {
				t.Fatalf("next handler: got called %v, status %d, want called", called, rec.Code)
			}
			h := rec.Header()
			got := corsHeaders{h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"), h.Get("Access-Control-Expose-Headers"), strings.Join(h.Values("Vary"), ", ")}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if h.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("an actual request got Access-Control-Allow-Methods")
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	api := CORSConfig{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"GET", "put", "DELETE"},
		AllowedHeaders: []string{"Content-Type", "x-API-key"},
		MaxAge:         10 * time.Minute,
	}
	withPNA := api
	withPNA.AllowPrivateNetwork = true
	withCreds := api
	withCreds.AllowCredentials = true
	anyHeader := api
	anyHeader.AllowedHeaders = []string{"*"}
	anyMethod := api
	anyMethod.AllowedMethods = []string{"*"}
	noMaxAge := api
	noMaxAge.MaxAge = 0
	negMaxAge := api
	negMaxAge.MaxAge = -1

	type result struct {
		status                                       int
		origin, methods, headers, maxAge, creds, pna string
	}
	const origin = "https://app.example.com"
	tests := []struct {
		name string
		cfg  CORSConfig
		hdr  http.Header
		want result
	}{
		{"allowed", api, http.Header{"Access-Control-Request-Method": {"PUT"}},
			result{204, origin, "PUT", "", "600", "", ""}},
		{"headers without regard to case", api, http.Header{"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"X-Api-Key,content-type"}},
			result{204, origin, "PUT", "x-api-key, content-type", "600", "", ""}},
		{"headers over two lines with empty elements", api, http.Header{"Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {" , x-api-key ,", "content-type"}},
			result{204, origin, "GET", "x-api-key, content-type", "600", "", ""}},
		{"header not allowed", api, http.Header{"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"content-type,authorization"}},
			result{status: 403}},
		{"malformed header list", api, http.Header{"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"x api key"}},
			result{status: 403}},
		{"method not allowed", api, http.Header{"Access-Control-Request-Method": {"PATCH"}}, result{status: 403}},
		{"method is case-sensitive", api, http.Header{"Access-Control-Request-Method": {"patch"}}, result{status: 403}},
		{"lower-case method written upper", api, http.Header{"Access-Control-Request-Method": {"put"}}, result{status: 403}},
		{"origin not allowed", api, http.Header{"Access-Control-Request-Method": {"PUT"}, "Origin": {"https://evil.com"}}, result{status: 403}},
		{"two origins", api, http.Header{"Access-Control-Request-Method": {"PUT"}, "Origin": {origin, origin}}, result{status: 403}},
		{"any header echoes", anyHeader, http.Header{"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"authorization,x-whatever"}},
			result{204, origin, "PUT", "authorization, x-whatever", "600", "", ""}},
		{"any method echoes", anyMethod, http.Header{"Access-Control-Request-Method": {"PROPFIND"}},
			result{204, origin, "PROPFIND", "", "600", "", ""}},
		{"any method still wants a token", anyMethod, http.Header{"Access-Control-Request-Method": {"GET POST"}}, result{status: 403}},
		{"credentials", withCreds, http.Header{"Access-Control-Request-Method": {"DELETE"}},
			result{204, origin, "DELETE", "", "600", "true", ""}},
		{"no max age", noMaxAge, http.Header{"Access-Control-Request-Method": {"PUT"}}, result{204, origin, "PUT", "", "", "", ""}},
		{"negative max age", negMaxAge, http.Header{"Access-Control-Request-Method": {"PUT"}}, result{204, origin, "PUT", "", "0", "", ""}},
		{"private network allowed", withPNA, http.Header{"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Private-Network": {"true"}},
			result{204, origin, "PUT", "", "600", "", "true"}},
		{"private network refused", api, http.Header{"Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Private-Network": {"true"}},
			result{status: 403}},
		{"private network not asked", withPNA, http.Header{"Access-Control-Request-Method": {"PUT"}},
			result{204, origin, "PUT", "", "600", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := tt.hdr.Clone()
			if hdr.Get("Origin") == "" {
				hdr.Set("Origin", origin)
			}
			rec, called := corsServe(t, tt.cfg, "OPTIONS", hdr)
			if called {
				t.Errorf("the next handler ran for a preflight")
			}
			h := rec.Header()
			got := result{rec.Code, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"), h.Get("Access-Control-Allow-Headers"),
				h.Get("Access-Control-Max-Age"), h.Get("Access-Control-Allow-Credentials"), h.Get("Access-Control-Allow-Private-Network")}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			vary := strings.Join(h.Values("Vary"), ", ")
			wantVary := "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
			if tt.cfg.AllowPrivateNetwork {
				wantVary += ", Access-Control-Request-Private-Network"
			}
			if vary != wantVary {
				t.Errorf("Vary: got %q, want %q", vary, wantVary)
			}
			if rec.Body.Len() != 0 {
				t.Errorf("body: got %q, want none", rec.Body.String())
			}
		})
	}
}

// TestCORSServer sends a preflight and an actual request over a socket.
func TestCORSServer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(CORS(CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET", "DELETE"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Write([]byte("ok"))
		})))
	defer srv.Close()
	tests := []struct {
		method     string
		hdr        map[string]string
		status     int
		allowOrig  string
		wantCalled int32
	}{
		{"OPTIONS", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"}, 204, "https://app.example.com", 0},
		{"DELETE", map[string]string{"Origin": "https://app.example.com"}, 200, "https://app.example.com", 1},
		{"OPTIONS", map[string]string{"Origin": "https://evil.com", "Access-Control-Request-Method": "DELETE"}, 403, "", 1},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL, nil)
		for k, v := range tt.hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != tt.allowOrig || calls.Load() != tt.wantCalled {
			t.Errorf("%s %v: got %d, %q, %d calls; want %d, %q, %d calls", tt.method, tt.hdr, resp.StatusCode,
				resp.Header.Get("Access-Control-Allow-Origin"), calls.Load(), tt.status, tt.allowOrig, tt.wantCalled)
		}
	}
}

func TestCORSPanics(t *testing.T) {
	tests := []struct {
		name string
		cfg  CORSConfig
		want string
	}{
		{"nothing allowed", CORSConfig{}, "AllowedOrigins is empty and AllowOriginFunc is nil"},
		{"any with credentials", CORSConfig{AllowedOrigins: []string{"*"}, AllowCredentials: true}, `AllowedOrigins[0] "*": "*" cannot be combined with AllowCredentials`},
		{"any with others", CORSConfig{AllowedOrigins: []string{"https://a.test", "*"}}, `AllowedOrigins[1] "*"`},
		{"bare wildcard host", CORSConfig{AllowedOrigins: []string{"https://a.test", "https://b.test", "*.x"}}, `AllowedOrigins[2] "*.x"`},
		{"no scheme", CORSConfig{AllowedOrigins: []string{"app.example.com"}}, `AllowedOrigins[0] "app.example.com"`},
		{"path", CORSConfig{AllowedOrigins: []string{"https://app.example.com/"}}, `AllowedOrigins[0] "https://app.example.com/"`},
		{"user", CORSConfig{AllowedOrigins: []string{"https://u@app.example.com"}}, `AllowedOrigins[0]`},
		{"wildcard too wide", CORSConfig{AllowedOrigins: []string{"https://*.com"}}, `AllowedOrigins[0] "https://*.com"`},
		{"wildcard inside", CORSConfig{AllowedOrigins: []string{"https://a.*.example.com"}}, `AllowedOrigins[0]`},
		{"two wildcards", CORSConfig{AllowedOrigins: []string{"https://*.*.example.com"}}, `AllowedOrigins[0]`},
		{"bad port", CORSConfig{AllowedOrigins: []string{"https://app.example.com:99999"}}, `AllowedOrigins[0]`},
		{"empty port", CORSConfig{AllowedOrigins: []string{"https://app.example.com:"}}, `AllowedOrigins[0]`},
		{"no host", CORSConfig{AllowedOrigins: []string{"https://"}}, `AllowedOrigins[0]`},
		{"bad IPv6", CORSConfig{AllowedOrigins: []string{"http://[1.2.3.4]"}}, `AllowedOrigins[0]`},
		{"bad method", CORSConfig{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "PO ST"}}, `AllowedMethods[1] "PO ST"`},
		{"bad header", CORSConfig{AllowedOrigins: []string{"*"}, AllowedHeaders: []string{"X:Y"}}, `AllowedHeaders[0] "X:Y"`},
		{"bad exposed header", CORSConfig{AllowedOrigins: []string{"*"}, ExposedHeaders: []string{""}}, `ExposedHeaders[0] ""`},
		{"exposed any with credentials", CORSConfig{AllowedOrigins: []string{"https://a.test"}, AllowCredentials: true, ExposedHeaders: []string{"X-A", "*"}},
			`ExposedHeaders[1] "*" cannot be combined with AllowCredentials`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := realIPPanicMessage(func() { CORS(tt.cfg) })
			if !strings.HasPrefix(got, "middleware: CORS: "+tt.want) {
				t.Errorf("got panic %q, want one starting with %q", got, "middleware: CORS: "+tt.want)
			}
		})
	}
}

// FuzzCORSOrigin checks origin matching on any Origin value: it never
// panics, allows only the listed origins (up to case and default ports)
// and one-label subdomains of the wildcard, and never "null".
func FuzzCORSOrigin(f *testing.F) {
	p := corsCompile(CORSConfig{AllowedOrigins: []string{"https://app.example.com", "https://*.example.org", "http://localhost:3000"}})
	for _, s := range []string{"https://app.example.com", "https://a.example.org", "https://a.b.example.org", "null", "https://example.org",
		"HTTPS://APP.EXAMPLE.COM:443", "http://[::1]:80", "https://.example.org", "https://a.example.org.", "x://", "https://:443"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if !p.allowOrigin(origin) {
			return
		}
		o := strings.TrimSuffix(strings.ToLower(origin), ":443")
		switch {
		case o == "https://app.example.com", o == "http://localhost:3000":
		case strings.HasPrefix(o, "https://") && strings.HasSuffix(o, ".example.org"):
			label := strings.TrimSuffix(strings.TrimPrefix(o, "https://"), ".example.org")
			if label == "" || !corsIsHostname(label) || strings.Contains(label, ".") {
				t.Errorf("%q allowed through the wildcard", origin)
			}
		default:
			t.Errorf("%q allowed", origin)
		}
	})
}

// FuzzCORSPreflight sends preflights with any method and header list: an
// accepted one echoes only allowed names, as lower-case tokens.
func FuzzCORSPreflight(f *testing.F) {
	cfg := CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type", "X-Key"}}
	h := CORS(cfg)(http.NotFoundHandler())
	f.Add("PUT", "content-type, x-key")
	f.Add("PUT", ",,X-KEY,")
	f.Add("GET", "")
	f.Add("PUT", "x-key\tx")
	f.Fuzz(func(t *testing.T, method, headers string) {
		r := httptest.NewRequest("OPTIONS", "/", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", method)
		r.Header.Set("Access-Control-Request-Headers", headers)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case 403:
			if rec.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("refused preflight has Access-Control-Allow-Origin")
			}
		case 204:
			if got := rec.Header().Get("Access-Control-Allow-Methods"); got != "PUT" {
				t.Errorf("method %q: Allow-Methods %q", method, got)
			}
			if ah := rec.Header().Get("Access-Control-Allow-Headers"); ah != "" {
				for name := range strings.SplitSeq(ah, ", ") {
					if name != "content-type" && name != "x-key" {
						t.Errorf("headers %q: allowed %q", headers, name)
					}
				}
			}
		default:
			if method != "" { // no request method: not a preflight, so 404 from next
				t.Errorf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkCORS answers an actual request and a preflight from an allowed
// origin, as the browser writes it and in capitals.
func BenchmarkCORS(b *testing.B) {
	cfg := CORSConfig{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedMethods: []string{"GET", "POST"},
		AllowedHeaders: []string{"X-Token", "Content-Type"},
		MaxAge:         10 * time.Minute,
	}
	tests := []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"actual", "GET", map[string]string{"Origin": "https://app.example.com"}, http.StatusOK},
		{"actual-capitals", "GET", map[string]string{"Origin": "HTTPS://App.Example.com:443"}, http.StatusOK},
		{"preflight", "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-token,content-type"}, http.StatusNoContent},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			h := CORS(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			r := httptest.NewRequest(tt.method, "/", nil)
			for k, v := range tt.hdr {
				r.Header.Set(k, v)
			}
			w := &compressBenchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			if w.h.Get("Access-Control-Allow-Origin") != tt.hdr["Origin"] {
				b.Errorf("Access-Control-Allow-Origin: got %q, want %q", w.h.Get("Access-Control-Allow-Origin"), tt.hdr["Origin"])
			}
		})
	}
}

// TestCORSSharedValues: CORS assigns the same pre-built []string values to
// every response. Whatever appends to those headers afterwards (the
// handler, Compress adding to Vary, an outer middleware) must copy them,
// so that one response's additions never show in another's header. The
// requests run concurrently too, so that -race sees a shared write.
func TestCORSSharedValues(t *testing.T) {
	full := CORSConfig{
		AllowedOrigins:      []string{"https://app.example.com", "null"},
		AllowedMethods:      []string{"GET", "PUT"},
		AllowedHeaders:      []string{"X-Token", "Content-Type"},
		ExposedHeaders:      []string{"X-Total"},
		AllowCredentials:    true,
		MaxAge:              time.Hour,
		AllowPrivateNetwork: true,
	}
	anyOrigin := CORSConfig{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"*"}, AllowedHeaders: []string{"*"}}
	// appendAll adds a value to every header of h, in place if the slice
	// has room.
	appendAll := func(h http.Header, v string) {
		for k := range h {
			h[k] = append(h[k], v)
		}
	}
	tests := []struct {
		name     string
		cfg      CORSConfig
		compress bool // Compress outside CORS, with a JSON body: it adds Vary
		method   string
		hdr      map[string]string
	}{
		{"actual", full, false, "GET", map[string]string{"Origin": "https://app.example.com"}},
		{"actual as written", full, false, "GET", map[string]string{"Origin": "HTTPS://app.example.com:443"}},
		{"actual null", full, false, "GET", map[string]string{"Origin": "null"}},
		{"actual refused", full, false, "GET", map[string]string{"Origin": "https://evil.test"}},
		{"actual compressed", full, true, "GET", map[string]string{"Origin": "https://app.example.com"}},
		{"actual any origin", anyOrigin, false, "GET", map[string]string{"Origin": "https://x.test"}},
		{"preflight", full, false, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-token",
			"Access-Control-Request-Private-Network": "true"}},
		{"preflight joined headers", full, false, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-token, content-type"}},
		{"preflight any", anyOrigin, true, "OPTIONS", map[string]string{"Origin": "https://x.test",
			"Access-Control-Request-Method": "PROPFIND", "Access-Control-Request-Headers": "x-a,x-b"}},
		{"preflight refused", full, false, "OPTIONS", map[string]string{"Origin": "https://app.example.com",
			"Access-Control-Request-Method": "DELETE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				appendAll(w.Header(), "handler-"+r.URL.Query().Get("mark"))
				w.Header()["Content-Type"] = []string{"application/json"}
				w.Write([]byte(compressBody(2000)))
			})
			h = CORS(tt.cfg)(h)
			if tt.compress {
				h = Compress(CompressConfig{})(h)
			}
			outer := h
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				outer.ServeHTTP(w, r)
				appendAll(w.Header(), "outer-"+r.URL.Query().Get("mark"))
			})
			// serve sends one request marked mark, returning the header as
			// sent (before the outer appends) and the live header map.
			serve := func(mark string) (sent, live http.Header) {
				r := httptest.NewRequest(tt.method, "/?mark="+mark, nil)
				r.Header.Set("Accept-Encoding", "gzip")
				for k, v := range tt.hdr {
					r.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if v := r.Header.Get("Origin"); v != tt.hdr["Origin"] {
					t.Errorf("request %s: Origin changed to %q", mark, v)
				}
				return rec.Result().Header, rec.Header()
			}
			// unmark replaces the mark in every value, so that the headers
			// of two requests compare.
			unmark := func(h http.Header, mark string) http.Header {
				out := http.Header{}
				for k, vs := range h {
					for _, v := range vs {
						out[k] = append(out[k], strings.ReplaceAll(v, "-"+mark, "-N"))
					}
				}
				return out
			}
			want, _ := serve("first")
			want = unmark(want, "first")
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					var lives []http.Header
					for i := range 5 {
						mark := strconv.Itoa(g*10 + i)
						sent, live := serve(mark)
						if got := unmark(sent, mark); !maps.EqualFunc(got, want, slices.Equal) {
							t.Errorf("request %s: got header %v, want %v", mark, got, want)
						}
						lives = append(lives, live)
					}
					// Each response's header holds its own additions only.
					for i, live := range lives {
						mark := strconv.Itoa(g*10 + i)
						for k, vs := range live {
							for _, v := range vs {
								if strings.HasPrefix(v, "handler-") && v != "handler-"+mark ||
									strings.HasPrefix(v, "outer-") && v != "outer-"+mark {
									t.Errorf("request %s: %s holds %q, another request's addition", mark, k, v)
								}
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
	shared := []struct {
		name      string
		got, want []string
	}{
		{"corsValueAny", corsValueAny, []string{"*"}},
		{"corsValueTrue", corsValueTrue, []string{"true"}},
		{"corsVaryOrigin", corsVaryOrigin, []string{"Origin"}},
	}
	for _, s := range shared {
		if !slices.Equal(s.got, s.want) {
			t.Errorf("%s: got %q, want %q", s.name, s.got, s.want)
		}
	}
}

// TestCORSPrebuiltFull checks that every pre-built header value has
// len == cap, so that an append to it copies.
func TestCORSPrebuiltFull(t *testing.T) {
	p := corsCompile(CORSConfig{
		AllowedOrigins:      []string{"https://app.example.com", "http://localhost:3000", "null"},
		AllowedMethods:      []string{"GET", "put"},
		ExposedHeaders:      []string{"X-A", "X-B"},
		AllowCredentials:    true,
		MaxAge:              time.Minute,
		AllowPrivateNetwork: true,
	})
	values := map[string][]string{
		"corsValueAny":    corsValueAny,
		"corsValueTrue":   corsValueTrue,
		"corsVaryOrigin":  corsVaryOrigin,
		"p.exposed":       p.exposed,
		"p.maxAge":        p.maxAge,
		"p.preflightVary": p.preflightVary,
	}
	for o, v := range p.origins {
		values["p.origins["+o+"]"] = v
	}
	for m, v := range p.methods {
		values["p.methods["+m+"]"] = v
	}
	for name, v := range values {
		if len(v) == 0 || len(v) != cap(v) {
			t.Errorf("%s: len %d, cap %d; want len == cap > 0", name, len(v), cap(v))
		}
	}
}

// FuzzCORSAllowOrigins checks that allowOrigins, which tries the value as
// written before parsing it, agrees with allowOrigin, and returns what the
// response must echo.
func FuzzCORSAllowOrigins(f *testing.F) {
	policies := []*corsPolicy{
		corsCompile(CORSConfig{AllowedOrigins: []string{"https://app.example.com", "https://*.example.org", "http://localhost:3000", "null", "http://[::1]:8080"}}),
		corsCompile(CORSConfig{AllowedOrigins: []string{"*"}}),
		corsCompile(CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, ".test") }}),
	}
	for _, s := range []string{"https://app.example.com", "HTTPS://APP.EXAMPLE.COM:443", "null", "http://[::1]:8080", "http://[::1]:08080",
		"https://a.example.org", "http://localhost:3000", "https://x.test", "https://app.example.com:443", "https://app.example.com/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		for i, p := range policies {
			got, ok := p.allowOrigins([]string{origin})
			if want := p.allowOrigin(origin); ok != want {
				t.Fatalf("policy %d, %q: allowOrigins %v, allowOrigin %v", i, origin, ok, want)
			}
			if !ok {
				continue
			}
			want := origin
			if p.anyOrigin {
				want = "*"
			}
			if len(got) != 1 || got[0] != want || cap(got) != 1 {
				t.Errorf("policy %d, %q: got %q (cap %d), want [%q] with cap 1", i, origin, got, cap(got), want)
			}
		}
	})
}

// TestCORSOriginKeysParse: allowOrigin looks an Origin up as written
// before parsing it, which is right only if every listed origin, as
// stored, parses to itself.
func TestCORSOriginKeysParse(t *testing.T) {
	p := corsCompile(CORSConfig{AllowedOrigins: []string{"https://app.example.com", "HTTPS://App.Example.COM:443", "http://LOCALHOST:3000",
		"http://[::1]:8080", "http://[2001:DB8::1]", "https://x.test:8443", "http://a.b:80", "https://*.example.org", "null", "http://127.0.0.1:80"}})
	for key := range p.origins {
		if key == "null" {
			continue
		}
		scheme, host, port, err := corsParseOrigin(key, false)
		if got := scheme + "://" + host + port; err != nil || got != key {
			t.Errorf("%q parses to %q, %v; want itself", key, got, err)
		}
	}
}
