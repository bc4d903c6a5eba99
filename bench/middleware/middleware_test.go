package middleware_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/handlers"
	"github.com/rs/cors"

	"github.com/hatago/hatago/middleware"
)

// The request every comparison sends comes from a trusted proxy (proxyAddr)
// on behalf of clientAddr, from a page of origin.
const (
	clientAddr   = "203.0.113.7"
	proxyAddr    = "10.0.0.1:41234"
	forwardedFor = clientAddr + ", 10.0.0.2" // the client, then a second proxy
	origin       = "https://app.example.com"
	incomingID   = "9b2f0c1e-req-42"
	timeout      = 10 * time.Second
)

// trusted is the network of the proxies, for Hatago's RealIP (chi's RealIP
// trusts every peer).
var trusted = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}

// The same CORS policy for both: one origin, GET and POST, one header.
var (
	hatagoCORS = middleware.CORSConfig{
		AllowedOrigins: []string{origin},
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"X-Token"},
	}
	rsCORS = cors.Options{
		AllowedOrigins: []string{origin},
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"X-Token"},
	}
)

// acceptGzip is the Accept-Encoding of the Compress requests, put back
// before each one because gorilla's CompressHandler deletes it.
var acceptGzip = []string{"gzip"}

// jsonBody is the 16 KiB JSON document the Compress benchmarks compress.
var jsonBody = makeJSON(16 << 10)

// makeJSON returns a JSON array of product records, exactly size bytes
// long (padded with spaces before the closing bracket).
func makeJSON(size int) []byte {
	type product struct {
		ID      int      `json:"id"`
		SKU     string   `json:"sku"`
		Name    string   `json:"name"`
		Price   float64  `json:"price"`
		Tags    []string `json:"tags"`
		InStock bool     `json:"in_stock"`
	}
	tags := []string{"garden", "kitchen", "outdoor", "tools", "sale", "new"}
	b := []byte("[")
	for i := 1; ; i++ {
		p, err := json.Marshal(product{
			ID:      i,
			SKU:     fmt.Sprintf("SKU-%05d", i*7919%100000),
			Name:    fmt.Sprintf("Widget %d, %s edition", i, tags[i%len(tags)]),
			Price:   float64(i*379%10000) / 100,
			Tags:    tags[i%3 : i%3+1+i%4],
			InStock: i%5 != 0,
		})
		if err != nil {
			panic(err)
		}
		if len(b)+1+len(p)+1 > size {
			break
		}
		if i > 1 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	b = append(b, bytes.Repeat([]byte(" "), size-len(b)-1)...)
	return append(b, ']')
}

// A comparison is one middleware as Hatago and a peer write it, the request
// that exercises it, and the checks that show both did their work.
type comparison struct {
	bench  string // the benchmark: "RequestID" runs in BenchmarkRequestID
	name   string // the sub-benchmark before impl=: "id=new/vs=chi"
	hatago middleware.Middleware
	peer   middleware.Middleware

	// request builds the request, once: the benchmark loop reuses it.
	request func() *http.Request
	// reset, if set, runs before each request and undoes what the
	// middleware changed on the shared request, so that every request
	// takes the same path.
	reset func(*http.Request)
	// json makes the endpoint answer jsonBody instead of "hello".
	json bool
	// check looks at the response and at the request the endpoint saw
	// (nil if the middleware answered itself); impl is "hatago" or "peer".
	check func(tb testing.TB, impl string, w *discard, seen *http.Request)
}

// impls are the sub-benchmarks of each comparison, the peer first so that
// benchstat -col /impl takes it as the base.
var impls = []string{"peer", "hatago"}

// comparisons lists every comparison, grouped by benchmark.
func comparisons() []comparison {
	var prevID string // the ID of the previous id=new request, which the next must not reuse
	newID := func(tb testing.TB, impl string, w *discard, seen *http.Request) {
		tb.Helper()
		wantHello(tb, w)
		id := requestID(tb, impl, w, seen)
		if id == "" || id == incomingID || id == prevID {
			tb.Errorf("request ID %q, want a new one (the previous was %q)", id, prevID)
		}
		prevID = id
	}
	keptID := func(tb testing.TB, impl string, w *discard, seen *http.Request) {
		tb.Helper()
		wantHello(tb, w)
		if id := requestID(tb, impl, w, seen); id != incomingID {
			tb.Errorf("request ID %q, want the incoming %q", id, incomingID)
		}
	}
	hello := func(tb testing.TB, impl string, w *discard, seen *http.Request) {
		tb.Helper()
		wantHello(tb, w)
	}
	client := func(tb testing.TB, impl string, w *discard, seen *http.Request) {
		tb.Helper()
		wantHello(tb, w)
		wantClient(tb, impl, seen)
	}
	gzipped := func(tb testing.TB, impl string, w *discard, seen *http.Request) {
		tb.Helper()
		wantGzip(tb, w)
	}

	return []comparison{
		{
			bench:   "RequestID",
			name:    "id=new/vs=chi",
			hatago:  middleware.RequestID(middleware.RequestIDConfig{}),
			peer:    chimw.RequestID,
			request: func() *http.Request { return newRequest(http.MethodGet) },
			reset:   func(r *http.Request) { delete(r.Header, "X-Request-Id") },
			check:   newID,
		},
		{
			bench:   "RequestID",
			name:    "id=incoming/vs=chi",
			hatago:  middleware.RequestID(middleware.RequestIDConfig{}),
			peer:    chimw.RequestID,
			request: func() *http.Request { return newRequest(http.MethodGet, "X-Request-Id", incomingID) },
			check:   keptID,
		},
		{
			bench:  "RealIP",
			name:   "vs=chi",
			hatago: middleware.RealIP(middleware.RealIPConfig{TrustedProxies: trusted}),
			//lint:ignore SA1019 chi deprecated RealIP (it trusts every peer); it is measured because it is still widely used
			peer:    chimw.RealIP,
			request: func() *http.Request { return newRequest(http.MethodGet, "X-Forwarded-For", forwardedFor) },
			reset:   func(r *http.Request) { r.RemoteAddr = proxyAddr }, // chi's RealIP rewrites it in place
			check:   client,
		},
		{
			bench:   "RealIP",
			name:    "vs=chi-xff",
			hatago:  middleware.RealIP(middleware.RealIPConfig{TrustedProxies: trusted}),
			peer:    chimw.ClientIPFromXFF(trusted[0].String()),
			request: func() *http.Request { return newRequest(http.MethodGet, "X-Forwarded-For", forwardedFor) },
			check:   client,
		},
		{
			bench:   "Recover",
			name:    "vs=chi",
			hatago:  middleware.Recover(middleware.RecoverConfig{}),
			peer:    chimw.Recoverer,
			request: func() *http.Request { return newRequest(http.MethodGet) },
			check:   hello,
		},
		{
			bench:   "Timeout",
			name:    "vs=chi",
			hatago:  middleware.Timeout(timeout),
			peer:    chimw.Timeout(timeout),
			request: func() *http.Request { return newRequest(http.MethodGet) },
			check: func(tb testing.TB, impl string, w *discard, seen *http.Request) {
				tb.Helper()
				wantHello(tb, w)
				wantDeadline(tb, seen)
			},
		},
		{
			bench:   "Compress",
			name:    "level=5/vs=chi",
			hatago:  middleware.Compress(middleware.CompressConfig{Level: 5}),
			peer:    chimw.Compress(5),
			request: func() *http.Request { return newRequest(http.MethodGet, "Accept-Encoding", "gzip") },
			reset:   func(r *http.Request) { r.Header["Accept-Encoding"] = acceptGzip },
			json:    true,
			check:   gzipped,
		},
		{
			bench:   "Compress",
			name:    "level=default/vs=gorilla",
			hatago:  middleware.Compress(middleware.CompressConfig{}),
			peer:    handlers.CompressHandler,
			request: func() *http.Request { return newRequest(http.MethodGet, "Accept-Encoding", "gzip") },
			reset:   func(r *http.Request) { r.Header["Accept-Encoding"] = acceptGzip }, // gorilla deletes it
			json:    true,
			check:   gzipped,
		},
		{
			bench:   "CORS",
			name:    "req=actual/vs=rscors",
			hatago:  middleware.CORS(hatagoCORS),
			peer:    cors.New(rsCORS).Handler,
			request: func() *http.Request { return newRequest(http.MethodGet, "Origin", origin) },
			check: func(tb testing.TB, impl string, w *discard, seen *http.Request) {
				tb.Helper()
				wantHello(tb, w)
				wantHeader(tb, w, "Access-Control-Allow-Origin", origin)
				wantVary(tb, w, "Origin")
			},
		},
		{
			bench:  "CORS",
			name:   "req=preflight/vs=rscors",
			hatago: middleware.CORS(hatagoCORS),
			peer:   cors.New(rsCORS).Handler,
			request: func() *http.Request {
				return newRequest(http.MethodOptions, "Origin", origin,
					"Access-Control-Request-Method", http.MethodPost,
					"Access-Control-Request-Headers", "x-token")
			},
			check: func(tb testing.TB, impl string, w *discard, seen *http.Request) {
				tb.Helper()
				if got := w.code(); got != http.StatusNoContent {
					tb.Errorf("status %d, want %d", got, http.StatusNoContent)
				}
				if seen != nil {
					tb.Errorf("the preflight reached the endpoint, want it answered by the middleware")
				}
				wantHeader(tb, w, "Access-Control-Allow-Origin", origin)
				wantHeader(tb, w, "Access-Control-Allow-Methods", http.MethodPost)
				if got := w.header.Get("Access-Control-Allow-Headers"); !strings.EqualFold(got, "x-token") {
					tb.Errorf("Access-Control-Allow-Headers %q, want %q", got, "x-token")
				}
				wantVary(tb, w, "Origin")
			},
		},
		{
			bench:   "Stack",
			name:    "vs=chi",
			hatago:  hatagoStack,
			peer:    chiChain,
			request: stackRequest,
			reset:   resetStackRequest,
			check:   stackCheck(newID),
		},
		{
			bench:   "Stack",
			name:    "vs=chi-router",
			hatago:  hatagoStack,
			peer:    chiRouter,
			request: stackRequest,
			reset:   resetStackRequest,
			check:   stackCheck(newID),
		},
	}
}

// hatagoStack is the typical stack of five in a Hatago Stack.
func hatagoStack(h http.Handler) http.Handler {
	s := middleware.New(
		middleware.RealIP(middleware.RealIPConfig{TrustedProxies: trusted}),
		middleware.RequestID(middleware.RequestIDConfig{}),
		middleware.Recover(middleware.RecoverConfig{}),
		middleware.Timeout(timeout),
		middleware.CORS(hatagoCORS),
	)
	s.Handle(h)
	return s
}

// chiStack is the same stack with chi's middleware and rs/cors. Its
// RealIP is chi's ClientIPFromXFF, which trusts only the proxies' network,
// as Hatago's RealIP does (chi deprecated its RealIP, which trusts anyone).
func chiStack() chi.Middlewares {
	return chi.Chain(
		chimw.ClientIPFromXFF(trusted[0].String()),
		chimw.RequestID,
		chimw.Recoverer,
		chimw.Timeout(timeout),
		cors.New(rsCORS).Handler,
	)
}

// chiChain serves h through chiStack in a chi.Chain, with no routing.
func chiChain(h http.Handler) http.Handler { return chiStack().Handler(h) }

// chiRouter serves h at "/" of a chi Router that uses chiStack.
func chiRouter(h http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Use(chiStack()...)
	r.Handle("/", h)
	return r
}

func stackRequest() *http.Request {
	return newRequest(http.MethodGet, "Origin", origin, "X-Forwarded-For", forwardedFor)
}

func resetStackRequest(r *http.Request) {
	r.RemoteAddr = proxyAddr
	delete(r.Header, "X-Request-Id")
}

// stackCheck checks the work of all five middleware of the stack.
func stackCheck(newID func(testing.TB, string, *discard, *http.Request)) func(testing.TB, string, *discard, *http.Request) {
	return func(tb testing.TB, impl string, w *discard, seen *http.Request) {
		tb.Helper()
		newID(tb, impl, w, seen)
		wantClient(tb, impl, seen)
		wantDeadline(tb, seen)
		wantHeader(tb, w, "Access-Control-Allow-Origin", origin)
	}
}

// newRequest returns a GET or OPTIONS request for "/" from proxyAddr, with
// the given header name and value pairs.
func newRequest(method string, header ...string) *http.Request {
	r := httptest.NewRequest(method, "http://api.example.com/", nil)
	r.RemoteAddr = proxyAddr
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	return r
}

// endpoint is the handler at the end of every chain. It answers body
// with contentType and keeps the request it was given in seen, for the
// checks (the benchmarks serve one request at a time, so that is no race).
type endpoint struct {
	contentType []string
	body        []byte
	seen        *http.Request
}

// newEndpoint returns an endpoint that answers "hello" as plain text, or
// jsonBody as application/json.
func newEndpoint(json bool) *endpoint {
	if json {
		return &endpoint{contentType: []string{"application/json"}, body: jsonBody}
	}
	return &endpoint{contentType: []string{"text/plain; charset=utf-8"}, body: []byte("hello")}
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.seen = r
	w.Header()["Content-Type"] = e.contentType // a shared slice, as rs/cors does: no allocation
	_, _ = w.Write(e.body)
}

// discard is a cheap http.ResponseWriter that the benchmarks reuse: reset
// clears its header map without reallocating it. It keeps the status and,
// when record is set, the body, for the checks.
type discard struct {
	header http.Header
	status int
	size   int
	record bool
	body   bytes.Buffer
}

var _ http.Flusher = (*discard)(nil)

func (d *discard) Header() http.Header { return d.header }

func (d *discard) WriteHeader(code int) {
	if d.status == 0 && code >= 200 {
		d.status = code
	}
}

func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.size += len(p)
	if d.record {
		d.body.Write(p)
	}
	return len(p), nil
}

// Flush does nothing; net/http's writer is a Flusher, and the wrappers of
// some middleware (gorilla's httpsnoop) depend on what the writer is.
func (d *discard) Flush() {}

func (d *discard) reset() {
	clear(d.header)
	d.status, d.size = 0, 0
	d.body.Reset()
}

// code is the status the client would get: 200 if nothing was written.
func (d *discard) code() int {
	if d.status == 0 {
		return http.StatusOK
	}
	return d.status
}

// prepare builds impl's handler for c and serves c's request twice (so
// that a reset that fails to undo the first request shows), checking each
// answer. It returns what the benchmark loop reuses.
func (c comparison) prepare(tb testing.TB, impl string) (http.Handler, *http.Request, *discard) {
	tb.Helper()
	e := newEndpoint(c.json)
	mw := c.peer
	if impl == "hatago" {
		mw = c.hatago
	}
	h := mw(e)
	r := c.request()
	w := &discard{header: http.Header{}, record: true}
	for range 2 {
		e.seen = nil
		c.serve(h, w, r)
		c.check(tb, impl, w, e.seen)
	}
	w.record = false
	w.reset()
	return h, r, w
}

// serve is one iteration of the benchmark loop.
func (c comparison) serve(h http.Handler, w *discard, r *http.Request) {
	w.reset()
	if c.reset != nil {
		c.reset(r)
	}
	h.ServeHTTP(w, r)
}

// benchmark runs the comparisons of bench, each as .../impl=peer and
// .../impl=hatago.
func benchmark(b *testing.B, bench string) {
	for _, c := range comparisons() {
		if c.bench != bench {
			continue
		}
		for _, impl := range impls {
			b.Run(c.name+"/impl="+impl, func(b *testing.B) {
				h, r, w := c.prepare(b, impl)
				b.ReportAllocs()
				for b.Loop() {
					c.serve(h, w, r)
				}
			})
		}
	}
}

// BenchmarkBaseline serves the "hello" endpoint with no middleware: the
// cost of the loop itself (resetting the writer, the endpoint's header and
// body), which every other figure includes.
func BenchmarkBaseline(b *testing.B) {
	e := newEndpoint(false)
	r := newRequest(http.MethodGet)
	w := &discard{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		e.ServeHTTP(w, r)
	}
}

func BenchmarkRequestID(b *testing.B) { benchmark(b, "RequestID") }
func BenchmarkRealIP(b *testing.B)    { benchmark(b, "RealIP") }
func BenchmarkRecover(b *testing.B)   { benchmark(b, "Recover") }
func BenchmarkTimeout(b *testing.B)   { benchmark(b, "Timeout") }
func BenchmarkCompress(b *testing.B)  { benchmark(b, "Compress") }
func BenchmarkCORS(b *testing.B)      { benchmark(b, "CORS") }
func BenchmarkStack(b *testing.B)     { benchmark(b, "Stack") }

// TestEquivalent runs each side of every comparison with the checks the
// benchmarks make before their loop, so that a peer or a Hatago change that
// makes one side skip its work fails here rather than skewing a table.
func TestEquivalent(t *testing.T) {
	for _, c := range comparisons() {
		for _, impl := range impls {
			t.Run(c.bench+"/"+c.name+"/impl="+impl, func(t *testing.T) {
				c.prepare(t, impl)
			})
		}
	}
}

func TestJSONBody(t *testing.T) {
	if got, want := len(jsonBody), 16<<10; got != want {
		t.Errorf("len(jsonBody) = %d, want %d", got, want)
	}
	if !json.Valid(jsonBody) {
		t.Errorf("jsonBody is not valid JSON")
	}
}

func wantHello(tb testing.TB, w *discard) {
	tb.Helper()
	if got := w.code(); got != http.StatusOK {
		tb.Errorf("status %d, want %d", got, http.StatusOK)
	}
	if got := w.body.String(); got != "hello" {
		tb.Errorf("body %q, want %q", got, "hello")
	}
}

func wantHeader(tb testing.TB, w *discard, key, want string) {
	tb.Helper()
	if got := w.header.Values(key); len(got) != 1 || got[0] != want {
		tb.Errorf("%s %q, want [%q]", key, got, want)
	}
}

// wantVary checks that the Vary header lists token.
func wantVary(tb testing.TB, w *discard, token string) {
	tb.Helper()
	var tokens []string
	for _, v := range w.header.Values("Vary") {
		for t := range strings.SplitSeq(v, ",") {
			tokens = append(tokens, http.CanonicalHeaderKey(strings.TrimSpace(t)))
		}
	}
	if !slices.Contains(tokens, http.CanonicalHeaderKey(token)) {
		tb.Errorf("Vary %q, want it to list %q", w.header.Values("Vary"), token)
	}
}

// wantGzip checks that the response is jsonBody, gzipped.
func wantGzip(tb testing.TB, w *discard) {
	tb.Helper()
	if got := w.code(); got != http.StatusOK {
		tb.Errorf("status %d, want %d", got, http.StatusOK)
	}
	wantHeader(tb, w, "Content-Encoding", "gzip")
	wantVary(tb, w, "Accept-Encoding")
	if cl := w.header.Get("Content-Length"); cl != "" {
		tb.Errorf("Content-Length %q on a gzipped body, want none", cl)
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.body.Bytes()))
	if err != nil {
		tb.Fatalf("gzip.NewReader: %v", err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("gunzip: %v", err)
	}
	if !bytes.Equal(body, jsonBody) {
		tb.Errorf("gunzipped body: %d bytes, want the %d of jsonBody", len(body), len(jsonBody))
	}
	if w.size >= len(jsonBody)/2 {
		tb.Errorf("gzipped body: %d bytes, want well under the %d of jsonBody", w.size, len(jsonBody))
	}
}

// requestID returns the ID the endpoint found in its request's context;
// for Hatago it also checks that the response carries it.
func requestID(tb testing.TB, impl string, w *discard, seen *http.Request) string {
	tb.Helper()
	if seen == nil {
		tb.Fatalf("the endpoint was not called")
	}
	if impl == "peer" {
		return chimw.GetReqID(seen.Context())
	}
	id := middleware.RequestIDFrom(seen.Context())
	wantHeader(tb, w, "X-Request-Id", id)
	return id
}

// wantClient checks that the endpoint saw clientAddr as the client:
// Hatago's ClientIP and RemoteAddr ("203.0.113.7:0"); for chi, the
// address ClientIPFromXFF put in the context or, for its RealIP, which
// puts none there, RemoteAddr ("203.0.113.7").
func wantClient(tb testing.TB, impl string, seen *http.Request) {
	tb.Helper()
	if seen == nil {
		tb.Fatalf("the endpoint was not called")
	}
	host := seen.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	got := host
	if impl == "hatago" {
		if host != clientAddr {
			tb.Errorf("RemoteAddr %q, want %s", seen.RemoteAddr, clientAddr)
		}
		got = middleware.ClientIP(seen).String()
	} else if ip := chimw.GetClientIP(seen.Context()); ip != "" {
		got = ip
	}
	if got != clientAddr {
		tb.Errorf("client %s, want %s", got, clientAddr)
	}
}

// wantDeadline checks that the endpoint's context has a deadline.
func wantDeadline(tb testing.TB, seen *http.Request) {
	tb.Helper()
	if seen == nil {
		tb.Fatalf("the endpoint was not called")
	}
	if _, ok := seen.Context().Deadline(); !ok {
		tb.Errorf("the request context has no deadline")
	}
}
