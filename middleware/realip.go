package middleware

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// RealIPConfig configures [RealIP], which reads it once: changing it
// afterwards has no effect.
type RealIPConfig struct {
	// TrustedProxies lists the networks of the proxies in front of the
	// server, for example netip.MustParsePrefix("10.0.0.0/8"), or
	// "127.0.0.1/32" for a proxy on the same host. It is required: there
	// is no default trust, and RealIP panics when it is empty. A request
	// whose direct peer is not in one of these networks is left alone, so
	// a client that reaches the server directly cannot choose its address.
	// IPv4-mapped IPv6 prefixes (::ffff:10.0.0.0/104) count as their IPv4
	// form.
	TrustedProxies []netip.Prefix

	// Header names the header the proxies write: "X-Forwarded-For" (the
	// default), "Forwarded" (RFC 7239, its for= parameter) or "X-Real-IP"
	// (one address, which the proxy must overwrite, not append to). Name
	// the one your proxies really set: a header they pass through
	// untouched is written by the client.
	Header string
}

// realIPKey is the context key under which RealIP stores the client address.
type realIPKey struct{}

// realIPContext is the context RealIP hands on: its parent and the client's
// address, which [ClientIP] reads. It is one allocation, where
// context.WithValue would take two (the context and the boxed address).
type realIPContext struct {
	context.Context
	addr netip.Addr
}

// Value returns c itself for realIPKey, which ClientIP unpacks, and asks
// the parent for any other key.
func (c *realIPContext) Value(key any) any {
	if _, ok := key.(realIPKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// String describes the context as context.WithValue's do, for debugging.
func (c *realIPContext) String() string {
	return fmt.Sprintf("%v.WithValue(middleware.realIPKey, %v)", c.Context, c.addr)
}

// realIPHeader says how a header lists addresses.
type realIPHeader int

const (
	realIPXForwardedFor realIPHeader = iota
	realIPForwarded
	realIPXRealIP
)

// RealIP returns middleware that finds the client's address behind trusted
// reverse proxies. When the direct peer (r.RemoteAddr) is in
// cfg.TrustedProxies, it walks the addresses in cfg.Header from the right
// (the proxies append, so the right-most entries are the most trusted),
// skips those that are trusted proxies too, and takes the first that is
// not: that is the client, as reported by the last proxy that can be
// believed. A client's own X-Forwarded-For entries sit further left and are
// never reached unless every hop to their right is trusted.
//
// If every entry is a trusted proxy, the left-most one is the client (the
// request came from inside the trusted network). An entry that is not an
// address ("unknown", an obfuscated Forwarded node, garbage) ends the walk:
// the client is then the last valid address read, the trusted hop that
// wrote the bad entry, or the peer itself if the first entry read is bad.
// Addresses are unmapped (::ffff:192.0.2.1 becomes 192.0.2.1) and lose
// any IPv6 zone.
//
// The next handler gets a shallow copy of the request whose RemoteAddr is
// the client's address in net/http's "host:port" form, with the port the
// proxy reported or 0 ("192.0.2.1:0", "[2001:db8::1]:0"), and whose
// context holds the address for [ClientIP]. The header itself is left
// as it was. A request from an untrusted peer, or without the header, is
// passed on unchanged.
//
// RealIP panics if cfg.TrustedProxies is empty or holds an invalid prefix,
// or if cfg.Header is not one of the three names it accepts. The
// middleware is safe for concurrent use; it returns no errors.
func RealIP(cfg RealIPConfig) Middleware {
	if len(cfg.TrustedProxies) == 0 {
		panic(`middleware: RealIP: TrustedProxies is empty: list your proxies' networks, e.g. netip.MustParsePrefix("127.0.0.1/32"); with no trusted proxy RealIP would never change a request`)
	}
	trusted := make([]netip.Prefix, len(cfg.TrustedProxies))
	for i, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			panic(fmt.Sprintf("middleware: RealIP: TrustedProxies[%d] %v: invalid prefix", i, p))
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		trusted[i] = p.Masked()
	}
	kind := realIPXForwardedFor
	header := http.CanonicalHeaderKey(cfg.Header)
	switch header {
	case "", "X-Forwarded-For":
		header = "X-Forwarded-For"
	case "Forwarded":
		kind = realIPForwarded
	case "X-Real-Ip":
		kind = realIPXRealIP
	default:
		panic(fmt.Sprintf(`middleware: RealIP: Header %q: want "X-Forwarded-For", "Forwarded" or "X-Real-IP"`, cfg.Header))
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer := realIPParseRemoteAddr(r.RemoteAddr)
			values := r.Header[header] // header is canonical: no need for Values to make it so
			if !peer.IsValid() || len(values) == 0 || !isTrusted(peer) {
				next.ServeHTTP(w, r)
				return
			}
			client, ok := realIPClient(kind, values, isTrusted)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			r2 := r.WithContext(&realIPContext{Context: r.Context(), addr: client.Addr()})
			r2.RemoteAddr = client.String()
			next.ServeHTTP(w, r2)
		})
	}
}

// ClientIP returns the client's address: the one [RealIP] found, or else
// the host part of r.RemoteAddr, unmapped. It returns the zero
// netip.Addr (IsValid reports false) when r.RemoteAddr is not an IP
// address, as on a Unix socket. It is safe for concurrent use.
func ClientIP(r *http.Request) netip.Addr {
	if c, ok := r.Context().Value(realIPKey{}).(*realIPContext); ok {
		return c.addr
	}
	return realIPParseRemoteAddr(r.RemoteAddr)
}

// realIPParseRemoteAddr parses "host:port" or a bare address.
func realIPParseRemoteAddr(s string) netip.Addr {
	if realIPMayHavePort(s) {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone("")
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// realIPClient walks the header values from the right and returns the
// client's address and port, or false when the first entry read is not an
// address (or there is none), so the peer stays the client.
func realIPClient(kind realIPHeader, values []string, trusted func(netip.Addr) bool) (netip.AddrPort, bool) {
	if kind == realIPXRealIP {
		if len(values) != 1 {
			return netip.AddrPort{}, false
		}
		return realIPParseNode(strings.TrimSpace(values[0]))
	}
	var client netip.AddrPort
	found := false
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			var elem string
			if kind == realIPForwarded {
				v, elem = realIPLastForwardedElement(v)
			} else {
				v, elem = realIPLastElement(v)
			}
			elem = strings.TrimSpace(elem)
			if elem == "" {
				// An empty list element ("a, , b") is allowed by
				// RFC 9110 and means nothing.
				continue
			}
			if kind == realIPForwarded {
				elem = realIPForwardedFor(elem)
			}
			ap, ok := realIPParseNode(elem)
			if !ok {
				return client, found
			}
			client, found = ap, true
			if !trusted(ap.Addr()) {
				return client, true
			}
		}
	}
	return client, found
}

// realIPLastElement splits a comma-separated list at its last comma.
func realIPLastElement(v string) (rest, last string) {
	i := strings.LastIndexByte(v, ',')
	if i < 0 {
		return "", v
	}
	return v[:i], v[i+1:]
}

// realIPLastForwardedElement splits a Forwarded header value at its last
// comma outside a quoted string. An unterminated quote makes the whole
// value one element, which then fails to parse.
func realIPLastForwardedElement(v string) (rest, last string) {
	cut := -1
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			cut = i
		}
	}
	if quoted || cut < 0 {
		return "", v
	}
	return v[:cut], v[cut+1:]
}

// realIPForwardedFor returns the value of the for= parameter of one
// Forwarded element ("for=192.0.2.1;proto=https"), unquoted, or "" (which
// does not parse) when there is none, it appears twice, or the element is
// malformed.
func realIPForwardedFor(elem string) string {
	var value string
	seen := false
	for elem != "" {
		elem = strings.TrimLeft(elem, " \t")
		eq := strings.IndexByte(elem, '=')
		if eq <= 0 {
			return ""
		}
		name := strings.TrimSpace(elem[:eq])
		elem = strings.TrimLeft(elem[eq+1:], " \t")
		var val string
		if strings.HasPrefix(elem, `"`) {
			var ok bool
			val, elem, ok = realIPUnquote(elem)
			if !ok {
				return ""
			}
			elem = strings.TrimLeft(elem, " \t")
			if elem != "" && elem[0] != ';' {
				return ""
			}
		} else {
			end := strings.IndexByte(elem, ';')
			if end < 0 {
				end = len(elem)
			}
			val = strings.TrimRight(elem[:end], " \t")
			elem = elem[end:]
			// An unquoted value is a token: a quote, comma or blank in it
			// means the element was cut wrongly, as when a client's stray
			// quote swallows the element its proxy appended.
			if strings.ContainsAny(val, "\", \t") {
				return ""
			}
		}
		elem = strings.TrimPrefix(elem, ";")
		if strings.EqualFold(name, "for") {
			if seen {
				return ""
			}
			value, seen = val, true
		}
	}
	return value
}

// realIPUnquote splits the quoted string at the start of s (which starts
// with '"') from what follows, and returns its content with backslash
// escapes undone; false if it is not terminated. The content is a
// substring of s, not a copy, unless it holds escapes.
func realIPUnquote(s string) (val, rest string, ok bool) {
	escaped := false
	end := 1
	for ; end < len(s) && s[end] != '"'; end++ {
		if s[end] == '\\' && end+1 < len(s) {
			end++
			escaped = true
		}
	}
	if end >= len(s) {
		return "", "", false
	}
	val, rest = s[1:end], s[end+1:]
	if !escaped {
		return val, rest, true
	}
	var b strings.Builder
	b.Grow(len(val))
	for i := 0; i < len(val); i++ {
		if val[i] == '\\' {
			i++ // the scan above made sure an escaped byte follows
		}
		b.WriteByte(val[i])
	}
	return b.String(), rest, true
}

// realIPParseNode parses one address as proxies write them: "192.0.2.1",
// "192.0.2.1:8080", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:8080".
func realIPParseNode(s string) (netip.AddrPort, bool) {
	if s == "" {
		return netip.AddrPort{}, false
	}
	if realIPMayHavePort(s) {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
		}
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
		if !strings.Contains(s, ":") {
			return netip.AddrPort{}, false // "[192.0.2.1]" is not a form anyone writes
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap().WithZone(""), 0), true
}

// realIPMayHavePort reports whether netip.ParseAddrPort could accept s:
// its last colon follows "]" in a bracketed address, or is its only colon.
// Checking first spares the usual port-less entries ParseAddrPort's
// failure, which allocates an error.
func realIPMayHavePort(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return false
	}
	if s[0] == '[' {
		return s[i-1] == ']'
	}
	return strings.IndexByte(s, ':') == i
}
