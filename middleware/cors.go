package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORSConfig configures [CORS], which reads it once: changing it
// afterwards has no effect. At least one of AllowedOrigins and
// AllowOriginFunc must be set.
type CORSConfig struct {
	// AllowedOrigins lists the origins allowed to read responses:
	// exact origins ("https://app.example.com", "http://localhost:3000"),
	// one-level wildcards ("https://*.example.com" matches
	// https://a.example.com but neither https://example.com nor
	// https://a.b.example.com), "null" (sandboxed documents and file:
	// pages, allowed only when listed) or "*" alone (any origin but
	// "null"). Entries are scheme://host[:port] without a path, matched
	// without regard to case; a default port (:80 for http, :443 for
	// https) may be written or left out.
	AllowedOrigins []string

	// AllowOriginFunc, if set, is asked about origins AllowedOrigins does
	// not allow. It gets the Origin header as the browser sent it, once it
	// has been checked to be "null" or scheme://host[:port]. It must be
	// safe for concurrent use.
	AllowOriginFunc func(origin string) bool

	// AllowedMethods lists the methods cross-origin requests may use,
	// written in upper case (lower case is upper-cased) and matched
	// exactly; "*" allows any. Nil means GET, HEAD and POST.
	AllowedMethods []string

	// AllowedHeaders lists the request headers cross-origin requests may
	// send, matched without regard to case; "*" allows any (preflights then
	// echo the headers asked for, which also works with credentials).
	// Nil means Accept, Accept-Language, Content-Language, Content-Type and
	// X-Requested-With.
	AllowedHeaders []string

	// ExposedHeaders lists the response headers, beyond the CORS-safelisted
	// ones, that scripts may read.
	ExposedHeaders []string

	// AllowCredentials lets requests carry cookies and HTTP
	// authentication and their responses be read. It cannot be combined
	// with AllowedOrigins "*" or ExposedHeaders "*".
	AllowCredentials bool

	// MaxAge is how long browsers may cache a preflight's answer, in whole
	// seconds (browsers cap it: Chrome at 2 hours, Firefox at 24). Zero
	// sends no Access-Control-Max-Age, so browsers use their default of 5
	// seconds; a negative value sends 0, which disables the caching.
	MaxAge time.Duration

	// AllowPrivateNetwork answers Private Network Access preflights
	// (Access-Control-Request-Private-Network: true), which Chrome sends
	// before a public site may reach a private address. Off, such
	// preflights are refused.
	AllowPrivateNetwork bool
}

// corsPolicy is one CORS middleware's validated configuration, with the
// header values it sends built in advance.
//
// The []string values here and in the corsValue variables are assigned
// straight into response headers, as rs/cors does, so that answering
// allocates nothing; every request shares them. They have len == cap, so
// that http.Header.Add (and compressAddVary, which calls it) copies
// before appending, and nothing in this package writes into one.
type corsPolicy struct {
	anyOrigin      bool
	origins        map[string][]string // normalised "scheme://host[:port]", and "null": the value echoing it
	wildcards      []corsWildcard
	originFunc     func(string) bool
	anyMethod      bool
	methods        map[string][]string // the value of Access-Control-Allow-Methods for each
	anyHeader      bool
	headers        map[string]bool // lower case
	exposed        []string        // nil sends none
	credentials    bool
	maxAge         []string // nil sends none
	privateNetwork bool
	preflightVary  []string // the Vary of a preflight response
}

// Header values every CORS middleware shares; see corsPolicy.
var (
	corsValueAny   = []string{"*"}
	corsValueTrue  = []string{"true"}
	corsVaryOrigin = []string{"Origin"}
)

// corsWildcard is an origin pattern "scheme://*.suffix[:port]".
type corsWildcard struct {
	scheme string
	suffix string // ".example.com"
	port   string // ":8443" or ""
}

// CORS returns middleware that implements Cross-Origin Resource Sharing
// (the Fetch standard) for the origins cfg allows.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered here and never reaches the next handler: 204 with
// Access-Control-Allow-Origin, -Allow-Methods (the method asked for),
// -Allow-Headers (the headers asked for), -Allow-Credentials, -Max-Age
// and -Allow-Private-Network as configured; or, when the origin, the
// method, a header or private network access is not allowed, 403 without
// any CORS header, so the browser fails the request and the refusal shows
// in access logs. Header names are compared without regard to case.
//
// Other requests go to the next handler. When they carry an allowed
// Origin and use an allowed method, the response gets
// Access-Control-Allow-Origin (the origin, or "*" when AllowedOrigins is
// "*"), Access-Control-Allow-Credentials and Access-Control-Expose-Headers
// as configured; otherwise it gets no CORS header and the browser keeps it
// from the script. Unless AllowedOrigins is "*", every response, even to
// a request without Origin, gets "Vary: Origin", so a shared cache never
// hands one origin's answer to another.
//
// CORS panics, naming the field, if no origin can be allowed, an origin,
// method or header is malformed, "*" shares AllowedOrigins with other
// entries, or AllowCredentials is combined with a "*" that the Fetch
// standard does not honour with credentials (AllowedOrigins,
// ExposedHeaders). Echoing any origin instead, as some libraries do,
// would let every site read credentialed responses; list the origins or
// decide with AllowOriginFunc. The middleware is safe for concurrent use
// if AllowOriginFunc is; it returns no errors.
func CORS(cfg CORSConfig) Middleware {
	p := corsCompile(cfg)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The request header is read by its canonical keys, without
			// Header.Get, which would check and canonicalize each key again.
			origins := r.Header["Origin"]
			if r.Method == http.MethodOptions && len(origins) > 0 && corsFirst(r.Header, "Access-Control-Request-Method") != "" {
				p.preflight(w, r, origins)
				return
			}
			h := w.Header()
			if !p.anyOrigin {
				corsAddVary(h, corsVaryOrigin)
			}
			if allowed, ok := p.allowOrigins(origins); ok && p.allowMethod(r.Method) {
				p.setOrigin(h, allowed)
				if p.exposed != nil {
					h["Access-Control-Expose-Headers"] = p.exposed
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// corsCompile validates cfg, panicking on the first problem.
func corsCompile(cfg CORSConfig) *corsPolicy {
	p := &corsPolicy{
		origins:        make(map[string][]string),
		originFunc:     cfg.AllowOriginFunc,
		credentials:    cfg.AllowCredentials,
		privateNetwork: cfg.AllowPrivateNetwork,
	}
	if len(cfg.AllowedOrigins) == 0 && cfg.AllowOriginFunc == nil {
		panic(`middleware: CORS: AllowedOrigins is empty and AllowOriginFunc is nil: no origin would be allowed; list origins, or "*" for any`)
	}
	for i, o := range cfg.AllowedOrigins {
		fail := func(why string) {
			panic(fmt.Sprintf("middleware: CORS: AllowedOrigins[%d] %q: %s", i, o, why))
		}
		switch {
		case o == "*":
			if len(cfg.AllowedOrigins) > 1 {
				fail(`"*" allows every origin: it must be the only entry`)
			}
			if cfg.AllowCredentials {
				fail(`"*" cannot be combined with AllowCredentials (the Fetch standard ignores it for credentialed requests): list the origins or use AllowOriginFunc`)
			}
			p.anyOrigin = true
		case strings.EqualFold(o, "null"):
			p.origins["null"] = []string{"null"}
		default:
			scheme, host, port, err := corsParseOrigin(strings.ToLower(o), true)
			if err != nil {
				fail(err.Error())
			}
			if suffix, ok := strings.CutPrefix(host, "*"); ok {
				p.wildcards = append(p.wildcards, corsWildcard{scheme: scheme, suffix: suffix, port: port})
			} else {
				o := scheme + "://" + host + port
				p.origins[o] = []string{o}
			}
		}
	}

	methods := cfg.AllowedMethods
	if methods == nil {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	p.methods = make(map[string][]string, len(methods))
	for i, m := range methods {
		switch {
		case m == "*":
			p.anyMethod = true
		case compressIsToken(m):
			m = strings.ToUpper(m)
			p.methods[m] = []string{m}
		default:
			panic(fmt.Sprintf("middleware: CORS: AllowedMethods[%d] %q: not a method name", i, m))
		}
	}

	headers := cfg.AllowedHeaders
	if headers == nil {
		headers = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type", "X-Requested-With"}
	}
	p.headers = make(map[string]bool, len(headers))
	for i, name := range headers {
		switch {
		case name == "*":
			p.anyHeader = true
		case compressIsToken(name):
			p.headers[strings.ToLower(name)] = true
		default:
			panic(fmt.Sprintf("middleware: CORS: AllowedHeaders[%d] %q: not a header name", i, name))
		}
	}

	for i, name := range cfg.ExposedHeaders {
		switch {
		case name == "*" && cfg.AllowCredentials:
			panic(fmt.Sprintf(`middleware: CORS: ExposedHeaders[%d] "*" cannot be combined with AllowCredentials (the Fetch standard reads it as a header named "*"): list the headers`, i))
		case name != "*" && !compressIsToken(name):
			panic(fmt.Sprintf("middleware: CORS: ExposedHeaders[%d] %q: not a header name", i, name))
		}
	}
	if exposed := strings.Join(cfg.ExposedHeaders, ", "); exposed != "" {
		p.exposed = []string{exposed}
	}

	switch {
	case cfg.MaxAge < 0:
		p.maxAge = []string{"0"}
	case cfg.MaxAge > 0:
		p.maxAge = []string{strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)}
	}

	if !p.anyOrigin {
		p.preflightVary = append(p.preflightVary, "Origin")
	}
	p.preflightVary = append(p.preflightVary, "Access-Control-Request-Method", "Access-Control-Request-Headers")
	if p.privateNetwork {
		p.preflightVary = append(p.preflightVary, "Access-Control-Request-Private-Network")
	}
	p.preflightVary = slices.Clip(p.preflightVary)
	return p
}

// corsParseOrigin splits a lower-case serialized origin
// "scheme://host[:port]" and drops a default port. With wildcard, the host
// may start with "*." followed by at least one more label.
func corsParseOrigin(s string, wildcard bool) (scheme, host, port string, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !corsIsScheme(scheme) {
		return "", "", "", errors.New("want scheme://host[:port]")
	}
	if strings.ContainsAny(rest, "/?#@\\") {
		return "", "", "", errors.New("an origin has no path, query, fragment or user: want scheme://host[:port]")
	}
	host = rest
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", "", errors.New("unterminated IPv6 address")
		}
		a, err := netip.ParseAddr(rest[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", "", errors.New("bad IPv6 address")
		}
		host, port = rest[:end+1], rest[end+1:]
	} else if i := strings.IndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i:]
	}
	if port != "" {
		n, err := strconv.ParseUint(port[1:], 10, 16)
		if err != nil || n == 0 || port[1] == '0' {
			return "", "", "", errors.New("bad port")
		}
		if scheme == "http" && n == 80 || scheme == "https" && n == 443 {
			port = ""
		}
	}
	if host == "" {
		return "", "", "", errors.New("no host: want scheme://host[:port]")
	}
	if host[0] != '[' {
		name := host
		if wildcard {
			if n, ok := strings.CutPrefix(host, "*."); ok {
				if !strings.Contains(n, ".") && n != "localhost" {
					return "", "", "", errors.New(`a wildcard needs a domain with at least two labels after "*."`)
				}
				name = n
			}
		}
		if !corsIsHostname(name) {
			return "", "", "", errors.New(`bad host name (only "*." at the start may be a wildcard)`)
		}
	}
	return scheme, host, port, nil
}

// corsIsScheme reports whether s is a URL scheme.
func corsIsScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// corsIsHostname reports whether s is a lower-case host name or IPv4
// address: dot-separated non-empty labels of letters, digits, '-' and '_'.
func corsIsHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// allowOrigins reports whether the Origin header's values are one allowed
// origin, and returns the Access-Control-Allow-Origin value for it: "*"
// for AllowedOrigins "*"; else the pre-built value when the origin is
// written exactly as listed, or the request's own (not copied).
func (p *corsPolicy) allowOrigins(origins []string) ([]string, bool) {
	if len(origins) != 1 {
		return nil, false
	}
	if v, ok := p.origins[origins[0]]; ok {
		return v, true
	}
	if !p.allowOrigin(origins[0]) {
		return nil, false
	}
	if p.anyOrigin {
		return corsValueAny, true
	}
	return origins[:1:1], true
}

// allowOrigin reports whether an Origin header value is allowed.
func (p *corsPolicy) allowOrigin(origin string) bool {
	if origin == "null" {
		return p.origins["null"] != nil || p.originFunc != nil && p.originFunc(origin)
	}
	// An origin written as listed needs no parsing: every key of
	// p.origins parses to itself.
	if p.origins[origin] != nil {
		return true
	}
	scheme, host, port, err := corsParseOrigin(strings.ToLower(origin), false)
	if err != nil {
		return false
	}
	if p.anyOrigin || p.origins[scheme+"://"+host+port] != nil {
		return true
	}
	for _, w := range p.wildcards {
		if scheme == w.scheme && port == w.port && len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) &&
			!strings.Contains(host[:len(host)-len(w.suffix)], ".") {
			return true
		}
	}
	return p.originFunc != nil && p.originFunc(origin)
}

func (p *corsPolicy) allowMethod(m string) bool { return p.anyMethod || p.methods[m] != nil }

// setOrigin sets Access-Control-Allow-Origin to the value allowOrigins
// returned, and -Allow-Credentials.
func (p *corsPolicy) setOrigin(h http.Header, allowed []string) {
	h["Access-Control-Allow-Origin"] = allowed
	if p.credentials {
		h["Access-Control-Allow-Credentials"] = corsValueTrue
	}
}

// corsAddVary adds the tokens of a pre-built Vary value, as compressAddVary
// would one by one: when the response has no Vary yet, by assigning value
// itself.
func corsAddVary(h http.Header, value []string) {
	if len(h["Vary"]) == 0 {
		h["Vary"] = value
		return
	}
	for _, token := range value {
		compressAddVary(h, token)
	}
}

// preflight answers a preflight request.
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request, origins []string) {
	h := w.Header()
	corsAddVary(h, p.preflightVary)
	method := corsFirst(r.Header, "Access-Control-Request-Method")
	privateNetwork := corsFirst(r.Header, "Access-Control-Request-Private-Network") == "true"
	requestedHeaders := r.Header["Access-Control-Request-Headers"]
	var names [8]string // enough for most preflights, without allocating
	requested, ok := corsRequestHeaders(names[:0], requestedHeaders)
	var allowed []string
	if ok {
		allowed, ok = p.allowOrigins(origins)
	}
	if !ok || !compressIsToken(method) || !p.allowMethod(method) || privateNetwork && !p.privateNetwork {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if !p.anyHeader {
		for _, name := range requested {
			if !p.headers[name] {
				w.WriteHeader(http.StatusForbidden)
				return
			}
		}
	}
	p.setOrigin(h, allowed)
	if v := p.methods[method]; v != nil {
		h["Access-Control-Allow-Methods"] = v
	} else {
		h["Access-Control-Allow-Methods"] = r.Header["Access-Control-Request-Method"][:1:1] // method is its first value
	}
	if len(requested) > 0 {
		if len(requestedHeaders) == 1 && corsIsJoined(requestedHeaders[0], requested) {
			h["Access-Control-Allow-Headers"] = requestedHeaders[:1:1]
		} else {
			h["Access-Control-Allow-Headers"] = []string{strings.Join(requested, ", ")}
		}
	}
	if p.maxAge != nil {
		h["Access-Control-Max-Age"] = p.maxAge
	}
	if privateNetwork {
		h["Access-Control-Allow-Private-Network"] = corsValueTrue
	}
	w.WriteHeader(http.StatusNoContent)
}

// corsFirst returns the first value of h[key], as h.Get(key) does when key
// is canonical, as it must be.
func corsFirst(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// corsIsJoined reports whether s is names joined by ", ", as the preflight
// answer lists them, so that the request's value can be sent back as it is.
func corsIsJoined(s string, names []string) bool {
	for i, name := range names {
		if i > 0 {
			var ok bool
			if s, ok = strings.CutPrefix(s, ", "); !ok {
				return false
			}
		}
		var ok bool
		if s, ok = strings.CutPrefix(s, name); !ok {
			return false
		}
	}
	return s == ""
}

// corsRequestHeaders appends the names in Access-Control-Request-Headers to
// names, lower-cased, skipping empty elements; false if a name is not a
// token.
func corsRequestHeaders(names, values []string) ([]string, bool) {
	for _, v := range values {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			name = strings.Trim(name, " \t")
			if name == "" {
				continue
			}
			if !compressIsToken(name) {
				return nil, false
			}
			names = append(names, strings.ToLower(name))
		}
	}
	return names, true
}
