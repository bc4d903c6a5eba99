package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StaticConfig configures [Static], which reads it once: changing it
// afterwards has no effect. Exactly one of Root and Dir must be set.
type StaticConfig struct {
	// Root is the file system to serve, such as an embed.FS (usually
	// through fs.Sub, to drop the directory the files were embedded from)
	// or os.DirFS. Note that os.DirFS follows symbolic links out of its
	// directory; Dir does not.
	Root fs.FS

	// Dir is a directory to serve. Static opens it with os.OpenRoot, so
	// no path and no symbolic link can lead outside it, and keeps it open
	// for the life of the process.
	Dir string

	// MaxAge sets "Cache-Control: public, max-age=N" (N in whole seconds)
	// on files. Zero means "no-cache": clients may store files but must
	// revalidate them each time, which costs a 304 at most.
	MaxAge time.Duration

	// Immutable, if set, reports whether a file's name (slash-separated,
	// relative to the root, such as "assets/app.3f9a2c.js") is
	// fingerprinted, so its content never changes: such files get
	// "Cache-Control: public, max-age=31536000, immutable". It must be
	// safe for concurrent use.
	Immutable func(name string) bool

	// Index is the file served for a directory. Default "index.html".
	Index string

	// ListDirectories makes a directory without Index answer with a
	// listing of its entries. By default it is 404: a listing is never
	// shown unless asked for.
	ListDirectories bool

	// Precompressed serves NAME.gz, when it exists next to NAME, to
	// clients that accept gzip, with "Content-Encoding: gzip" and NAME's
	// Content-Type. Responses for such files carry "Vary: Accept-Encoding"
	// whichever variant they hold. The .gz files are made at build time,
	// for example with gzip -k -9.
	Precompressed bool

	// Dotfiles serves files and directories whose name begins with a dot.
	// By default a path with such a segment (.git/config, .env,
	// .htpasswd) is 404, as if it were not there, and listings leave
	// such entries out; only a first segment of .well-known (RFC 8615:
	// security.txt, ACME challenges) is served.
	Dotfiles bool
}

// staticHandler is the http.Handler Static returns.
type staticHandler struct {
	fsys          fs.FS
	cacheControl  string
	immutable     func(string) bool
	index         string
	list          bool
	precompressed bool
	dotfiles      bool
	etags         sync.Map // file name → *staticETag
}

// staticETag is a file's ETag and the stat it was computed for.
type staticETag struct {
	size    int64
	modTime time.Time
	etag    string
}

// staticImmutable is the Cache-Control of fingerprinted files.
const staticImmutable = "public, max-age=31536000, immutable"

// Static returns a handler that serves files from cfg.Root or cfg.Dir,
// for GET and HEAD (other methods get 405 with "Allow: GET, HEAD").
// Files go through http.ServeContent, which answers Range requests (206),
// conditional requests (304 for If-None-Match and If-Modified-Since, 412)
// and HEAD.
//
// Every file gets a strong ETag, the first 16 bytes of its SHA-256 in hex,
// computed on first use and cached by name, size and modification time, so
// an edited file gets a new one. embed.FS files have no modification time,
// so this ETag is what makes their revalidation work; they send no
// Last-Modified.
//
// Names beginning with a dot are hidden unless cfg.Dotfiles is set (see
// StaticConfig.Dotfiles). The request path (r.URL.Path, so Static works
// under http.StripPrefix) is cleaned; a path with a ".." segment (percent-encoded or not), a
// backslash or a NUL byte, or one fs.ValidPath refuses, gets 400.
// Missing files get 404, as do files that cannot be opened for another
// reason than permissions (403); errors while reading get 500. A
// directory requested without its trailing slash is redirected (301) to
// it, relative to the request, and a file requested with one is
// redirected to the name without it.
//
// Static panics if neither or both of cfg.Root and cfg.Dir are set, if
// cfg.Dir cannot be opened or either is not a directory, if cfg.MaxAge is
// negative, or if cfg.Index is not a plain file name. The handler is safe
// for concurrent use.
func Static(cfg StaticConfig) http.Handler {
	s := &staticHandler{
		fsys:          cfg.Root,
		immutable:     cfg.Immutable,
		index:         cfg.Index,
		list:          cfg.ListDirectories,
		precompressed: cfg.Precompressed,
		dotfiles:      cfg.Dotfiles,
	}
	switch {
	case cfg.Root == nil && cfg.Dir == "":
		panic("middleware: Static: set Root (an fs.FS) or Dir (a directory)")
	case cfg.Root != nil && cfg.Dir != "":
		panic(fmt.Sprintf("middleware: Static: Root and Dir (%q) are both set: set one", cfg.Dir))
	case cfg.Dir != "":
		root, err := os.OpenRoot(cfg.Dir)
		if err != nil {
			panic(fmt.Sprintf("middleware: Static: Dir %q: %v", cfg.Dir, err))
		}
		s.fsys = root.FS()
	}
	if fi, err := fs.Stat(s.fsys, "."); err != nil || !fi.IsDir() {
		field := "Root"
		if cfg.Dir != "" {
			field = fmt.Sprintf("Dir %q", cfg.Dir)
		}
		if err == nil {
			err = errors.New("not a directory")
		}
		panic(fmt.Sprintf("middleware: Static: %s: %v", field, err))
	}
	switch {
	case cfg.MaxAge < 0:
		panic(fmt.Sprintf("middleware: Static: MaxAge %v is negative", cfg.MaxAge))
	case cfg.MaxAge == 0:
		s.cacheControl = "no-cache"
	default:
		s.cacheControl = "public, max-age=" + strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	}
	if s.index == "" {
		s.index = "index.html"
	}
	if !fs.ValidPath(s.index) || strings.ContainsAny(s.index, `/\`) || s.index == "." {
		panic(fmt.Sprintf("middleware: Static: Index %q: want a file name such as index.html", cfg.Index))
	}
	return s
}

func (s *staticHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	upath := r.URL.Path
	if !staticSafePath(upath) {
		http.Error(w, "400 bad request", http.StatusBadRequest)
		return
	}
	name := path.Clean("/" + upath)[1:]
	if name == "" {
		name = "."
	}
	if !fs.ValidPath(name) {
		http.Error(w, "400 bad request", http.StatusBadRequest)
		return
	}
	if !s.dotfiles && staticHidden(name) {
		http.NotFound(w, r)
		return
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		staticOpenError(w, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		staticOpenError(w, err)
		return
	}
	slash := strings.HasSuffix(upath, "/")
	if fi.IsDir() {
		if !slash && upath != "" {
			staticRedirect(w, r, path.Base(upath)+"/")
			return
		}
		s.serveDir(w, r, name, f)
		return
	}
	if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if slash {
		staticRedirect(w, r, "../"+path.Base(upath))
		return
	}
	s.serveFile(w, r, name, f, fi)
}

// staticHidden reports whether a cleaned name has a segment beginning
// with a dot, other than a first segment of .well-known.
func staticHidden(name string) bool {
	if rest, ok := strings.CutPrefix(name, ".well-known"); ok && (rest == "" || rest[0] == '/') {
		name = rest
	}
	for name != "" {
		var seg string
		seg, name, _ = strings.Cut(name, "/")
		if seg != "" && seg[0] == '.' && seg != "." {
			return true
		}
	}
	return false
}

// staticSafePath reports whether a request path is free of NUL bytes,
// backslashes and ".." segments.
func staticSafePath(p string) bool {
	if strings.ContainsAny(p, "\\\x00") {
		return false
	}
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == ".." {
			return false
		}
	}
	return true
}

// staticRedirect answers 301 with a Location relative to the request, so it
// stays right under http.StripPrefix. target is a decoded path: it is
// escaped here, so a name such as "50%" or "a?b" stays one path, and one
// whose first segment holds a colon gets "./" so it is not read as a scheme.
func staticRedirect(w http.ResponseWriter, r *http.Request, target string) {
	target = (&url.URL{Path: target}).String()
	if q := r.URL.RawQuery; q != "" {
		target += "?" + q
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

// staticOpenError answers for a file that cannot be opened: 403 for
// permissions, 404 for everything else (missing, not a directory, a link
// out of the root), so the response says nothing about what lies outside.
func staticOpenError(w http.ResponseWriter, err error) {
	if errors.Is(err, fs.ErrPermission) {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return
	}
	http.Error(w, "404 page not found", http.StatusNotFound)
}

// serveDir serves a directory's index, its listing, or 404.
func (s *staticHandler) serveDir(w http.ResponseWriter, r *http.Request, dir string, d fs.File) {
	name := path.Join(dir, s.index)
	f, err := s.fsys.Open(name)
	if err == nil {
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			s.serveFile(w, r, name, f, fi)
			return
		}
	}
	if !s.list {
		http.NotFound(w, r)
		return
	}
	rd, ok := d.(fs.ReadDirFile)
	if !ok {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	entries, err := rd.ReadDir(-1)
	if err != nil {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	title := html.EscapeString(r.URL.Path)
	fmt.Fprintf(&b, "<!doctype html>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<h1>%s</h1>\n<pre>\n", title, title)
	for _, e := range entries {
		n := e.Name()
		if !s.dotfiles && strings.HasPrefix(n, ".") && (n != ".well-known" || dir != ".") {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		href := (&url.URL{Path: n}).String() // "./a:b", not the scheme "a"
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>\n", html.EscapeString(href), html.EscapeString(n))
	}
	b.WriteString("</pre>\n")
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// serveFile serves a regular file, or its .gz variant.
func (s *staticHandler) serveFile(w http.ResponseWriter, r *http.Request, name string, f fs.File, fi fs.FileInfo) {
	h := w.Header()
	cacheControl := s.cacheControl
	if s.immutable != nil && s.immutable(name) {
		cacheControl = staticImmutable
	}
	served := name // the file whose bytes go out
	if s.precompressed && !strings.HasSuffix(name, ".gz") {
		if gz, gzi, ok := s.openVariant(name + ".gz"); ok {
			defer gz.Close()
			compressAddVary(h, "Accept-Encoding")
			if compressAcceptsGzip(r.Header.Values("Accept-Encoding")) {
				ctype := mime.TypeByExtension(path.Ext(name))
				if ctype == "" {
					var buf [512]byte
					n, _ := io.ReadFull(f, buf[:])
					ctype = http.DetectContentType(buf[:n])
				}
				h.Set("Content-Type", ctype)
				h.Set("Content-Encoding", "gzip")
				served, f, fi = name+".gz", gz, gzi
			}
		}
	}
	content, err := staticReadSeeker(f)
	if err != nil {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	etag, err := s.etag(served, content, fi)
	if err != nil {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	h.Set("Etag", etag)
	h.Set("Cache-Control", cacheControl)
	http.ServeContent(w, r, name, fi.ModTime(), content)
}

// openVariant opens a regular file, or reports false.
func (s *staticHandler) openVariant(name string) (fs.File, fs.FileInfo, bool) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, false
	}
	return f, fi, true
}

// staticReadSeeker returns f itself when it can seek (os and embed files
// can), else its content read into memory.
func staticReadSeeker(f fs.File) (io.ReadSeeker, error) {
	if rs, ok := f.(io.ReadSeeker); ok {
		return rs, nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// etag returns the file's cached ETag, or hashes content (leaving it at
// its start) and caches the result. A file whose size changed while it
// was read is not cached.
func (s *staticHandler) etag(name string, content io.ReadSeeker, fi fs.FileInfo) (string, error) {
	if v, ok := s.etags.Load(name); ok {
		if e := v.(*staticETag); e.size == fi.Size() && e.modTime.Equal(fi.ModTime()) {
			return e.etag, nil
		}
	}
	hash := sha256.New()
	n, err := io.Copy(hash, content)
	if err != nil {
		return "", err
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	var sum [sha256.Size]byte
	etag := `"` + hex.EncodeToString(hash.Sum(sum[:0])[:16]) + `"`
	if n == fi.Size() {
		s.etags.Store(name, &staticETag{size: n, modTime: fi.ModTime(), etag: etag})
	}
	return etag, nil
}
