package bind

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Schemes of a [Bind]; "tls" is parsed as an alias of "ssl".
const (
	schemeTCP     = "tcp"
	schemeSSL     = "ssl"
	schemeUnix    = "unix"
	schemeFD      = "fd"
	schemeSystemd = "systemd"
)

var (
	// ErrAddrInUse reports that a bind's address is taken: the operating
	// system refused the listen (the error then also wraps the OS error,
	// such as syscall.EADDRINUSE), or a live server answers on a unix
	// socket path. [Bind.Listen] and [ListenAll] return it.
	ErrAddrInUse = errors.New("bind: address in use")

	// ErrNotInherited reports that a bind names an inherited socket that
	// the process does not have: fd://N where descriptor N is not open,
	// or systemd://NAME where no socket of that name was passed.
	// [Bind.Listen] and [ListenAll] return it.
	ErrNotInherited = errors.New("bind: socket not inherited")
)

// ParseError reports a bind URL that [Parse] rejects, or a hand-built
// [Bind] that [Bind.Listen], [ListenAll] or [FromFile] rejects.
// Its methods are safe for concurrent use.
type ParseError struct {
	// URL is the bind URL as given to Parse (or the Bind's String).
	URL string
	// Reason says what is wrong, such as "missing port".
	Reason string
	// Err is the underlying error, such as strconv.ErrSyntax, or nil.
	Err error
}

// Error returns `bind "URL": REASON` followed by ": ERR" if Err is set.
func (e *ParseError) Error() string {
	s := "bind " + strconv.Quote(e.URL) + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *ParseError) Unwrap() error { return e.Err }

// Bind is a parsed bind URL: where and how a server listens.
// See the package documentation for the URL forms.
//
// A Bind is a plain value; its methods are safe for concurrent use.
// Fields that do not apply to the Scheme must be zero.
type Bind struct {
	// Scheme is "tcp", "ssl", "unix", "fd" or "systemd".
	Scheme string
	// Addr is "host:port" for tcp and ssl, the socket path for unix
	// ("@name" is a Linux abstract socket), the descriptor number for fd,
	// and the socket name for systemd.
	Addr string
	// Backlog, if positive, sets the listen queue length (tcp, ssl, unix).
	// Zero keeps Go's default, the kernel's maximum (somaxconn).
	Backlog int
	// ReusePort sets SO_REUSEPORT before binding (tcp, ssl), so that
	// several sockets can listen on one port and the kernel spreads
	// connections among them.
	ReusePort bool
	// Mode, if not zero, is the permission bits the unix socket file gets
	// (chmod after listening).
	Mode fs.FileMode
	// Cert and Key are the paths of the PEM certificate chain and private
	// key. Required for ssl; optional for fd and systemd, where they
	// serve TLS on the inherited socket.
	Cert, Key string
}

// Parse parses a bind URL such as "tcp://0.0.0.0:8080" or
// "unix:///run/app.sock?mode=0660". It does no I/O: certificate files
// are read by [Bind.Listen], not here. It is safe for concurrent use.
//
// Parse returns a *[ParseError] naming the problem, such as
// `bind "tcp://x": missing port`.
func Parse(rawURL string) (Bind, error) {
	fail := func(reason string, err error) (Bind, error) {
		return Bind{}, &ParseError{URL: rawURL, Reason: reason, Err: err}
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return fail("missing scheme (want tcp://, ssl://, unix://, fd:// or systemd://)", nil)
	}
	b := Bind{Scheme: strings.ToLower(scheme)}
	if b.Scheme == "tls" {
		b.Scheme = schemeSSL
	}
	addr, query, _ := strings.Cut(rest, "?")

	switch b.Scheme {
	case schemeTCP, schemeSSL:
		hostPort, reason := canonicalHostPort(addr)
		if reason != "" {
			return fail(reason, nil)
		}
		b.Addr = hostPort
	case schemeFD:
		n, err := strconv.ParseUint(addr, 10, 31)
		if err != nil {
			return fail(fmt.Sprintf("bad descriptor number %q", addr), numErr(err))
		}
		b.Addr = strconv.FormatUint(n, 10)
	case schemeUnix, schemeSystemd:
		b.Addr = addr
	default:
		return fail(fmt.Sprintf("unknown scheme %q (want tcp, ssl, tls, unix, fd or systemd)", scheme), nil)
	}

	values, err := url.ParseQuery(query)
	if err != nil {
		return fail("bad query", err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(knownOptions, k) {
			return fail(fmt.Sprintf("unknown option %q", k), nil)
		}
		if !slices.Contains(schemeOptions[b.Scheme], k) {
			return fail(fmt.Sprintf("option %q does not apply to %s://", k, b.Scheme), nil)
		}
		if len(values[k]) > 1 {
			return fail(fmt.Sprintf("option %q given twice", k), nil)
		}
		v := values[k][0]
		switch k {
		case "backlog":
			n, err := strconv.ParseUint(v, 10, 31)
			if err != nil || n == 0 {
				return fail(fmt.Sprintf("bad backlog %q (want a positive integer)", v), numErr(err))
			}
			b.Backlog = int(n)
		case "reuseport":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return fail(fmt.Sprintf("bad reuseport %q (want true or false)", v), numErr(err))
			}
			b.ReusePort = on
		case "mode":
			if values.Has("umask") {
				return fail("both mode and umask given", nil)
			}
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m == 0 || m > 0o777 {
				return fail(fmt.Sprintf("bad mode %q (want octal 0001 to 0777)", v), numErr(err))
			}
			b.Mode = fs.FileMode(m)
		case "umask":
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m >= 0o777 {
				return fail(fmt.Sprintf("bad umask %q (want octal 0000 to 0776)", v), numErr(err))
			}
			b.Mode = 0o777 &^ fs.FileMode(m)
		case "cert", "key":
			if v == "" {
				return fail("empty "+k, nil)
			}
			if k == "cert" {
				b.Cert = v
			} else {
				b.Key = v
			}
		}
	}
	if reason := b.check(); reason != "" {
		return fail(reason, nil)
	}
	return b, nil
}

// knownOptions lists every query option Parse knows.
var knownOptions = []string{"backlog", "reuseport", "mode", "umask", "cert", "key"}

// schemeOptions lists the query options each scheme takes.
var schemeOptions = map[string][]string{
	schemeTCP:     {"backlog", "reuseport"},
	schemeSSL:     {"backlog", "reuseport", "cert", "key"},
	schemeUnix:    {"backlog", "mode", "umask"},
	schemeFD:      {"cert", "key"},
	schemeSystemd: {"cert", "key"},
}

// numErr returns the reason inside a strconv error, or nil.
func numErr(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// canonicalHostPort checks "host:port" and returns it with the IP and
// port in canonical form, or a reason why it is wrong.
func canonicalHostPort(s string) (hostPort, reason string) {
	if s == "" {
		return "", "missing host and port"
	}
	var host, port string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "missing ] after IPv6 address"
		}
		host, port = s[1:end], s[end+1:]
		if port == "" {
			return "", "missing port"
		}
		if port[0] != ':' {
			return "", fmt.Sprintf("unexpected %q after IPv6 address", port)
		}
		port = port[1:]
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return "", fmt.Sprintf("bad IPv6 address %q", host)
		}
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return "", "missing port"
		}
		host, port = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return "", "IPv6 address must be in brackets, as in tcp://[::1]:8080"
		}
	}
	if port == "" {
		return "", "missing port"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", fmt.Sprintf("bad port %q", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.String()
	} else if !validHostname(host) {
		return "", fmt.Sprintf("bad host %q", host)
	}
	return net.JoinHostPort(host, strconv.FormatUint(p, 10)), ""
}

// validHostname reports whether s is made of the bytes a DNS name may
// hold. The empty host means all interfaces.
func validHostname(s string) bool {
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// check returns why b is not a valid Bind, or "" if it is. Parse has
// already put Addr in canonical form; check also guards hand-built
// values.
func (b Bind) check() string {
	switch b.Scheme {
	case schemeTCP, schemeSSL:
		if _, reason := canonicalHostPort(b.Addr); reason != "" {
			return reason
		}
	case schemeUnix:
		switch {
		case b.Addr == "":
			return "missing path"
		case strings.ContainsAny(b.Addr, "?\x00"):
			return "path must not hold ? or NUL"
		case b.Mode != 0 && strings.HasPrefix(b.Addr, "@"):
			return "abstract socket has no file to chmod"
		}
	case schemeFD:
		if _, err := strconv.ParseUint(b.Addr, 10, 31); err != nil {
			return fmt.Sprintf("bad descriptor number %q", b.Addr)
		}
	case schemeSystemd:
		if b.Addr == "" {
			return "missing socket name (as in LISTEN_FDNAMES)"
		}
		if strings.ContainsAny(b.Addr, ":?\x00") {
			return fmt.Sprintf("bad socket name %q", b.Addr)
		}
	default:
		return fmt.Sprintf("unknown scheme %q", b.Scheme)
	}

	streamOpts := b.Scheme == schemeTCP || b.Scheme == schemeSSL
	switch {
	case b.Backlog < 0:
		return "negative backlog"
	case b.Backlog > 0 && !streamOpts && b.Scheme != schemeUnix:
		return "option backlog does not apply to " + b.Scheme + "://"
	case b.ReusePort && !streamOpts:
		return "option reuseport does not apply to " + b.Scheme + "://"
	case b.Mode != 0 && b.Scheme != schemeUnix:
		return "option mode does not apply to " + b.Scheme + "://"
	case b.Mode&^fs.ModePerm != 0:
		return fmt.Sprintf("bad mode %v (want permission bits only)", b.Mode)
	}
	switch b.Scheme {
	case schemeSSL:
		if b.Cert == "" {
			return "missing cert (as in ssl://host:port?cert=/path/cert.pem&key=/path/key.pem)"
		}
		if b.Key == "" {
			return "missing key (as in ssl://host:port?cert=/path/cert.pem&key=/path/key.pem)"
		}
	case schemeFD, schemeSystemd:
		if (b.Cert == "") != (b.Key == "") {
			return "cert and key go together"
		}
	default:
		if b.Cert != "" || b.Key != "" {
			return "options cert and key do not apply to " + b.Scheme + ":// (use ssl://)"
		}
	}
	return ""
}

// String returns b as a canonical bind URL, which [Parse] turns back into
// b: options in a fixed order, umask given as mode, "tls" as "ssl".
func (b Bind) String() string {
	var sb strings.Builder
	sb.WriteString(b.Scheme)
	sb.WriteString("://")
	sb.WriteString(b.Addr)
	sep := byte('?')
	opt := func(k, v string) {
		sb.WriteByte(sep)
		sep = '&'
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(strings.ReplaceAll(url.QueryEscape(v), "%2F", "/"))
	}
	if b.Backlog != 0 {
		opt("backlog", strconv.Itoa(b.Backlog))
	}
	if b.ReusePort {
		opt("reuseport", "true")
	}
	if b.Mode != 0 {
		opt("mode", fmt.Sprintf("%04o", uint32(b.Mode)))
	}
	if b.Cert != "" {
		opt("cert", b.Cert)
	}
	if b.Key != "" {
		opt("key", b.Key)
	}
	return sb.String()
}
