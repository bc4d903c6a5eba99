package middleware

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// compressBody is a compressible body of n bytes.
func compressBody(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d","tags":["a","b"]},`, i, i)
	}
	return b.String()[:n]
}

func compressGunzip(t testing.TB, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return string(out)
}

// compressClient is a client that neither asks for nor decodes gzip by
// itself, so the test sees the bytes on the wire.
func compressClient(srv *httptest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	return &http.Client{Transport: tr}
}

func TestCompressRoundTrip(t *testing.T) {
	body := compressBody(20000)
	srv := httptest.NewServer(Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body[:100]) // below MinSize: buffered
		io.WriteString(w, body[100:])
	})))
	defer srv.Close()
	client := compressClient(srv)

	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "br;q=1, gzip;q=0.8")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding: got %q, want gzip", got)
	}
	if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("Vary: got %q, want Accept-Encoding", got)
	}
	if resp.ContentLength != -1 {
		t.Errorf("ContentLength: got %d, want -1 (chunked)", resp.ContentLength)
	}
	if len(raw) >= len(body)/2 {
		t.Errorf("compressed size: got %d, want well under %d", len(raw), len(body))
	}
	if got := compressGunzip(t, raw); got != body {
		t.Errorf("body changed in the round trip: got %d bytes, want %d", len(got), len(body))
	}

	// The same server, for a client that refuses gzip.
	req, _ = http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip;q=0, deflate")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get("Content-Encoding"); got != "" {
		t.Errorf("q=0: Content-Encoding: got %q, want none", got)
	}
	if string(raw) != body || resp.ContentLength != int64(len(body)) {
		t.Errorf("q=0: got %d bytes, Content-Length %d, want %d", len(raw), resp.ContentLength, len(body))
	}
	if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("q=0: Vary: got %q, want Accept-Encoding", got)
	}
}

func TestCompressAcceptsGzip(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZip"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip, deflate, br"}, true},
		{[]string{"br", "gzip"}, true},
		{[]string{"br"}, false},
		{[]string{"identity"}, false},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"gzip;Q=0.001"}, true},
		{[]string{"gzip;q=1.000"}, true},
		{[]string{"gzip;q=1.001"}, false}, // malformed: ignored
		{[]string{"gzip;q=2"}, false},
		{[]string{"gzip;q=0.0001"}, false},
		{[]string{"gzip;q=abc"}, false},
		{[]string{"gzip;q="}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false}, // the explicit entry wins
		{[]string{"*;q=0, gzip"}, true},
		{[]string{"gzip;q=0.5, identity"}, false},
		{[]string{"gzip, identity;q=0.5"}, true},
		{[]string{"gzip;q=0.5, *"}, false}, // * covers identity at 1
		{[]string{"gzip;q=0.5, identity;q=0.5"}, true},
		{[]string{"gzip;q=0.5, identity;q=0"}, true},
		{[]string{"deflate, gzip;q=1.0, *;q=0.5"}, true},
		{[]string{" gzip ;  q=0.8 , br"}, true},
		{[]string{"gzip;level=9"}, true},
		{[]string{"gzip;q=0", "gzip"}, true}, // duplicates: the best counts
		{[]string{"gzipx"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.values, "|"), func(t *testing.T) {
			if got := compressAcceptsGzip(tt.values); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompressResponses(t *testing.T) {
	big := compressBody(4096)
	type result struct {
		status   int
		encoding string
		vary     string
		length   string // Content-Length
		ctype    string
		etag     string
	}
	tests := []struct {
		name    string
		method  string
		reqHdr  map[string]string
		handler http.HandlerFunc
		want    result
		body    string // the body after gunzip when encoding is gzip
	}{
		{
			name: "large JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Accept-Ranges", "bytes")
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Accept-Encoding", "", "application/json; charset=utf-8", ""},
			body: big,
		},
		{
			name: "small body keeps its Content-Length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, big[:1023])
			},
			want: result{200, "", "Accept-Encoding", "1023", "text/plain", ""},
			body: big[:1023],
		},
		{
			name: "exactly MinSize is compressed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, big[:1024])
			},
			want: result{200, "gzip", "Accept-Encoding", "", "text/plain", ""},
			body: big[:1024],
		},
		{
			name: "small writes add up",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/css")
				for i := 0; i < len(big); i += 100 {
					io.WriteString(w, big[i:min(i+100, len(big))])
				}
			},
			want: result{200, "gzip", "Accept-Encoding", "", "text/css", ""},
			body: big,
		},
		{
			name: "handler's small Content-Length decides at once",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, big[:10])
			},
			want: result{200, "", "Accept-Encoding", "10", "text/plain", ""},
			body: big[:10],
		},
		{
			name: "handler's large Content-Length is removed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Accept-Encoding", "", "text/plain", ""},
			body: big,
		},
		{
			name: "status kept",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, big)
			},
			want: result{201, "gzip", "Accept-Encoding", "", "text/plain", ""},
			body: big,
		},
		{
			name: "sniffed HTML",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<!DOCTYPE html><p>")
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Accept-Encoding", "", "text/html; charset=utf-8", ""},
			body: "<!DOCTYPE html><p>" + big,
		},
		{
			name: "sniffed small HTML",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<!DOCTYPE html><p>hi")
			},
			want: result{200, "", "Accept-Encoding", "20", "text/html; charset=utf-8", ""},
			body: "<!DOCTYPE html><p>hi",
		},
		{
			name: "sniffed binary",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(append([]byte("\x89PNG\x0D\x0A\x1A\x0A"), big...))
			},
			want: result{200, "", "", "", "image/png", ""},
		},
		{
			name: "not a listed type",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				io.WriteString(w, big)
			},
			want: result{200, "", "", "", "image/png", ""},
			body: big,
		},
		{
			name: "empty Content-Type means no sniffing",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil
				io.WriteString(w, big)
			},
			want: result{200, "", "", "", "", ""},
			body: big,
		},
		{
			name: "already encoded",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Encoding", "br")
				io.WriteString(w, big)
			},
			want: result{200, "br", "", "", "text/plain", ""},
			body: big,
		},
		{
			name: "no-transform",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Cache-Control", "max-age=60, No-Transform")
				io.WriteString(w, big)
			},
			want: result{200, "", "", "", "text/plain", ""},
			body: big,
		},
		{
			name: "206",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Range", "bytes 0-4095/10000")
				w.WriteHeader(http.StatusPartialContent)
				io.WriteString(w, big)
			},
			want: result{206, "", "", "", "text/plain", ""},
			body: big,
		},
		{
			name:   "Range request",
			reqHdr: map[string]string{"Range": "bytes=0-"},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, big)
			},
			want: result{200, "", "Accept-Encoding", "", "text/plain", ""},
			body: big,
		},
		{
			name: "204",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusNoContent)
			},
			want: result{204, "", "", "", "text/plain", ""},
		},
		{
			name: "304 for a compressible type varies",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("ETag", `"v1"`)
				w.WriteHeader(http.StatusNotModified)
			},
			want: result{304, "", "Accept-Encoding", "", "text/plain", `"v1"`},
		},
		{
			name:    "304 to a client holding the compressed 200",
			reqHdr:  map[string]string{"If-None-Match": `"v0", W/"v1"`},
			handler: compressNotModified(`"v1"`, ""),
			want:    result{304, "", "Accept-Encoding", "", "", `W/"v1"`},
		},
		{
			name:    "304 to a client holding the 200 as it was",
			reqHdr:  map[string]string{"If-None-Match": `"v1"`},
			handler: compressNotModified(`"v1"`, ""),
			want:    result{304, "", "", "", "", `"v1"`},
		},
		{
			name:    "304 for a type that is not compressed",
			reqHdr:  map[string]string{"If-None-Match": `W/"v1"`},
			handler: compressNotModified(`"v1"`, "image/png"),
			want:    result{304, "", "", "", "image/png", `"v1"`},
		},
		{
			name:    "304 to HEAD varies, keeps the strong ETag",
			method:  "HEAD",
			reqHdr:  map[string]string{"If-None-Match": `W/"v1"`},
			handler: compressNotModified(`"v1"`, ""),
			want:    result{304, "", "Accept-Encoding", "", "", `"v1"`},
		},
		{
			name:    "304 to a Range request varies, keeps the strong ETag",
			reqHdr:  map[string]string{"If-None-Match": `W/"v1"`, "Range": "bytes=0-9"},
			handler: compressNotModified(`"v1"`, ""),
			want:    result{304, "", "Accept-Encoding", "", "", `"v1"`},
		},
		{
			name:    "304 to a client that refuses gzip",
			reqHdr:  map[string]string{"If-None-Match": `W/"v1"`, "Accept-Encoding": "gzip;q=0"},
			handler: compressNotModified(`"v1"`, ""),
			want:    result{304, "", "Accept-Encoding", "", "", `"v1"`},
		},
		{
			name:   "304 with no-transform",
			reqHdr: map[string]string{"If-None-Match": `W/"v1"`},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-transform")
				compressNotModified(`"v1"`, "")(w, r)
			},
			want: result{304, "", "", "", "", `"v1"`},
		},
		{
			name:    "304 with the handler's weak ETag",
			reqHdr:  map[string]string{"If-None-Match": `W/"v1"`},
			handler: compressNotModified(`W/"v1"`, ""),
			want:    result{304, "", "", "", "", `W/"v1"`},
		},
		{
			name:   "HEAD keeps the handler's headers",
			method: "HEAD",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				w.Header().Set("ETag", `"v1"`)
			},
			want: result{200, "", "Accept-Encoding", strconv.Itoa(len(big)), "text/plain", `"v1"`},
		},
		{
			name: "strong ETag weakened",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("ETag", `"v1"`)
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Accept-Encoding", "", "text/plain", `W/"v1"`},
			body: big,
		},
		{
			name: "weak ETag kept",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("ETag", `W/"v1"`)
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Accept-Encoding", "", "text/plain", `W/"v1"`},
			body: big,
		},
		{
			name: "strong ETag kept when not compressed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("ETag", `"v1"`)
				io.WriteString(w, "short")
			},
			want: result{200, "", "Accept-Encoding", "5", "text/plain", `"v1"`},
			body: "short",
		},
		{
			name: "Vary merged, not repeated",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Vary", "Origin, accept-encoding")
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Origin, accept-encoding", "", "text/plain", ""},
			body: big,
		},
		{
			name: "Vary added to another",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Vary", "Origin")
				io.WriteString(w, big)
			},
			want: result{200, "gzip", "Origin|Accept-Encoding", "", "text/plain", ""},
			body: big,
		},
		{
			name: "header only",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusAccepted)
			},
			want: result{202, "", "Accept-Encoding", "", "text/plain", ""},
		},
		{
			name:    "nothing written",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			want:    result{200, "", "", "", "", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, "/", nil)
			r.Header.Set("Accept-Encoding", "gzip")
			for k, v := range tt.reqHdr {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			Compress(CompressConfig{})(tt.handler).ServeHTTP(rec, r)
			res := rec.Result()
			got := result{
				status:   res.StatusCode,
				encoding: res.Header.Get("Content-Encoding"),
				vary:     strings.Join(res.Header.Values("Vary"), "|"),
				length:   res.Header.Get("Content-Length"),
				ctype:    res.Header.Get("Content-Type"),
				etag:     res.Header.Get("ETag"),
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if tt.body == "" {
				return
			}
			body := rec.Body.String()
			if got.encoding == "gzip" {
				body = compressGunzip(t, rec.Body.Bytes())
			}
			if body != tt.body {
				t.Errorf("body: got %d bytes, want %d", len(body), len(tt.body))
			}
		})
	}
}

// compressNotModified is a handler that answers 304 with etag, and with
// ctype unless it is "" (http.ServeContent drops Content-Type from a 304).
func compressNotModified(etag, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
	}
}

func TestCompressListsETag(t *testing.T) {
	tests := []struct {
		values []string
		etag   string
		want   bool
	}{
		{[]string{`W/"a"`}, `W/"a"`, true},
		{[]string{`"a"`}, `W/"a"`, false},
		{[]string{`W/"a"`}, `"a"`, false},
		{[]string{`"x", W/"a"`}, `W/"a"`, true},
		{[]string{`"x",W/"a" , "y"`}, `W/"a"`, true},
		{[]string{`"x"`, `W/"a"`}, `W/"a"`, true},
		{[]string{`"a,b", W/"c"`}, `W/"c"`, true}, // a comma inside a tag
		{[]string{`"a,b"`}, `"a"`, false},
		{[]string{`*`}, `W/"a"`, false},
		{[]string{`w/"a"`}, `W/"a"`, false}, // W/ is case-sensitive
		{[]string{`W/"a`}, `W/"a"`, false},
		{[]string{`garbage, W/"a"`}, `W/"a"`, false},
		{nil, `W/"a"`, false},
	}
	for _, tt := range tests {
		if got := compressListsETag(tt.values, tt.etag); got != tt.want {
			t.Errorf("compressListsETag(%q, %q): got %v, want %v", tt.values, tt.etag, got, tt.want)
		}
	}
}

// TestCompressStaticRevalidation follows a client through Compress and
// Static: each 304 must carry the ETag and Vary of the 200 the client
// holds (RFC 9110, section 15.4.5), and the weak ETag Compress gave the
// compressed 200 must still match at Static.
func TestCompressStaticRevalidation(t *testing.T) {
	big := compressBody(4096)
	h := Compress(CompressConfig{})(Static(StaticConfig{Root: fstest.MapFS{
		"big.txt":   {Data: []byte(big)},
		"small.txt": {Data: []byte("under MinSize")},
	}}))
	do := func(method, target string, hdr map[string]string) *http.Response {
		t.Helper()
		r := httptest.NewRequest(method, target, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result()
	}
	type result struct {
		status   int
		encoding string
		vary     string
		etag     string
	}
	get := func(res *http.Response) result {
		return result{res.StatusCode, res.Header.Get("Content-Encoding"), strings.Join(res.Header.Values("Vary"), "|"), res.Header.Get("Etag")}
	}
	strong := staticWantETag(big)
	weak := "W/" + strong
	gzipped := do("GET", "/big.txt", map[string]string{"Accept-Encoding": "gzip"})
	if got, want := get(gzipped), (result{200, "gzip", "Accept-Encoding", weak}); got != want {
		t.Fatalf("first GET: got %+v, want %+v", got, want)
	}
	identity := do("GET", "/big.txt", nil)
	if got, want := get(identity), (result{200, "", "Accept-Encoding", strong}); got != want {
		t.Fatalf("GET without Accept-Encoding: got %+v, want %+v", got, want)
	}
	small := do("GET", "/small.txt", map[string]string{"Accept-Encoding": "gzip"})
	smallETag := staticWantETag("under MinSize")
	if got, want := get(small), (result{200, "", "Accept-Encoding", smallETag}); got != want {
		t.Fatalf("GET of a small file: got %+v, want %+v", got, want)
	}

	tests := []struct {
		name   string
		method string
		target string
		hdr    map[string]string
		want   result
	}{
		{
			name: "the compressed 200", target: "/big.txt",
			hdr:  map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzipped.Header.Get("Etag")},
			want: result{304, "", "Accept-Encoding", weak},
		},
		{
			name: "the compressed 200, among other tags", target: "/big.txt",
			hdr:  map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"old", ` + weak},
			want: result{304, "", "Accept-Encoding", weak},
		},
		{
			// Vary is unknown here: ServeContent dropped the Content-Type,
			// and the client's tag does not show compression. A cache keeps
			// the Vary it stored with the 200.
			name: "the 200 as it was", target: "/big.txt",
			hdr:  map[string]string{"If-None-Match": identity.Header.Get("Etag")},
			want: result{304, "", "", strong},
		},
		{
			name: "a small 200, not compressed although gzip is accepted", target: "/small.txt",
			hdr:  map[string]string{"Accept-Encoding": "gzip", "If-None-Match": small.Header.Get("Etag")},
			want: result{304, "", "", smallETag},
		},
		{
			name: "HEAD, whose 200 keeps the strong ETag", method: "HEAD", target: "/big.txt",
			hdr:  map[string]string{"Accept-Encoding": "gzip", "If-None-Match": weak},
			want: result{304, "", "Accept-Encoding", strong},
		},
		{
			name: "a changed file", target: "/big.txt",
			hdr:  map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `W/"old"`},
			want: result{200, "gzip", "Accept-Encoding", weak},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			if got := get(do(method, tt.target, tt.hdr)); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCompressConfig(t *testing.T) {
	big := compressBody(300)
	tests := []struct {
		name string
		cfg  CompressConfig
		ct   string
		want string // Content-Encoding
	}{
		{"MinSize 1", CompressConfig{MinSize: 1}, "text/plain", "gzip"},
		{"MinSize above the body", CompressConfig{MinSize: 301}, "text/plain", ""},
		{"own types", CompressConfig{MinSize: 1, ContentTypes: []string{"Application/Octet-Stream"}}, "application/octet-stream", "gzip"},
		{"own types exclude text", CompressConfig{MinSize: 1, ContentTypes: []string{"application/json"}}, "text/plain", ""},
		{"wildcard", CompressConfig{MinSize: 1, ContentTypes: []string{"application/*"}}, "application/x-anything", "gzip"},
		{"level", CompressConfig{MinSize: 1, Level: gzip.BestSpeed}, "text/plain", "gzip"},
		{"Huffman only", CompressConfig{MinSize: 1, Level: gzip.HuffmanOnly}, "text/plain", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Compress(tt.cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ct)
				io.WriteString(w, big)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if got := rec.Header().Get("Content-Encoding"); got != tt.want {
				t.Fatalf("Content-Encoding: got %q, want %q", got, tt.want)
			}
			body := rec.Body.String()
			if tt.want == "gzip" {
				body = compressGunzip(t, rec.Body.Bytes())
			}
			if body != big {
				t.Errorf("body: got %q, want %q", body, big)
			}
		})
	}
}

func TestCompressPanics(t *testing.T) {
	tests := []struct {
		name string
		cfg  CompressConfig
		want string
	}{
		{"level too high", CompressConfig{Level: 10}, "Level 10"},
		{"level too low", CompressConfig{Level: -3}, "Level -3"},
		{"negative MinSize", CompressConfig{MinSize: -1}, "MinSize -1"},
		{"all types", CompressConfig{ContentTypes: []string{"text/*", "*/*"}}, `ContentTypes[1] "*/*"`},
		{"parameters", CompressConfig{ContentTypes: []string{"text/html; charset=utf-8"}}, `ContentTypes[0] "text/html; charset=utf-8"`},
		{"no slash", CompressConfig{ContentTypes: []string{"json"}}, `ContentTypes[0] "json"`},
		{"empty subtype", CompressConfig{ContentTypes: []string{"text/"}}, `ContentTypes[0] "text/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := realIPPanicMessage(func() { Compress(tt.cfg) })
			if !strings.HasPrefix(got, "middleware: Compress: "+tt.want) {
				t.Errorf("got panic %q, want one starting with %q", got, "middleware: Compress: "+tt.want)
			}
		})
	}
}

// TestCompressFlush streams over a real socket: the client must read the
// first event before the handler writes the second.
func TestCompressFlush(t *testing.T) {
	headerRead := make(chan struct{})
	sent := make(chan struct{})
	read := make(chan struct{})
	handlerErr := make(chan error, 1)
	srv := httptest.NewServer(Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		err := rc.Flush() // the header first, as event streams do
		<-headerRead
		io.WriteString(w, "data: one\n\n")
		if err == nil {
			err = rc.Flush()
		}
		close(sent)
		if err == nil {
			<-read
			io.WriteString(w, "data: two\n\n")
			w.(http.Flusher).Flush()
		}
		handlerErr <- err
	})))
	defer srv.Close()
	var once sync.Once
	release := func() {
		once.Do(func() {
			close(read)
			select {
			case <-headerRead:
			default:
				close(headerRead)
			}
		})
	}
	defer release() // before srv.Close, which waits for the handler
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := compressClient(srv).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding: got %q, want gzip", got)
	}
	close(headerRead) // the handler has written no event yet
	<-sent
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(zr)
	if line, err := br.ReadString('\n'); line != "data: one\n" {
		t.Fatalf("first event: got %q (%v), want %q", line, err, "data: one\n")
	}
	br.ReadString('\n')
	release()
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "data: two\n\n" {
		t.Errorf("second event: got %q (%v), want %q", rest, err, "data: two\n\n")
	}
	if err := <-handlerErr; err != nil {
		t.Errorf("Flush through ResponseController: %v", err)
	}
}

// TestCompressEarlyHints sends 103 Early Hints before a compressed answer:
// informational responses pass straight through.
func TestCompressEarlyHints(t *testing.T) {
	body := compressBody(5000)
	srv := httptest.NewServer(Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusTeapot) // superfluous: ignored
		io.WriteString(w, body)
	})))
	defer srv.Close()
	var hints []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, code)
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := compressClient(srv).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(hints) != 1 || hints[0] != 103 || resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("got hints %v, status %d, Content-Encoding %q; want [103], 200, gzip", hints, resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if got := compressGunzip(t, raw); got != body {
		t.Errorf("body: got %d bytes, want %d", len(got), len(body))
	}
}

// TestCompressHijack hijacks through the wrapper with
// http.ResponseController, which finds the connection through Unwrap.
func TestCompressHijack(t *testing.T) {
	srv := httptest.NewServer(Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		bw.Flush()
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := compressClient(srv).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "hijacked" {
		t.Errorf("got %q, want %q", b, "hijacked")
	}
}

// TestCompressPanic: a handler that panics after buffering leaves the
// response to whoever recovers the panic outside.
func TestCompressPanic(t *testing.T) {
	recoverer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					http.Error(w, "recovered", http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
	h := recoverer(Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "partial")
		panic("boom")
	})))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 500 || rec.Body.String() != "recovered\n" {
		t.Errorf("got %d %q, want 500 %q", rec.Code, rec.Body.String(), "recovered\n")
	}
}

func TestCompressWriteAfterReturn(t *testing.T) {
	var saved http.ResponseWriter
	h := Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, compressBody(5000))
		saved = w
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if _, err := saved.Write([]byte("late")); !errors.Is(err, compressErrFinished) {
		t.Errorf("got %v, want %v", err, compressErrFinished)
	}
}

// TestCompressConcurrent runs requests in parallel through one middleware
// so -race sees the pools shared.
func TestCompressConcurrent(t *testing.T) {
	bodies := []string{compressBody(100), compressBody(5000), compressBody(70000)}
	srv := httptest.NewServer(Compress(CompressConfig{Level: gzip.BestSpeed})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, bodies[i%len(bodies)])
	})))
	defer srv.Close()
	client := compressClient(srv)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+"?i="+strconv.Itoa(i), nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var body io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					errs <- err
					return
				}
				body = zr
			}
			b, err := io.ReadAll(body)
			if err == nil && string(b) != bodies[i%len(bodies)] {
				err = fmt.Errorf("request %d: got %d bytes, want %d", i, len(b), len(bodies[i%len(bodies)]))
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzCompressAcceptEncoding checks the Accept-Encoding parser on any input:
// it never panics, never accepts gzip unless the header names gzip or *,
// reads two field lines like one joined by a comma, and an explicit
// "gzip;q=0" added to a header that does not name gzip refuses it.
func FuzzCompressAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "*;q=0.5, identity", "x-gzip;q=1.000", ";;,,=", "gzip;q=0.", "br, *"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got := compressAcceptsGzip([]string{a, b})
		if got != compressAcceptsGzip([]string{a + "," + b}) {
			t.Errorf("%q and %q: two lines and one joined line disagree", a, b)
		}
		lower := strings.ToLower(a + b)
		if got && !strings.Contains(lower, "gzip") && !strings.Contains(lower, "*") {
			t.Errorf("%q %q: gzip accepted but not named", a, b)
		}
		if compressAcceptsGzip([]string{a, b, "gzip;q=0"}) && !got {
			t.Errorf("%q %q: adding gzip;q=0 turned a refusal into acceptance", a, b)
		}
		if !strings.Contains(lower, "gzip") && compressAcceptsGzip([]string{a, b, "gzip;q=0"}) {
			t.Errorf("%q %q: gzip;q=0 did not refuse", a, b)
		}
	})
}

// compressBenchWriter is a ResponseWriter that discards everything, so the
// benchmark measures the middleware.
type compressBenchWriter struct{ h http.Header }

func (w *compressBenchWriter) Header() http.Header         { return w.h }
func (w *compressBenchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *compressBenchWriter) WriteHeader(int)             {}

// BenchmarkCompress gzips a 16 KiB JSON body. The "unpooled" case is the
// same work with a gzip.Writer made per response, as a wrapper without a
// pool would do: the difference is what the pool saves.
func BenchmarkCompress(b *testing.B) {
	body := []byte(compressBody(16 << 10))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"pooled", Compress(CompressConfig{})(handler)},
		{"unpooled", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(body)
			zw.Close()
		})},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := &compressBenchWriter{h: make(http.Header)}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, r)
			}
		})
	}
}

// TestCompressPooledWriter: a write that alone reaches MinSize goes to
// gzip without taking a buffer; when the response ends, normally or by a
// panic, the pooled gzip writer lets go of the ResponseWriter; and a
// writer reused after a panic mid-stream starts a clean stream.
func TestCompressPooledWriter(t *testing.T) {
	body := compressBody(4000)
	var (
		gz      *compressGzipWriter
		bufUsed bool
	)
	mw := Compress(CompressConfig{Level: 3, MinSize: 1000})
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := w.(*compressWriter)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
		gz, bufUsed = cw.gz, cw.buf != nil
		if r.URL.Query().Has("panic") {
			panic(http.ErrAbortHandler)
		}
	}))
	serve := func(target string) *httptest.ResponseRecorder {
		t.Helper()
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				t.Fatalf("panic %v", v)
			}
		}()
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	for _, target := range []string{"/", "/?panic", "/", "/?panic", "/?panic", "/"} {
		gz = nil
		rec := serve(target)
		if gz == nil {
			t.Fatalf("%s: the response was not compressed", target)
		}
		if bufUsed {
			t.Errorf("%s: a buffer was taken for a write of %d bytes, MinSize 1000", target, len(body))
		}
		if gz.out.w != nil {
			t.Errorf("%s: the released gzip writer still holds the ResponseWriter", target)
		}
		if target == "/" {
			if got := compressGunzip(t, rec.Body.Bytes()); got != body {
				t.Errorf("%s: gunzipped %d bytes, want the %d of the body", target, len(got), len(body))
			}
		}
	}
}
