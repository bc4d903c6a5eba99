// Package verify checks a running TechEmpower benchmark application over
// real HTTP against the rules of every test type: the headers, the bodies,
// the clamping of the queries parameter, the exact fortunes page, updates
// that really change rows, and pipelined plaintext. It is written against
// any server, so Hatago's world example and its peers in bench/ are held to
// the same rules.
package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// World is a row as the JSON responses carry it.
type World struct {
	ID           int `json:"id"`
	RandomNumber int `json:"randomNumber"`
}

// Target is an application to check.
type Target struct {
	// BaseURL is where it serves, such as http://127.0.0.1:8080.
	BaseURL string
	// Table reads the whole world table straight from the database, id to
	// randomNumber, so that the updates check can compare the table before
	// and after a request, as TechEmpower's verifier does. Nil skips that
	// check.
	Table func(ctx context.Context) (map[int]int, error)
	// DateChange checks that the Date header changes between two requests
	// 3 s apart. It runs in parallel with the other checks.
	DateChange bool
}

// Run checks tg, each test type in a subtest of t.
func Run(t *testing.T, tg Target) {
	c := &checker{t: t, base: strings.TrimSuffix(tg.BaseURL, "/"), client: &http.Client{Timeout: 10 * time.Second}}
	// The Date check waits 3 s: it runs beside the others.
	dates := make(chan [2]string, 1)
	if tg.DateChange {
		go func() {
			first := c.date()
			time.Sleep(3 * time.Second)
			dates <- [2]string{first, c.date()}
		}()
	}
	t.Run("json", c.json)
	t.Run("db", c.db)
	t.Run("queries", func(t *testing.T) { c.queries(t, "/queries?queries=") })
	t.Run("cached-queries", func(t *testing.T) { c.queries(t, "/cached-queries?count=") })
	t.Run("fortunes", c.fortunes)
	t.Run("updates", func(t *testing.T) { c.updates(t, tg.Table) })
	t.Run("plaintext", c.plaintext)
	t.Run("plaintext-pipelined", c.pipelined)
	if tg.DateChange {
		t.Run("date-changes", func(t *testing.T) {
			d := <-dates
			if d[0] == "" || d[1] == "" {
				t.Fatalf("no Date header: %q then %q", d[0], d[1])
			}
			if d[0] == d[1] {
				t.Errorf("Date %q did not change in 3 s", d[0])
			}
		})
	}
}

type checker struct {
	t      *testing.T
	base   string
	client *http.Client
}

// get fetches path and checks what every response must have.
func (c *checker) get(t *testing.T, path, wantType string) []byte {
	t.Helper()
	resp, err := c.client.Get(c.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %q", path, resp.StatusCode, body)
	}
	CheckHeaders(t, path, resp.Header, resp.ContentLength, resp.TransferEncoding, wantType)
	return body
}

// CheckHeaders checks the headers every response must carry: Server,
// Date in HTTP date format, the Content-Type of its test type (wantType,
// with an optional charset unless wantType has one), and Content-Length or
// Transfer-Encoding.
func CheckHeaders(t testing.TB, path string, h http.Header, contentLength int64, te []string, wantType string) {
	t.Helper()
	if h.Get("Server") == "" {
		t.Errorf("GET %s: no Server header", path)
	}
	if d := h.Get("Date"); d == "" {
		t.Errorf("GET %s: no Date header", path)
	} else if _, err := http.ParseTime(d); err != nil {
		t.Errorf("GET %s: Date %q is not an HTTP date: %v", path, d, err)
	}
	ct := h.Get("Content-Type")
	if strings.Contains(wantType, "charset") {
		if !strings.EqualFold(strings.ReplaceAll(ct, " ", ""), strings.ReplaceAll(wantType, " ", "")) {
			t.Errorf("GET %s: Content-Type %q, want %q", path, ct, wantType)
		}
	} else if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), wantType) {
		t.Errorf("GET %s: Content-Type %q, want %q", path, ct, wantType)
	}
	if contentLength < 0 && len(te) == 0 {
		t.Errorf("GET %s: neither Content-Length nor Transfer-Encoding", path)
	}
}

func (c *checker) json(t *testing.T) {
	body := c.get(t, "/json", "application/json")
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("/json: %v in %q", err, body)
	}
	if len(m) != 1 || m["message"] != "Hello, World!" {
		t.Errorf(`/json: %s, want {"message":"Hello, World!"}`, body)
	}
}

func checkWorld(t *testing.T, path string, w World) {
	t.Helper()
	if w.ID < 1 || w.ID > 10000 || w.RandomNumber < 1 || w.RandomNumber > 10000 {
		t.Errorf("%s: row %+v: id and randomNumber must be in 1..10000", path, w)
	}
}

func (c *checker) db(t *testing.T) {
	body := c.get(t, "/db", "application/json")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("/db: %v in %q: want one object", err, body)
	}
	if _, ok := raw["id"]; !ok || len(raw) != 2 {
		t.Fatalf(`/db: %s: want exactly "id" and "randomNumber"`, body)
	}
	var w World
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatalf("/db: %v", err)
	}
	checkWorld(t, "/db", w)
}

// queries checks the multiple- or cached-queries route at the verifier's
// probes: 2, 0, foo, empty, 501, and none at all.
func (c *checker) queries(t *testing.T, prefix string) {
	for _, probe := range []struct {
		arg  string
		want int
	}{{"2", 2}, {"0", 1}, {"foo", 1}, {"", 1}, {"501", 500}, {"20", 20}} {
		path := prefix + url.QueryEscape(probe.arg)
		body := c.get(t, path, "application/json")
		var ws []World
		if err := json.Unmarshal(body, &ws); err != nil {
			t.Fatalf("%s: %v: want a JSON array", path, err)
		}
		if len(ws) != probe.want {
			t.Errorf("%s: %d rows, want %d", path, len(ws), probe.want)
		}
		for _, w := range ws {
			checkWorld(t, path, w)
		}
	}
	bare, _, _ := strings.Cut(prefix, "?")
	var ws []World
	if err := json.Unmarshal(c.get(t, bare, "application/json"), &ws); err != nil || len(ws) != 1 {
		t.Errorf("%s without a parameter: %d rows (%v), want 1", bare, len(ws), err)
	}
}

// FortunesPage is the exact page the fortunes test wants.
const FortunesPage = `<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>
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

var betweenTags = regexp.MustCompile(`>\s+<`)

// NormalizeHTML makes equivalent fortunes pages equal: no whitespace
// between tags, and one spelling of each equivalent character reference.
// TechEmpower's verifier also takes &#43; for "+", which Go's html/template
// writes.
func NormalizeHTML(s string) string {
	s = betweenTags.ReplaceAllString(strings.TrimSpace(s), "><")
	return strings.NewReplacer("&#x27;", "&#39;", "&apos;", "&#39;", "&#34;", "&quot;", "&#x22;", "&quot;",
		"&#43;", "+", "&#x2b;", "+", "&#x2B;", "+").Replace(s)
}

func (c *checker) fortunes(t *testing.T) {
	body := c.get(t, "/fortunes", "text/html; charset=utf-8")
	if got, want := NormalizeHTML(string(body)), NormalizeHTML(FortunesPage); got != want {
		t.Errorf("/fortunes: the page differs from the expected one\n got: %s\nwant: %s", got, want)
	}
}

func (c *checker) updates(t *testing.T, table func(context.Context) (map[int]int, error)) {
	for _, probe := range []struct {
		arg  string
		want int
	}{{"2", 2}, {"0", 1}, {"foo", 1}, {"", 1}, {"501", 500}} {
		path := "/updates?queries=" + url.QueryEscape(probe.arg)
		var ws []World
		if err := json.Unmarshal(c.get(t, path, "application/json"), &ws); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(ws) != probe.want {
			t.Errorf("%s: %d rows, want %d", path, len(ws), probe.want)
		}
	}
	if table == nil {
		return
	}
	// At least 90% of the rows a request updates must really change in the
	// table, and hold the number the response gave.
	const n = 20
	ctx := context.Background()
	before, err := table(ctx)
	if err != nil {
		t.Fatalf("read the world table: %v", err)
	}
	var ws []World
	path := fmt.Sprintf("/updates?queries=%d", n)
	if err := json.Unmarshal(c.get(t, path, "application/json"), &ws); err != nil || len(ws) != n {
		t.Fatalf("%s: %d rows (%v), want %d", path, len(ws), err, n)
	}
	after, err := table(ctx)
	if err != nil {
		t.Fatalf("read the world table: %v", err)
	}
	last := map[int]int{} // a row drawn twice holds its last number
	for _, w := range ws {
		checkWorld(t, path, w)
		last[w.ID] = w.RandomNumber
	}
	matched, changed := 0, 0
	for id, rn := range last {
		if after[id] == rn {
			matched++
		}
		if after[id] != before[id] {
			changed++
		}
	}
	if matched*10 < len(last)*9 {
		t.Errorf("%s: only %d of %d updated rows hold the number the response gave", path, matched, len(last))
	}
	if changed*10 < len(last)*9 {
		t.Errorf("%s: only %d of %d updated rows changed in the table", path, changed, len(last))
	}
}

func (c *checker) plaintext(t *testing.T) {
	if body := c.get(t, "/plaintext", "text/plain"); string(body) != "Hello, World!" {
		t.Errorf("/plaintext: %q, want %q", body, "Hello, World!")
	}
}

// pipelined sends 16 requests in one write, as the benchmark's clients
// do, and wants 16 answers in order.
func (c *checker) pipelined(t *testing.T) {
	u, err := url.Parse(c.base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	const depth = 16
	var req bytes.Buffer
	// Plaintext requests with a JSON one every fourth, so that an answer
	// out of order shows.
	paths := make([]string, depth)
	for i := range paths {
		paths[i] = "/plaintext"
		if i%4 == 3 {
			paths[i] = "/json"
		}
		fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n\r\n", paths[i], u.Host)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i := range depth {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("pipelined response %d of %d: %v", i+1, depth, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		want, wantType := "Hello, World!", "text/plain"
		if paths[i] == "/json" {
			want, wantType = `{"message":"Hello, World!"}`, "application/json"
		}
		if err != nil || resp.StatusCode != 200 || strings.TrimSpace(string(body)) != want {
			t.Fatalf("pipelined response %d (%s): %d %q %v, want %q", i+1, paths[i], resp.StatusCode, body, err, want)
		}
		CheckHeaders(t, paths[i]+" (pipelined)", resp.Header, resp.ContentLength, resp.TransferEncoding, wantType)
	}
}

// date returns the Date header of a plaintext response, or "".
func (c *checker) date() string {
	resp, err := c.client.Get(c.base + "/plaintext")
	if err != nil {
		return ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Date")
}
