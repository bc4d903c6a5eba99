package middleware

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// CompressConfig configures [Compress], which reads it once: changing it
// afterwards has no effect. The zero value is ready to use.
type CompressConfig struct {
	// Level is the gzip level: gzip.BestSpeed (1) to gzip.BestCompression
	// (9), gzip.HuffmanOnly (-2) or gzip.DefaultCompression (-1). Zero
	// means gzip.DefaultCompression (gzip.NoCompression has no use here).
	Level int

	// MinSize is the smallest body, in bytes, that is compressed; smaller
	// ones are sent as they are, with their Content-Length, because gzip's
	// framing would outweigh the saving. Zero means 1024; use 1 to
	// compress everything. Up to MinSize bytes of each response are
	// buffered until the decision is made.
	MinSize int

	// ContentTypes lists the media types worth compressing, as "type/sub"
	// or "type/*", without parameters; matching ignores case and the
	// response's parameters (charset). Nil means text/*,
	// application/json, application/javascript, application/ecmascript,
	// application/xml, application/xhtml+xml, application/rss+xml,
	// application/atom+xml, application/ld+json, application/manifest+json,
	// application/problem+json, application/geo+json, application/wasm,
	// image/svg+xml, image/x-icon, image/bmp, font/ttf and font/otf. A
	// response without a Content-Type gets the one net/http would sniff
	// before the check.
	ContentTypes []string
}

// compressDefaultTypes is the list used when CompressConfig.ContentTypes is
// nil; keep the field's documentation in step.
var compressDefaultTypes = []string{
	"text/*",
	"application/json",
	"application/javascript",
	"application/ecmascript",
	"application/xml",
	"application/xhtml+xml",
	"application/rss+xml",
	"application/atom+xml",
	"application/ld+json",
	"application/manifest+json",
	"application/problem+json",
	"application/geo+json",
	"application/wasm",
	"image/svg+xml",
	"image/x-icon",
	"image/bmp",
	"font/ttf",
	"font/otf",
}

// compressor is one Compress middleware's validated configuration.
type compressor struct {
	level    int
	minSize  int
	types    map[string]bool // "application/json", and "text/*" for wildcards
	bufPool  sync.Pool       // *[]byte with capacity minSize
	gzipPool *sync.Pool      // *compressGzipWriter, shared by every Compress with this level
}

// compressGzipPools holds idle gzip writers per level (index level+2),
// shared by every Compress middleware.
var compressGzipPools [gzip.BestCompression + 3]sync.Pool

// compressGzipWriter is a pooled gzip.Writer with the writer it writes to.
// The gzip.Writer always writes to out, and out to the response: reusing
// it takes one Reset (which clears the compressor's tables), and releasing
// it only sets out.w to nil, so the pool keeps no response alive.
type compressGzipWriter struct {
	gz  *gzip.Writer
	out compressForwarder
}

// compressForwarder passes writes on to w.
type compressForwarder struct{ w io.Writer }

func (f *compressForwarder) Write(p []byte) (int, error) { return f.w.Write(p) }

// compressErrFinished is returned by writes after the handler returned.
//
//lint:ignore ST1012 unexported names in this package start with their feature's name
var compressErrFinished = errors.New("middleware: Compress: write after the handler returned")

// Compress returns middleware that gzips response bodies for clients that
// accept it. Only gzip is offered: Brotli and Zstandard need modules
// outside the standard library.
//
// Accept-Encoding is negotiated by RFC 9110: q-values count ("gzip;q=0"
// refuses gzip), "*" stands for codings not listed, x-gzip is gzip, and
// identity wins when the client ranks it (by name or through "*") above
// gzip. A request without Accept-Encoding gets no compression.
//
// A response is compressible when its status allows a body and is not 206,
// its media type is in cfg.ContentTypes, it has no Content-Encoding or
// Content-Range yet, and its Cache-Control does not say no-transform.
// Compressible responses always get "Vary: Accept-Encoding", compressed
// or not, so caches keep the variants apart. They are compressed only when
// the client accepts gzip, the request is not HEAD (a HEAD response keeps
// the handler's headers) and has no Range header, and the body reaches
// cfg.MinSize bytes; then Content-Length and Accept-Ranges are removed and
// a strong ETag becomes weak (W/"..."), since the bytes on the wire differ.
// A body under MinSize is written as it is with its Content-Length.
//
// A 304 Not Modified carries the Vary and ETag of the 200 it stands for
// (RFC 9110, section 15.4.5): Vary when its Content-Type is compressible
// or, since http.ServeContent drops Content-Type from a 304, when the
// request's If-None-Match holds the weakened form of the handler's strong
// ETag, which shows the client's copy came compressed; a request that
// could be compressed then gets that weak ETag back. (http.ServeContent
// compares If-None-Match weakly, so W/"x" matches the handler's "x".) A
// 304 that neither shows is left as the handler wrote it.
//
// Flush (through http.Flusher or http.ResponseController) sends what is
// buffered at once, compressed if the response qualifies, so streams and
// server-sent events work; Hijack and deadlines reach the underlying
// writer through Unwrap. gzip writers and buffers are pooled.
//
// Compress panics if cfg.Level, cfg.MinSize or an entry of
// cfg.ContentTypes is invalid. The middleware is safe for concurrent use;
// the ResponseWriter it hands the handler is, like net/http's, for one
// goroutine at a time. Writes return the underlying writer's errors.
func Compress(cfg CompressConfig) Middleware {
	c := &compressor{level: cfg.Level, minSize: cfg.MinSize}
	if c.level == 0 {
		c.level = gzip.DefaultCompression
	}
	if c.level < gzip.HuffmanOnly || c.level > gzip.BestCompression {
		panic(fmt.Sprintf("middleware: Compress: Level %d: want 1 to 9, -1 (default) or -2 (Huffman only)", cfg.Level))
	}
	c.gzipPool = &compressGzipPools[c.level+2]
	switch {
	case c.minSize == 0:
		c.minSize = 1024
	case c.minSize < 0:
		panic(fmt.Sprintf("middleware: Compress: MinSize %d is negative", cfg.MinSize))
	}
	types := cfg.ContentTypes
	if types == nil {
		types = compressDefaultTypes
	}
	c.types = make(map[string]bool, len(types))
	for i, t := range types {
		mt, err := compressCheckType(t)
		if err != nil {
			panic(fmt.Sprintf("middleware: Compress: ContentTypes[%d] %q: %v", i, t, err))
		}
		c.types[mt] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cw := &compressWriter{w: w, c: c, reqHeader: r.Header}
			cw.canCompress = r.Method != http.MethodHead && r.Header.Get("Range") == "" &&
				compressAcceptsGzip(r.Header.Values("Accept-Encoding"))
			returned := false
			defer func() {
				if !returned {
					cw.release() // the handler panicked: write nothing more
				}
			}()
			next.ServeHTTP(cw, r)
			returned = true
			cw.finish()
		})
	}
}

// compressCheckType validates and lowercases a configured media type.
func compressCheckType(t string) (string, error) {
	mt := strings.ToLower(strings.TrimSpace(t))
	typ, sub, ok := strings.Cut(mt, "/")
	switch {
	case !ok:
		return "", errors.New(`want "type/subtype" or "type/*"`)
	case strings.ContainsAny(mt, ";,"):
		return "", errors.New("parameters are not matched: list the bare media type")
	case typ == "*":
		return "", errors.New(`"*/*" would compress images and archives: list the types`)
	case !compressIsToken(typ) || (sub != "*" && !compressIsToken(sub)):
		return "", errors.New("not a media type")
	}
	return mt, nil
}

// compressIsToken reports whether s is a non-empty RFC 9110 token.
func compressIsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// compressible reports whether a Content-Type value is in the list.
func (c *compressor) compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return false
	}
	if c.types[mt] {
		return true
	}
	typ, _, ok := strings.Cut(mt, "/")
	return ok && c.types[typ+"/*"]
}

// compressAcceptsGzip reports whether Accept-Encoding field values accept
// gzip, and rank it at least as high as identity when they rank identity
// (by name or through "*"). Elements with a malformed q-value are ignored.
func compressAcceptsGzip(values []string) bool {
	gzipQ, identityQ, anyQ := -1, -1, -1 // thousandths; -1: not listed
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(elem, ";")
			name = strings.TrimSpace(name)
			q, ok := 1000, true
			for params != "" && ok {
				var p string
				p, params, _ = strings.Cut(params, ";")
				k, val, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q, ok = compressParseQ(strings.TrimSpace(val))
				}
			}
			if !ok {
				continue
			}
			switch {
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				gzipQ = max(gzipQ, q)
			case strings.EqualFold(name, "identity"):
				identityQ = max(identityQ, q)
			case name == "*":
				anyQ = max(anyQ, q)
			}
		}
	}
	if gzipQ < 0 {
		gzipQ = anyQ
	}
	if identityQ < 0 {
		// Unranked identity is acceptable but does not compete.
		identityQ = max(anyQ, 0)
	}
	return gzipQ > 0 && gzipQ >= identityQ
}

// compressParseQ parses an RFC 9110 qvalue ("0", "0.5", "1.000") into
// thousandths.
func compressParseQ(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	frac := s[1:]
	if frac[0] != '.' || len(frac) > 4 {
		return 0, false
	}
	scale := 100
	for i := 1; i < len(frac); i++ {
		d := frac[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		q += int(d-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

// compressAddVary adds a token to the Vary header unless it (or "*") is
// already there. Static and CORS use it too.
func compressAddVary(h http.Header, token string) {
	for _, v := range h.Values("Vary") {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			t = strings.TrimSpace(t)
			if t == "*" || strings.EqualFold(t, token) {
				return
			}
		}
	}
	h.Add("Vary", token)
}

// compressHasToken reports whether a comma-separated header holds token.
func compressHasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			t, _, _ = strings.Cut(t, "=")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// compressEligible reports whether response headers leave the body to be
// compressed: it is not encoded or a range yet, and transforming it is
// allowed.
func compressEligible(h http.Header) bool {
	return h.Get("Content-Encoding") == "" && h.Get("Content-Range") == "" &&
		!compressHasToken(h.Values("Cache-Control"), "no-transform")
}

// compressState is where a compressWriter is in its response.
type compressState int

const (
	compressIdle     compressState = iota // no status yet
	compressPending                       // status known, buffering until the decision
	compressIdentity                      // header sent, body passes through
	compressGzip                          // header sent, body goes through gz
	compressDone                          // handler returned (or panicked)
)

// compressWriter is the ResponseWriter Compress hands the handler.
type compressWriter struct {
	w           http.ResponseWriter
	c           *compressor
	canCompress bool        // the request allows gzip
	reqHeader   http.Header // the request's, for the If-None-Match of a 304
	state       compressState
	status      int
	typeLater   bool    // Content-Type was missing at WriteHeader: check it when committing
	buf         *[]byte // pending bytes, from c.bufPool
	gz          *compressGzipWriter
}

func (cw *compressWriter) Header() http.Header { return cw.w.Header() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.w }

func (cw *compressWriter) WriteHeader(code int) {
	if cw.state != compressIdle {
		if cw.state == compressIdentity || cw.state == compressGzip {
			cw.w.WriteHeader(code) // superfluous: let net/http say so
		}
		return
	}
	if code < 100 || code > 999 || (code <= 199 && code != http.StatusSwitchingProtocols) {
		cw.w.WriteHeader(code) // informational, or invalid (net/http panics)
		return
	}
	cw.status = code
	h := cw.w.Header()
	if code == http.StatusNotModified {
		cw.notModified(h)
		cw.sendHeader(compressIdentity)
		return
	}
	if code < 200 || code == http.StatusNoContent ||
		code == http.StatusPartialContent || !compressEligible(h) {
		cw.sendHeader(compressIdentity)
		return
	}
	if _, ok := h["Content-Type"]; !ok {
		cw.typeLater = true
		cw.state = compressPending
		return
	}
	if !cw.c.compressible(h.Get("Content-Type")) {
		cw.sendHeader(compressIdentity)
		return
	}
	compressAddVary(h, "Accept-Encoding")
	if !cw.canCompress {
		cw.sendHeader(compressIdentity)
		return
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n < int64(cw.c.minSize) {
			cw.sendHeader(compressIdentity)
			return
		}
	}
	cw.state = compressPending
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	switch cw.state {
	case compressIdle:
		cw.WriteHeader(http.StatusOK)
		return cw.Write(p)
	case compressIdentity:
		return cw.w.Write(p)
	case compressGzip:
		return cw.gz.gz.Write(p)
	case compressPending:
		if cw.buf == nil && len(p) >= cw.c.minSize {
			// This write alone decides: no need for a buffer.
			if err := cw.commit(false, p); err != nil {
				return 0, err
			}
			return cw.Write(p)
		}
		if cw.buf == nil {
			if b, ok := cw.c.bufPool.Get().(*[]byte); ok {
				cw.buf = b
			} else {
				b := make([]byte, 0, cw.c.minSize)
				cw.buf = &b
			}
		}
		if len(*cw.buf)+len(p) < cw.c.minSize {
			*cw.buf = append(*cw.buf, p...)
			return len(p), nil
		}
		if err := cw.commit(false, p); err != nil {
			return 0, err
		}
		return cw.Write(p)
	}
	return 0, compressErrFinished
}

// Flush sends what is buffered and flushes the underlying writer.
func (cw *compressWriter) Flush() { _ = cw.FlushError() }

// FlushError is Flush returning the error, for http.ResponseController.
func (cw *compressWriter) FlushError() error {
	switch cw.state {
	case compressDone:
		return compressErrFinished
	case compressIdle:
		cw.WriteHeader(http.StatusOK)
	}
	if cw.state == compressPending {
		// A flush means the handler streams: the size is unknown, so
		// compress without waiting for MinSize.
		if err := cw.commit(false, nil); err != nil {
			return err
		}
	}
	if cw.state == compressGzip {
		if err := cw.gz.gz.Flush(); err != nil {
			return err
		}
	}
	return http.NewResponseController(cw.w).Flush()
}

// commit decides between gzip and identity with what is known now, sends
// the header and the buffered bytes. next is the write that triggered it
// (not written here; it helps sniffing). final means the handler returned,
// so the body is exactly the buffered bytes.
func (cw *compressWriter) commit(final bool, next []byte) error {
	h := cw.w.Header()
	var data []byte
	if cw.buf != nil {
		data = *cw.buf
	}
	compress := cw.canCompress && !(final && len(data) < cw.c.minSize)
	if cw.typeLater {
		if sniff := data; len(sniff) > 0 || len(next) > 0 {
			if len(sniff) < 512 && len(next) > 0 {
				sniff = append(sniff[:len(sniff):len(sniff)], next[:min(len(next), 512-len(sniff))]...)
			}
			h.Set("Content-Type", http.DetectContentType(sniff))
		}
		if cw.c.compressible(h.Get("Content-Type")) {
			compressAddVary(h, "Accept-Encoding")
		} else {
			compress = false
		}
	}
	if !compress {
		if final && len(data) > 0 && h.Get("Content-Length") == "" {
			h.Set("Content-Length", strconv.Itoa(len(data)))
		}
		cw.sendHeader(compressIdentity)
		_, err := cw.w.Write(data)
		cw.releaseBuf()
		return err
	}
	h.Del("Content-Length")
	h.Del("Accept-Ranges")
	h.Set("Content-Encoding", "gzip")
	if etag := h.Get("Etag"); strings.HasPrefix(etag, `"`) {
		h.Set("Etag", "W/"+etag)
	}
	cw.sendHeader(compressGzip)
	gz, ok := cw.c.gzipPool.Get().(*compressGzipWriter)
	if ok {
		gz.gz.Reset(&gz.out)
	} else {
		gz = new(compressGzipWriter)
		gz.gz, _ = gzip.NewWriterLevel(&gz.out, cw.c.level) // the level was validated
	}
	gz.out.w = cw.w
	cw.gz = gz
	var err error
	if len(data) > 0 {
		_, err = gz.gz.Write(data)
	}
	cw.releaseBuf()
	return err
}

// notModified gives a 304 the Vary and ETag that the 200 it stands for
// would have carried (RFC 9110, section 15.4.5). Whether that 200 was
// compressed depends on its body, which a 304 does not have, and on its
// type, which http.ServeContent drops from a 304. The request tells
// instead: a client that holds the weakened form of the handler's strong
// ETag got the compressed 200 (the body was compressible and at least
// MinSize), and one that holds the strong form got it as it is.
func (cw *compressWriter) notModified(h http.Header) {
	if !compressEligible(h) {
		return
	}
	etag := h.Get("Etag")
	gotGzip := strings.HasPrefix(etag, `"`) &&
		compressListsETag(cw.reqHeader.Values("If-None-Match"), "W/"+etag)
	if ct, ok := h["Content-Type"]; ok {
		if len(ct) == 0 || !cw.c.compressible(ct[0]) {
			return
		}
	} else if !gotGzip {
		return // the type is unknown: leave Vary as the handler set it
	}
	compressAddVary(h, "Accept-Encoding")
	if gotGzip && cw.canCompress {
		h.Set("Etag", "W/"+etag)
	}
}

// compressListsETag reports whether If-None-Match field values list etag
// itself (W/"x" matches W/"x" only). Malformed elements end the scan.
func compressListsETag(values []string, etag string) bool {
	for _, v := range values {
		for {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			n := 0
			if strings.HasPrefix(v, "W/") {
				n = 2
			}
			if len(v) <= n || v[n] != '"' {
				break
			}
			end := strings.IndexByte(v[n+1:], '"')
			if end < 0 {
				break
			}
			tag := v[:n+1+end+1]
			if tag == etag {
				return true
			}
			v = v[len(tag):]
		}
	}
	return false
}

// sendHeader writes the status to the underlying writer and moves to state.
func (cw *compressWriter) sendHeader(state compressState) {
	cw.state = state
	cw.w.WriteHeader(cw.status)
}

// finish ends the response after the handler returned.
func (cw *compressWriter) finish() {
	switch cw.state {
	case compressIdle:
		// Nothing written: net/http sends the header after we return.
		// It still varies when it describes a compressible body (HEAD).
		h := cw.w.Header()
		if ct := h.Values("Content-Type"); len(ct) > 0 && cw.c.compressible(ct[0]) && compressEligible(h) {
			compressAddVary(h, "Accept-Encoding")
		}
	case compressPending:
		_ = cw.commit(true, nil) // the client is gone if this fails
	case compressGzip:
		_ = cw.gz.gz.Close()
	}
	cw.release()
}

// release returns the pooled gzip writer and buffer, writing nothing.
func (cw *compressWriter) release() {
	cw.state = compressDone
	if cw.gz != nil {
		cw.gz.out.w = nil // drop the reference to the ResponseWriter
		cw.c.gzipPool.Put(cw.gz)
		cw.gz = nil
	}
	cw.releaseBuf()
}

func (cw *compressWriter) releaseBuf() {
	if cw.buf != nil {
		*cw.buf = (*cw.buf)[:0]
		cw.c.bufPool.Put(cw.buf)
		cw.buf = nil
	}
}
