// Package verify checks a running server against the rules of
// TechEmpower's seven test types, as the FrameworkBenchmarks verifier does
// before it measures anything: status, headers, bodies, the clamping of the
// queries parameter, the fortunes page and its escaping, that updates really
// reach the database, that Date changes, and (beyond the verifier) that 16
// pipelined plaintext requests in one write get 16 answers.
//
// A Checker works against any server, in any language, that serves the
// tests on one base URL; the benchmark harness runs it before it loads a
// server, and the peers' tests run it on every peer.
package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The test names, in TechEmpower's order, as Check takes them.
const (
	JSON          = "json"
	DB            = "db"
	Queries       = "queries"
	Fortunes      = "fortunes"
	Updates       = "updates"
	Plaintext     = "plaintext"
	CachedQueries = "cached-queries"
)

// Tests lists every test name.
var Tests = []string{JSON, DB, Queries, Fortunes, Updates, Plaintext, CachedQueries}

// Checker checks one server. Its zero value is not usable: set BaseURL. A
// Checker is safe for concurrent use if its Client and Lookup are.
type Checker struct {
	// BaseURL is where the server is, such as "http://127.0.0.1:8080".
	BaseURL string
	// Client makes the requests; nil means a client with a 10 s timeout.
	Client *http.Client
	// Lookup, if set, reads the randomNumber of world row id from the
	// server's database, so that the updates check can see at least 90%
	// of the rows it was sent really changed in the table.
	Lookup func(ctx context.Context, id int) (int, error)
	// DateChange makes the plaintext check wait 3 s between two requests
	// and require different Date headers, as the verifier does.
	DateChange bool
}

// Problem is one broken rule.
type Problem struct {
	Test   string // the test name, such as "queries"
	URL    string // the request's path and query, or "" for the whole test
	Detail string
}

// Error says which test and request broke which rule.
func (p Problem) Error() string {
	if p.URL == "" {
		return p.Test + ": " + p.Detail
	}
	return p.Test + " " + p.URL + ": " + p.Detail
}

// Check runs the checks of the named tests (every test if none are named)
// and returns the problems found, none if the server follows every rule.
// An unknown test name is a problem too.
func (c *Checker) Check(ctx context.Context, tests ...string) []Problem {
	if len(tests) == 0 {
		tests = Tests
	}
	r := &run{c: c, ctx: ctx, client: c.Client}
	if r.client == nil {
		r.client = &http.Client{Timeout: 10 * time.Second}
	}
	for _, t := range tests {
		r.test = t
		switch t {
		case JSON:
			r.json()
		case DB:
			r.db()
		case Queries:
			r.clamped("/queries", "queries", false)
		case Updates:
			r.clamped("/updates", "queries", true)
		case CachedQueries:
			r.clamped("/cached-queries", "count", false)
		case Fortunes:
			r.fortunes()
		case Plaintext:
			r.plaintext()
		default:
			r.problem("", "unknown test")
		}
	}
	return r.problems
}

// run is the state of one Check.
type run struct {
	c        *Checker
	ctx      context.Context
	client   *http.Client
	test     string
	problems []Problem
}

func (r *run) problem(path, format string, args ...any) {
	r.problems = append(r.problems, Problem{Test: r.test, URL: path, Detail: fmt.Sprintf(format, args...)})
}

// get requests path and checks what every response must have: status 200,
// Server, a valid Date, Content-Length or chunked encoding, and a
// Content-Type of the given media type (with charset=utf-8 if
// needCharset). It returns the body and headers, or ok false after
// recording the problems.
func (r *run) get(path, mediaType string, needCharset bool) (body []byte, h http.Header, ok bool) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, strings.TrimSuffix(r.c.BaseURL, "/")+path, nil)
	if err != nil {
		r.problem(path, "%v", err)
		return nil, nil, false
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.problem(path, "%v", err)
		return nil, nil, false
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		r.problem(path, "reading the body: %v", err)
		return nil, nil, false
	}
	ok = true
	if resp.StatusCode != http.StatusOK {
		r.problem(path, "status %d, want 200 (body %.200q)", resp.StatusCode, body)
		return nil, nil, false
	}
	if resp.Header.Get("Server") == "" {
		r.problem(path, "no Server header")
		ok = false
	}
	if d := resp.Header.Get("Date"); d == "" {
		r.problem(path, "no Date header")
		ok = false
	} else if _, err := http.ParseTime(d); err != nil {
		r.problem(path, "Date %q is not an HTTP date", d)
		ok = false
	}
	if resp.ContentLength < 0 && !slices.Contains(resp.TransferEncoding, "chunked") {
		r.problem(path, "neither Content-Length nor Transfer-Encoding")
		ok = false
	}
	if p := checkContentType(resp.Header.Get("Content-Type"), mediaType, needCharset); p != "" {
		r.problem(path, "%s", p)
		ok = false
	}
	return body, resp.Header, ok
}

// checkContentType says what is wrong with the Content-Type ct, or "".
func checkContentType(ct, mediaType string, needCharset bool) string {
	if ct == "" {
		return "no Content-Type header"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != mediaType {
		return fmt.Sprintf("Content-Type %q, want %s", ct, mediaType)
	}
	cs, has := params["charset"]
	if has && !strings.EqualFold(cs, "utf-8") {
		return fmt.Sprintf("Content-Type %q: charset is not utf-8", ct)
	}
	if needCharset && !has {
		return fmt.Sprintf("Content-Type %q lacks charset=utf-8", ct)
	}
	return ""
}

func (r *run) json() {
	const path = "/json"
	body, _, ok := r.get(path, "application/json", false)
	if !ok {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		r.problem(path, "body %.200q is not a JSON object: %v", body, err)
		return
	}
	if len(m) != 1 || lowerKeys(m)["message"] != "Hello, World!" {
		r.problem(path, `body %.200q, want {"message":"Hello, World!"}`, body)
	}
}

func (r *run) db() {
	const path = "/db"
	body, _, ok := r.get(path, "application/json", false)
	if !ok {
		return
	}
	var w map[string]any
	if err := json.Unmarshal(body, &w); err != nil {
		r.problem(path, "body %.200q is not a JSON object: %v", body, err)
		return
	}
	if _, err := world(w); err != nil {
		r.problem(path, "%v", err)
	}
}

// row is a world row as a response gave it.
type row struct{ id, randomNumber int }

// world checks one world object: exactly id and randomNumber (any case, as
// the verifier reads them), both integers in 1..10000.
func world(m map[string]any) (row, error) {
	lm := lowerKeys(m)
	id, idOK := intIn(lm["id"])
	n, nOK := intIn(lm["randomnumber"])
	if len(m) != 2 || !idOK || !nOK {
		b, _ := json.Marshal(m)
		return row{}, fmt.Errorf(`%s is not {"id":1..10000,"randomNumber":1..10000}`, b)
	}
	return row{id, n}, nil
}

func intIn(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) || f < 1 || f > 10000 {
		return 0, false
	}
	return int(f), true
}

func lowerKeys(m map[string]any) map[string]any {
	l := make(map[string]any, len(m))
	for k, v := range m {
		l[strings.ToLower(k)] = v
	}
	return l
}

// clamped checks a test that serves N rows: the verifier's values of N and
// the rows they must give, and for updates that the rows reached the table.
func (r *run) clamped(route, param string, updates bool) {
	cases := []struct {
		query string
		want  int
	}{
		{"?" + param + "=2", 2},
		{"?" + param + "=0", 1},
		{"?" + param + "=foo", 1},
		{"?" + param + "=", 1},
		{"?" + param + "=501", 500},
		{"", 1},
		{"?" + param + "=20", 20},
	}
	for _, tc := range cases {
		path := route + tc.query
		rows, ok := r.rows(path, tc.want)
		if ok && updates && tc.want == 20 && r.c.Lookup != nil {
			r.updated(path, rows)
		}
	}
}

// rows gets path and checks it is a JSON array of want world objects.
func (r *run) rows(path string, want int) ([]row, bool) {
	body, _, ok := r.get(path, "application/json", false)
	if !ok {
		return nil, false
	}
	var arr []map[string]any
	if err := json.Unmarshal(body, &arr); err != nil {
		r.problem(path, "body %.200q is not a JSON array of objects: %v", body, err)
		return nil, false
	}
	if len(arr) != want {
		r.problem(path, "%d rows, want %d", len(arr), want)
		return nil, false
	}
	rows := make([]row, len(arr))
	for i, m := range arr {
		w, err := world(m)
		if err != nil {
			r.problem(path, "row %d: %v", i, err)
			return nil, false
		}
		rows[i] = w
	}
	return rows, true
}

// updated checks that at least 90% of the distinct rows an updates response
// returned now hold the number it returned for them (an id drawn twice
// may hold either of its numbers).
func (r *run) updated(path string, rows []row) {
	numbers := map[int][]int{}
	for _, w := range rows {
		numbers[w.id] = append(numbers[w.id], w.randomNumber)
	}
	changed := 0
	for id, ns := range numbers {
		got, err := r.c.Lookup(r.ctx, id)
		if err != nil {
			r.problem(path, "looking up world %d: %v", id, err)
			return
		}
		if slices.Contains(ns, got) {
			changed++
		}
	}
	if changed*10 < len(numbers)*9 {
		r.problem(path, "only %d of %d updated rows hold their new number in the table", changed, len(numbers))
	}
}

// expectedFortunes is the page TechEmpower expects, whitespace between tags
// not significant.
const expectedFortunes = `<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>
<tr><th>id</th><th>message</th></tr>
<tr><td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed in a browser alert box.&quot;);&lt;/script&gt;</td></tr>
<tr><td>4</td><td>A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1</td></tr>
<tr><td>5</td><td>A computer program does what you tell it to do, not what you want it to do.</td></tr>
<tr><td>2</td><td>A computer scientist is someone who fixes things that aren&#39;t broken.</td></tr>
<tr><td>8</td><td>A list is only as strong as its weakest link. — Donald Knuth</td></tr>
<tr><td>0</td><td>Additional fortune added at request time.</td></tr>
<tr><td>3</td><td>After enough decimal places, nobody gives a damn.</td></tr>
<tr><td>7</td><td>Any program that runs right is obsolete.</td></tr>
<tr><td>10</td><td>Computers make very fast, very accurate mistakes.</td></tr>
<tr><td>6</td><td>Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen</td></tr>
<tr><td>9</td><td>Feature: A bug with seniority.</td></tr>
<tr><td>1</td><td>fortune: No such file or directory</td></tr>
<tr><td>12</td><td>フレームワークのベンチマーク</td></tr>
</table></body></html>`

func (r *run) fortunes() {
	const path = "/fortunes"
	body, _, ok := r.get(path, "text/html", true)
	if !ok {
		return
	}
	want, _ := htmlTokens(expectedFortunes)
	got, err := htmlTokens(string(body))
	if err != nil {
		r.problem(path, "%v", err)
		return
	}
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			r.problem(path, "the page differs from the expected one at %s, want %s", g, w)
			return
		}
	}
}

// htmlTokens splits an HTML page into its tags (lower-cased) and the text
// between them with entities decoded and then quoted (so that text never
// equals a tag), dropping whitespace-only text, so
// that equivalent escapes (&#39; &#x27; &apos;, &#34; &quot;, &#43; +)
// compare equal. Text must not hold a raw > " or ' (the verifier's
// expected page escapes them) and a raw < starts a tag, so an unescaped
// message never matches.
func htmlTokens(page string) ([]string, error) {
	var toks []string
	for page != "" {
		if page[0] == '<' {
			end := strings.IndexByte(page, '>')
			if end < 0 {
				return nil, fmt.Errorf("unterminated tag %.40q", page)
			}
			toks = append(toks, strings.ToLower(page[:end+1]))
			page = page[end+1:]
			continue
		}
		end := strings.IndexByte(page, '<')
		if end < 0 {
			end = len(page)
		}
		text := page[:end]
		page = page[end:]
		if strings.TrimSpace(text) == "" {
			continue
		}
		if i := strings.IndexAny(text, `>"'`); i >= 0 {
			return nil, fmt.Errorf("unescaped %q in %.80q", text[i], text)
		}
		toks = append(toks, strconv.Quote(html.UnescapeString(text)))
	}
	return toks, nil
}

func (r *run) plaintext() {
	const path = "/plaintext"
	body, h, ok := r.get(path, "text/plain", false)
	if !ok {
		return
	}
	if string(body) != "Hello, World!" {
		r.problem(path, "body %.200q, want %q", body, "Hello, World!")
	}
	r.pipelined(path)
	if r.c.DateChange {
		select {
		case <-time.After(3 * time.Second):
		case <-r.ctx.Done():
			r.problem(path, "%v", r.ctx.Err())
			return
		}
		_, h2, ok := r.get(path, "text/plain", false)
		if ok && h2.Get("Date") == h.Get("Date") {
			r.problem(path, "Date %q did not change in 3 s", h.Get("Date"))
		}
	}
}

// pipelined sends 16 plaintext requests in one write, as the benchmark's
// load does, and reads 16 good responses.
func (r *run) pipelined(path string) {
	const depth = 16
	u, err := url.Parse(r.c.BaseURL)
	if err != nil {
		r.problem(path, "%v", err)
		return
	}
	var d net.Dialer
	conn, err := d.DialContext(r.ctx, "tcp", u.Host)
	if err != nil {
		r.problem(path, "pipelined: %v", err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n"
	if _, err := conn.Write(bytes.Repeat([]byte(req), depth)); err != nil {
		r.problem(path, "pipelined: %v", err)
		return
	}
	br := bufio.NewReader(conn)
	for i := range depth {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			r.problem(path, "pipelined: response %d of %d: %v", i+1, depth, err)
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != "Hello, World!" {
			r.problem(path, "pipelined: response %d of %d: status %d, body %.100q, %v", i+1, depth, resp.StatusCode, body, err)
			return
		}
	}
}
