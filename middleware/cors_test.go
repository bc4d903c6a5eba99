package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
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
