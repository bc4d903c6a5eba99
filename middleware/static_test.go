package middleware

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

//go:embed testdata/static
var staticTestEmbed embed.FS

func staticTestFS(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(staticTestEmbed, "testdata/static")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func staticTestFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/static", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// staticWantETag is the ETag Static must compute for content.
func staticWantETag(content string) string {
	sum := sha256.Sum256([]byte(content))
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func staticDo(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestStatic(t *testing.T) {
	index := staticTestFile(t, "index.html")
	css := staticTestFile(t, "css/site.css")
	h := Static(StaticConfig{Root: staticTestFS(t)})
	tests := []struct {
		name    string
		method  string
		target  string
		hdr     map[string]string
		status  int
		body    string            // checked when not ""
		headers map[string]string // "" means absent
	}{
		{
			name: "root serves the index", target: "/", status: 200, body: index,
			headers: map[string]string{"Content-Type": "text/html; charset=utf-8", "Etag": staticWantETag(index),
				"Cache-Control": "no-cache", "Last-Modified": "", "Vary": ""},
		},
		{name: "index by name", target: "/index.html", status: 200, body: index},
		{name: "file", target: "/css/site.css", status: 200, body: css, headers: map[string]string{"Content-Type": "text/css; charset=utf-8"}},
		{name: "dot segments cleaned", target: "/css/./site.css", status: 200, body: css},
		{name: "double slash cleaned", target: "//css//site.css", status: 200, body: css},
		{name: "directory redirect", target: "/css", status: 301, headers: map[string]string{"Location": "css/"}},
		{name: "directory redirect keeps the query", target: "/css?v=1", status: 301, headers: map[string]string{"Location": "css/?v=1"}},
		{name: "file with slash redirect", target: "/css/site.css/", status: 301, headers: map[string]string{"Location": "../site.css"}},
		{name: "directory without index", target: "/docs/", status: 404},
		{name: "missing", target: "/nope.txt", status: 404},
		{name: "below a file", target: "/index.html/x", status: 404},
		{name: "POST", method: "POST", target: "/", status: 405, headers: map[string]string{"Allow": "GET, HEAD"}},
		{name: "OPTIONS", method: "OPTIONS", target: "/", status: 405, headers: map[string]string{"Allow": "GET, HEAD"}},
		{
			name: "HEAD", method: "HEAD", target: "/css/site.css", status: 200,
			headers: map[string]string{"Content-Length": fmt.Sprint(len(css)), "Etag": staticWantETag(css)},
		},
		{
			name: "Range", target: "/css/site.css", hdr: map[string]string{"Range": "bytes=0-3"}, status: 206, body: css[:4],
			headers: map[string]string{"Content-Range": fmt.Sprintf("bytes 0-3/%d", len(css))},
		},
		{name: "unsatisfiable Range", target: "/css/site.css", hdr: map[string]string{"Range": "bytes=9999-"}, status: 416},
		{
			name: "If-None-Match", target: "/css/site.css", hdr: map[string]string{"If-None-Match": staticWantETag(css)}, status: 304,
			headers: map[string]string{"Etag": staticWantETag(css), "Cache-Control": "no-cache"},
		},
		{name: "If-None-Match weak", target: "/css/site.css", hdr: map[string]string{"If-None-Match": "W/" + staticWantETag(css)}, status: 304},
		{name: "If-None-Match other", target: "/css/site.css", hdr: map[string]string{"If-None-Match": `"abc"`}, status: 200, body: css},
		{name: "If-None-Match *", target: "/css/site.css", hdr: map[string]string{"If-None-Match": "*"}, status: 304},
		{name: "If-Match other", target: "/css/site.css", hdr: map[string]string{"If-Match": `"abc"`}, status: 412},
		{name: "If-Range match", target: "/css/site.css", hdr: map[string]string{"Range": "bytes=0-3", "If-Range": staticWantETag(css)}, status: 206, body: css[:4]},
		{name: "If-Range stale", target: "/css/site.css", hdr: map[string]string{"Range": "bytes=0-3", "If-Range": `"old"`}, status: 200, body: css},
		{name: "the .gz itself", target: "/css/site.css.gz", status: 200, headers: map[string]string{"Content-Encoding": "", "Vary": ""}},
		{name: "precompressed off", target: "/css/site.css", hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200, body: css,
			headers: map[string]string{"Content-Encoding": "", "Vary": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			rec := staticDo(h, method, tt.target, tt.hdr)
			if rec.Code != tt.status {
				t.Fatalf("status: got %d, want %d (body %q)", rec.Code, tt.status, rec.Body.String())
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body: got %q, want %q", rec.Body.String(), tt.body)
			}
			if method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD body: got %d bytes, want 0", rec.Body.Len())
			}
			for k, want := range tt.headers {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestStaticTraversal tries to leave the root in every way a path can
// say "..". The directory served sits next to a secret file and holds a
// symbolic link to it.
func TestStaticTraversal(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ok.txt"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	h := Static(StaticConfig{Dir: root})
	tests := []struct {
		target string
		status int
	}{
		{"/ok.txt", 200},
		{"/../secret.txt", 400},
		{"/x/../../secret.txt", 400},
		{"/x/../ok.txt", 400}, // harmless, but ".." is refused wherever it is
		{"/%2e%2e/secret.txt", 400},
		{"/%2E%2E%2Fsecret.txt", 400},
		{"/..%2fsecret.txt", 400},
		{"/ok.txt%2f..%2f..%2fsecret.txt", 400},
		{"/..%5csecret.txt", 400},
		{`/..\secret.txt`, 400},
		{"/ok.txt%00.png", 400},
		{"/link.txt", 404}, // os.Root refuses the link out
		{"/.../secret.txt", 404},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := staticDo(h, "GET", tt.target, nil)
			if rec.Code != tt.status {
				t.Errorf("status: got %d, want %d", rec.Code, tt.status)
			}
			if strings.Contains(rec.Body.String(), "SECRET") {
				t.Errorf("served the secret")
			}
		})
	}

	// The same over a socket, with request lines no client library
	// would clean.
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, target := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/ok.txt/../../secret.txt"} {
		t.Run("socket "+target, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || strings.Contains(string(b), "SECRET") {
				t.Errorf("got %d %q, want 400", resp.StatusCode, b)
			}
		})
	}
}

func TestStaticPrecompressed(t *testing.T) {
	css := staticTestFile(t, "css/site.css")
	cssGz := staticTestFile(t, "css/site.css.gz")
	h := Static(StaticConfig{Root: staticTestFS(t), Precompressed: true})
	tests := []struct {
		name     string
		ae       string
		encoding string
		etag     string
	}{
		{"gzip", "gzip, br", "gzip", staticWantETag(cssGz)},
		{"no Accept-Encoding", "", "", staticWantETag(css)},
		{"gzip refused", "gzip;q=0, br", "", staticWantETag(css)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := staticDo(h, "GET", "/css/site.css", map[string]string{"Accept-Encoding": tt.ae})
			if rec.Code != 200 {
				t.Fatalf("status: got %d, want 200", rec.Code)
			}
			got := [4]string{rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"), rec.Header().Get("Content-Type"), rec.Header().Get("Etag")}
			want := [4]string{tt.encoding, "Accept-Encoding", "text/css; charset=utf-8", tt.etag}
			if got != want {
				t.Errorf("Content-Encoding, Vary, Content-Type, ETag: got %q, want %q", got, want)
			}
			body := rec.Body.String()
			if tt.encoding == "gzip" {
				body = compressGunzip(t, rec.Body.Bytes())
			}
			if body != css {
				t.Errorf("body: got %q, want %q", body, css)
			}
		})
	}
	t.Run("revalidate the gzip variant", func(t *testing.T) {
		rec := staticDo(h, "GET", "/css/site.css", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": staticWantETag(cssGz)})
		if rec.Code != 304 {
			t.Errorf("status: got %d, want 304", rec.Code)
		}
	})
	t.Run("no variant", func(t *testing.T) {
		rec := staticDo(h, "GET", "/index.html", map[string]string{"Accept-Encoding": "gzip"})
		if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "" || rec.Header().Get("Vary") != "" {
			t.Errorf("got %d, Content-Encoding %q, Vary %q, want 200 and neither", rec.Code, rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"))
		}
	})
	t.Run("type sniffed from the original", func(t *testing.T) {
		var gz strings.Builder
		zw := gzip.NewWriter(&gz)
		io.WriteString(zw, "<!doctype html><p>hi")
		zw.Close()
		fsys := fstest.MapFS{
			"page":    {Data: []byte("<!doctype html><p>hi")},
			"page.gz": {Data: []byte(gz.String())},
		}
		rec := staticDo(Static(StaticConfig{Root: fsys, Precompressed: true}), "GET", "/page", map[string]string{"Accept-Encoding": "gzip"})
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" || rec.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("Content-Type: got %q (encoding %q), want text/html; charset=utf-8 (gzip)", got, rec.Header().Get("Content-Encoding"))
		}
	})
}

func TestStaticCacheControl(t *testing.T) {
	immutable := regexp.MustCompile(`\.[0-9a-f]{6}\.js$`)
	h := Static(StaticConfig{
		Root:      staticTestFS(t),
		MaxAge:    90*time.Second + 500*time.Millisecond,
		Immutable: immutable.MatchString,
	})
	tests := []struct {
		target string
		want   string
	}{
		{"/css/site.css", "public, max-age=90"},
		{"/", "public, max-age=90"},
		{"/js/app.3f9a2c.js", "public, max-age=31536000, immutable"},
		{"/nope.js", ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if got := staticDo(h, "GET", tt.target, nil).Header().Get("Cache-Control"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStaticListDirectories(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{`<b>&"x.txt`, "a:b.txt", "sub/f.txt"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Skip("file name not supported here:", err)
		}
	}
	h := Static(StaticConfig{Dir: dir, ListDirectories: true})
	rec := staticDo(h, "GET", "/", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`<a href="./a:b.txt">a:b.txt</a>`,
		`<a href="%3Cb%3E&amp;%22x.txt">&lt;b&gt;&amp;&#34;x.txt</a>`,
		`<a href="sub/">sub/</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("listing lacks %s:\n%s", want, body)
		}
	}
	if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type: got %q, want text/html; charset=utf-8", got)
	}
	if rec := staticDo(h, "HEAD", "/", nil); rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: got %d, %d bytes, Content-Length %q; want 200, 0 bytes, a length", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	// An index still wins over the listing.
	h = Static(StaticConfig{Root: staticTestFS(t), ListDirectories: true, Index: "guide.txt"})
	if rec := staticDo(h, "GET", "/docs/", nil); rec.Body.String() != "Read the guide.\n" {
		t.Errorf("index: got %q, want the guide", rec.Body.String())
	}
}

// TestStaticEditedFile checks that an edited file gets a new ETag, whether
// its size or only its modification time changed, and that an unchanged
// one keeps its cached ETag.
func TestStaticEditedFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	write := func(content string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	h := Static(StaticConfig{Dir: dir})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		content string
		mtime   time.Time
	}{
		{"one", t0},
		{"one", t0}, // unchanged: served from the cache
		{"three", t0.Add(time.Second)},
		{"tree!", t0.Add(2 * time.Second)}, // same size, new time
	}
	for i, st := range steps {
		write(st.content, st.mtime)
		rec := staticDo(h, "GET", "/a.txt", nil)
		if got, want := rec.Header().Get("Etag"), staticWantETag(st.content); got != want {
			t.Errorf("step %d: ETag got %s, want %s", i, got, want)
		}
		if got, want := rec.Header().Get("Last-Modified"), st.mtime.Format(http.TimeFormat); got != want {
			t.Errorf("step %d: Last-Modified got %s, want %s", i, got, want)
		}
	}
	n := 0
	h.(*staticHandler).etags.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("cache entries: got %d, want 1 (edits replace the entry)", n)
	}
	rec := staticDo(h, "GET", "/a.txt", map[string]string{"If-Modified-Since": t0.Add(2 * time.Second).Format(http.TimeFormat)})
	if rec.Code != 304 {
		t.Errorf("If-Modified-Since: got %d, want 304", rec.Code)
	}
	// A new size alone also gives a new ETag.
	write("four", t0.Add(2*time.Second))
	if got, want := staticDo(h, "GET", "/a.txt", nil).Header().Get("Etag"), staticWantETag("four"); got != want {
		t.Errorf("size change: ETag got %s, want %s", got, want)
	}
}

// TestStaticConcurrent serves many files at once from a fresh handler, so
// the race detector sees the ETag cache filled concurrently.
func TestStaticConcurrent(t *testing.T) {
	h := Static(StaticConfig{Root: staticTestFS(t), Precompressed: true})
	srv := httptest.NewServer(h)
	defer srv.Close()
	paths := []string{"/", "/css/site.css", "/js/app.3f9a2c.js", "/docs/guide.txt"}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			resp, err := srv.Client().Get(srv.URL + paths[i%len(paths)])
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Etag") == "" {
				errs <- fmt.Errorf("%s: got %d, ETag %q", paths[i%len(paths)], resp.StatusCode, resp.Header.Get("Etag"))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestStaticPanics(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name string
		cfg  StaticConfig
		want string
	}{
		{"neither", StaticConfig{}, "set Root"},
		{"both", StaticConfig{Root: fstest.MapFS{}, Dir: dir}, "Root and Dir"},
		{"missing Dir", StaticConfig{Dir: filepath.Join(dir, "nope")}, "Dir "},
		{"Dir is a file", StaticConfig{Dir: file}, "Dir "},
		{"Root is a file", StaticConfig{Root: fstest.MapFS{".": {Data: []byte("x")}}}, "Root: not a directory"},
		{"negative MaxAge", StaticConfig{Dir: dir, MaxAge: -time.Second}, "MaxAge -1s"},
		{"Index with a slash", StaticConfig{Dir: dir, Index: "a/index.html"}, `Index "a/index.html"`},
		{"Index dot dot", StaticConfig{Dir: dir, Index: ".."}, `Index ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := realIPPanicMessage(func() { Static(tt.cfg) })
			if !strings.HasPrefix(got, "middleware: Static: ") || !strings.Contains(got, tt.want) {
				t.Errorf("got panic %q, want one naming %q", got, tt.want)
			}
		})
	}
}

// FuzzStaticPath serves arbitrary paths from a directory that sits next
// to a secret: nothing outside the root ever comes back, and every answer
// is one Static documents.
func FuzzStaticPath(f *testing.F) {
	dir := f.TempDir()
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("SECRET"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "ok.txt"), []byte("ok"), 0o644)
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "link"))
	h := Static(StaticConfig{Dir: root, ListDirectories: true})
	for _, s := range []string{"/", "/sub/ok.txt", "/../secret.txt", "/sub/../../secret.txt", "/link", "..", "/sub", "\\..\\secret.txt", "/./../secret.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case 200, 301, 400, 404:
		default:
			t.Errorf("%q: status %d", p, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "SECRET") {
			t.Errorf("%q: served the secret", p)
		}
		if staticSafePath(p) {
			if name := path.Clean("/" + p)[1:]; name == ".." || strings.HasPrefix(name, "../") {
				t.Errorf("%q: safe path cleans to %q", p, name)
			}
		}
	})
}

// staticFakeFS serves fstest.MapFS files without their Seek method, and
// refuses "locked" with a permission error, like a file system neither
// os nor embed provides.
type staticFakeFS struct{ fstest.MapFS }

// staticNoSeek hides the Seek method of the file it holds.
type staticNoSeek struct{ fs.File }

func (f staticFakeFS) Open(name string) (fs.File, error) {
	if name == "locked" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	file, err := f.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := file.Stat(); err == nil && fi.IsDir() {
		return file, nil
	}
	return staticNoSeek{file}, nil
}

func TestStaticOtherFS(t *testing.T) {
	h := Static(StaticConfig{Root: staticFakeFS{fstest.MapFS{
		"a.txt": {Data: []byte("hello, world")},
		"pipe":  {Mode: fs.ModeNamedPipe},
	}}})
	tests := []struct {
		name   string
		target string
		hdr    map[string]string
		status int
		body   string
	}{
		{"no Seek: read into memory", "/a.txt", nil, 200, "hello, world"},
		{"no Seek: Range still works", "/a.txt", map[string]string{"Range": "bytes=7-"}, 206, "world"},
		{"no Seek: revalidation", "/a.txt", map[string]string{"If-None-Match": staticWantETag("hello, world")}, 304, ""},
		{"permission", "/locked", nil, 403, "403 forbidden\n"},
		{"not a regular file", "/pipe", nil, 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := staticDo(h, "GET", tt.target, tt.hdr)
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
		})
	}
}

// TestStaticRedirectEscapes: the Location of a redirect is the name
// escaped, so a name holding "%", "?", "#" or a space stays one path, and
// following it leads to the file.
func TestStaticRedirectEscapes(t *testing.T) {
	h := Static(StaticConfig{Root: fstest.MapFS{
		"50%/index.html":    {Data: []byte("fifty")},
		"a?b/index.html":    {Data: []byte("query")},
		"a#b/index.html":    {Data: []byte("fragment")},
		"my dir/index.html": {Data: []byte("space")},
		"a:b/index.html":    {Data: []byte("colon")},
		"d/50%.txt":         {Data: []byte("file fifty")},
		"d/a?b.txt":         {Data: []byte("file query")},
	}})
	tests := []struct {
		target   string
		location string
		body     string // what following the redirect serves
	}{
		{"/50%25", "50%25/", "fifty"},
		{"/a%3Fb", "a%3Fb/", "query"},
		{"/a%3Fb?v=1", "a%3Fb/?v=1", "query"},
		{"/a%23b", "a%23b/", "fragment"},
		{"/my%20dir", "my%20dir/", "space"},
		{"/a:b", "./a:b/", "colon"}, // "a:b/" would be the scheme "a"
		{"/d/50%25.txt/", "../50%25.txt", "file fifty"},
		{"/d/a%3Fb.txt/", "../a%3Fb.txt", "file query"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := staticDo(h, "GET", tt.target, nil)
			if got, want := rec.Code, http.StatusMovedPermanently; got != want {
				t.Fatalf("got status %v, want %v", got, want)
			}
			loc := rec.Header().Get("Location")
			if loc != tt.location {
				t.Errorf("got Location %q, want %q", loc, tt.location)
			}
			base, err := url.Parse("http://example.com" + tt.target)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("Location %q: %v", loc, err)
			}
			next := base.ResolveReference(ref)
			if next.Scheme != base.Scheme || next.Host != base.Host {
				t.Fatalf("Location %q leads off the site, to %s", loc, next)
			}
			rec = staticDo(h, "GET", next.RequestURI(), nil)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.body {
				t.Errorf("following to %s: got %d %q, want 200 %q", next.RequestURI(), rec.Code, rec.Body.String(), tt.body)
			}
		})
	}
}

// TestStaticDotfiles: names beginning with a dot are 404 and left out of
// listings by default, at any depth and however the path is spelled;
// .well-known at the root is served; Dotfiles serves them all.
func TestStaticDotfiles(t *testing.T) {
	fsys := fstest.MapFS{
		".env":                           {Data: []byte("SECRET=1")},
		".git/config":                    {Data: []byte("[core]")},
		"assets/.htpasswd":               {Data: []byte("admin:x")},
		"assets/app.js":                  {Data: []byte("app")},
		"assets/.well-known/x":           {Data: []byte("nested")},
		".well-known/security.txt":       {Data: []byte("Contact: x")},
		".well-known/acme-challenge/tok": {Data: []byte("tok")},
		"a.b/.c.txt":                     {Data: []byte("c")},
		"a.b/ok.txt":                     {Data: []byte("ok")},
	}
	h := Static(StaticConfig{Root: fsys, ListDirectories: true})
	for _, tc := range []struct {
		target string
		code   int
	}{
		{"/.env", 404},
		{"/.git/config", 404},
		{"/.git/", 404},
		{"/.git", 404},
		{"/assets/.htpasswd", 404},
		{"/assets/./.htpasswd", 404},
		{"/assets//.htpasswd", 404},
		{"/%2Eenv", 404},
		{"/assets/.well-known/x", 404},
		{"/a.b/.c.txt", 404},
		{"/a.b/ok.txt", 200},
		{"/assets/app.js", 200},
		{"/.well-known/security.txt", 200},
		{"/.well-known/acme-challenge/tok", 200},
	} {
		if rec := staticDo(h, "GET", tc.target, nil); rec.Code != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.target, rec.Code, tc.code)
		}
	}
	root := staticDo(h, "GET", "/", nil).Body.String()
	if strings.Contains(root, ".env") || strings.Contains(root, ".git") || !strings.Contains(root, ".well-known/") {
		t.Errorf("root listing: want .well-known/ and neither .env nor .git:\n%s", root)
	}
	if assets := staticDo(h, "GET", "/assets/", nil).Body.String(); strings.Contains(assets, ".ht") || strings.Contains(assets, ".well-known") {
		t.Errorf("assets listing shows a dotfile:\n%s", assets)
	}

	h = Static(StaticConfig{Root: fsys, Dotfiles: true, ListDirectories: true})
	for _, target := range []string{"/.env", "/.git/config", "/assets/.htpasswd", "/a.b/.c.txt"} {
		if rec := staticDo(h, "GET", target, nil); rec.Code != 200 {
			t.Errorf("Dotfiles: GET %s: %d, want 200", target, rec.Code)
		}
	}
	if root := staticDo(h, "GET", "/", nil).Body.String(); !strings.Contains(root, ".env") {
		t.Errorf("Dotfiles: root listing lacks .env:\n%s", root)
	}
}
