package control

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ConfigError reports an invalid setting found by [New] or [NewClient],
// naming the setting. It is returned as a pointer; use errors.As to get it.
type ConfigError struct {
	// Field is the name of the setting, such as "URL" or "Token".
	Field string
	// Msg says what is wrong with it.
	Msg string
}

// Error returns "control: FIELD: MSG". It is safe for concurrent use.
func (e *ConfigError) Error() string {
	return "control: " + e.Field + ": " + e.Msg
}

// address is a parsed control URL.
type address struct {
	network string // "tcp" or "unix"
	address string // host:port or socket path
}

// String returns the address as a control URL.
func (a address) String() string {
	return a.network + "://" + a.address
}

const urlForms = "tcp://HOST:PORT or unix:///PATH"

// parseURL parses a control URL: tcp://HOST:PORT or unix://PATH, where
// PATH is usually absolute (unix:///run/hatago.sock). Errors are
// *ConfigError values for field.
func parseURL(field, raw string) (address, error) {
	bad := func(format string, args ...any) (address, error) {
		return address{}, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if raw == "" {
		return bad("empty (want %s)", urlForms)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return bad("%q has no scheme (want %s)", raw, urlForms)
	}
	switch scheme {
	case "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return bad("%q: want tcp://HOST:PORT", raw)
		}
		if strings.ContainsAny(host, "/?#@ ") {
			return bad("%q: invalid host %q", raw, host)
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return bad("%q: invalid port %q (want 0 to 65535)", raw, port)
		}
		return address{network: "tcp", address: net.JoinHostPort(host, strconv.FormatUint(n, 10))}, nil
	case "unix":
		if rest == "" {
			return bad("%q: missing socket path (want unix:///PATH)", raw)
		}
		if strings.ContainsAny(rest, "?#\x00") {
			return bad("%q: socket path must not contain '?', '#' or NUL", raw)
		}
		return address{network: "unix", address: rest}, nil
	default:
		return bad("unsupported scheme %q (want tcp or unix)", scheme)
	}
}

// checkToken reports whether token can travel in an Authorization header
// and a query string: printable ASCII without spaces.
func checkToken(field, token string) error {
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f {
			return &ConfigError{Field: field, Msg: "must be printable ASCII without spaces"}
		}
	}
	return nil
}

// command is one control command: its CLI and Client name and its HTTP
// request.
type command struct {
	name   string
	method string
	path   string
}

// commands lists the commands in the order usage shows them.
var commands = []command{
	{"stats", "GET", "/stats"},
	{"gc", "POST", "/gc"},
	{"gc-stats", "GET", "/gc-stats"},
	{"goroutines", "GET", "/goroutines"},
	{"thread-backtraces", "GET", "/thread-backtraces"},
	{"stop", "POST", "/stop"},
	{"halt", "POST", "/halt"},
	{"restart", "POST", "/restart"},
	{"phased-restart", "POST", "/phased-restart"},
	{"worker-count-up", "POST", "/worker-count-up"},
	{"worker-count-down", "POST", "/worker-count-down"},
	{"metrics", "GET", "/metrics"},
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// commandPaths lists the paths of the commands, which are the server's
// routes, for messages.
func commandPaths() string {
	paths := make([]string, len(commands))
	for i, c := range commands {
		paths[i] = c.path
	}
	return strings.Join(paths, ", ")
}
