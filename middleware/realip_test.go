package middleware

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRealIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		header  string // RealIPConfig.Header
		peer    string
		values  map[string][]string
		want    string // r.RemoteAddr seen by the handler
	}{
		{
			name: "untrusted peer is left alone",
			peer: "198.51.100.9:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7"}},
			want: "198.51.100.9:5000",
		},
		{
			name: "trusted peer without header",
			peer: "10.0.0.1:5000",
			want: "10.0.0.1:5000",
		},
		{
			name: "one proxy",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7"}},
			want: "203.0.113.7:0",
		},
		{
			name: "client spoofs its own entry, the proxy appends the real one",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"1.1.1.1, 10.0.0.99, 203.0.113.7"}},
			want: "203.0.113.7:0",
		},
		{
			name: "two trusted proxies",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7, 10.0.0.2"}},
			want: "203.0.113.7:0",
		},
		{
			name: "every hop trusted: the left-most is the client",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"10.0.0.3,10.0.0.2"}},
			want: "10.0.0.3:0",
		},
		{
			name: "garbage ends the walk at the last valid trusted hop",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"1.1.1.1, garbage, 10.0.0.2"}},
			want: "10.0.0.2:0",
		},
		{
			name: "garbage read first leaves the peer",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7, unknown"}},
			want: "10.0.0.1:5000",
		},
		{
			name: "empty header leaves the peer",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {" "}},
			want: "10.0.0.1:5000",
		},
		{
			name: "several header lines, empty elements and spaces",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"1.1.1.1", " 203.0.113.7 , ,10.0.0.2 ,"}},
			want: "203.0.113.7:0",
		},
		{
			name: "client in the first line",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7", "10.0.0.2"}},
			want: "203.0.113.7:0",
		},
		{
			name: "IPv4 with port",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7:4711"}},
			want: "203.0.113.7:4711",
		},
		{
			name: "IPv6 bare, bracketed and with port",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"2001:db8::1, [2001:db8::2], [2001:db8::3]:4711"}},
			want: "[2001:db8::3]:4711",
		},
		{
			name: "IPv6 bracketed without port",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"[2001:db8::2]"}},
			want: "[2001:db8::2]:0",
		},
		{
			name: "bracketed IPv4 is garbage",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"[203.0.113.7]"}},
			want: "10.0.0.1:5000",
		},
		{
			name: "IPv4-mapped entry and peer are unmapped",
			peer: "[::ffff:10.0.0.1]:5000", values: map[string][]string{"X-Forwarded-For": {"::ffff:203.0.113.7, ::ffff:10.0.0.2"}},
			want: "203.0.113.7:0",
		},
		{
			name:    "IPv4-mapped trusted prefix",
			trusted: []string{"::ffff:10.0.0.0/104"},
			peer:    "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7"}},
			want: "203.0.113.7:0",
		},
		{
			name: "zone dropped",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Forwarded-For": {"fe80::1%eth0"}},
			want: "[fe80::1]:0",
		},
		{
			name:    "trusted IPv6 proxy",
			trusted: []string{"2001:db8:ffff::/48"},
			peer:    "[2001:db8:ffff::1]:443", values: map[string][]string{"X-Forwarded-For": {"2001:db8::7, 2001:db8:ffff::2"}},
			want: "[2001:db8::7]:0",
		},
		{
			name:   "Forwarded ignored when X-Forwarded-For is configured",
			peer:   "10.0.0.1:5000",
			values: map[string][]string{"Forwarded": {"for=1.1.1.1"}},
			want:   "10.0.0.1:5000",
		},
		{
			name: "Forwarded with quoted IPv6 and port", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.1`}},
			want: "[2001:db8:cafe::17]:4711",
		},
		{
			name: "Forwarded spoof", header: "forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {"for=1.1.1.1", `For = "203.0.113.7" ; proto=http`}},
			want: "203.0.113.7:0",
		},
		{
			// The client's stray quote would swallow the element its
			// proxy appended, leaving the client's own address, with the
			// rest as an IPv6 zone: the element is refused instead.
			name: "Forwarded stray quote cannot hide the proxy's element", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {`for=2001:db8::bad%", for=203.0.113.7`}},
			want: "10.0.0.1:5000",
		},
		{
			name: "Forwarded unknown ends the walk", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {"for=1.1.1.1, for=unknown, for=10.0.0.2"}},
			want: "10.0.0.2:0",
		},
		{
			name: "Forwarded element without for ends the walk", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {"for=1.1.1.1, proto=https"}},
			want: "10.0.0.1:5000",
		},
		{
			name: "Forwarded quoted comma is one element", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {`for=1.1.1.1;x="a,for=2.2.2.2", for=203.0.113.7`}},
			want: "203.0.113.7:0",
		},
		{
			name: "Forwarded unterminated quote", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {`for="1.1.1.1, for=203.0.113.7`}},
			want: "10.0.0.1:5000",
		},
		{
			name: "Forwarded duplicate for", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {`for=1.1.1.1;for=203.0.113.7`}},
			want: "10.0.0.1:5000",
		},
		{
			name: "Forwarded escaped quote", header: "Forwarded",
			peer: "10.0.0.1:5000", values: map[string][]string{"Forwarded": {`for=203.0.113.7;x="a\",b", for=10.0.0.2`}},
			want: "203.0.113.7:0",
		},
		{
			name: "X-Real-IP", header: "x-real-ip",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Real-Ip": {" 203.0.113.7 "}, "X-Forwarded-For": {"1.1.1.1"}},
			want: "203.0.113.7:0",
		},
		{
			name: "X-Real-IP twice is ignored", header: "X-Real-IP",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Real-Ip": {"1.1.1.1", "203.0.113.7"}},
			want: "10.0.0.1:5000",
		},
		{
			name: "X-Real-IP list is garbage", header: "X-Real-IP",
			peer: "10.0.0.1:5000", values: map[string][]string{"X-Real-Ip": {"1.1.1.1, 203.0.113.7"}},
			want: "10.0.0.1:5000",
		},
		{
			name: "unparsable peer is left alone",
			peer: "@", values: map[string][]string{"X-Forwarded-For": {"203.0.113.7"}},
			want: "@",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trusted := tt.trusted
			if trusted == nil {
				trusted = []string{"10.0.0.0/8"}
			}
			var cfg RealIPConfig
			for _, s := range trusted {
				cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix(s))
			}
			cfg.Header = tt.header
			var gotAddr string
			var gotIP netip.Addr
			h := RealIP(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAddr, gotIP = r.RemoteAddr, ClientIP(r)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for k, vs := range tt.values {
				r.Header[k] = vs
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if gotAddr != tt.want {
				t.Errorf("RemoteAddr: got %v, want %v", gotAddr, tt.want)
			}
			if r.RemoteAddr != tt.peer {
				t.Errorf("the caller's request was changed: RemoteAddr %v", r.RemoteAddr)
			}
			wantIP := realIPParseRemoteAddr(tt.want)
			if gotIP != wantIP {
				t.Errorf("ClientIP: got %v, want %v", gotIP, wantIP)
			}
		})
	}
}

func TestRealIPPanics(t *testing.T) {
	tests := []struct {
		name string
		cfg  RealIPConfig
		want string
	}{
		{"no trusted proxies", RealIPConfig{}, "TrustedProxies is empty"},
		{"invalid prefix", RealIPConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}}, "TrustedProxies[1]"},
		{"unknown header", RealIPConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Header: "X-Client-IP"}, `Header "X-Client-IP"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := realIPPanicMessage(func() { RealIP(tt.cfg) })
			if !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "middleware: RealIP: ") {
				t.Errorf("got panic %q, want one naming %q", got, tt.want)
			}
		})
	}
}

// realIPPanicMessage returns what f panics with, or "". The tests of the
// other web middleware (Compress, Static, CORS) use it too.
func realIPPanicMessage(f func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg, _ = v.(string)
		}
	}()
	f()
	return ""
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		remote string
		want   netip.Addr
	}{
		{"192.0.2.1:1234", netip.MustParseAddr("192.0.2.1")},
		{"[::ffff:192.0.2.1]:1234", netip.MustParseAddr("192.0.2.1")},
		{"[2001:db8::1]:1234", netip.MustParseAddr("2001:db8::1")},
		{"192.0.2.1", netip.MustParseAddr("192.0.2.1")},
		{"@", netip.Addr{}},
		{"", netip.Addr{}},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if got := ClientIP(r); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRealIPServer goes through a real socket: the peer is 127.0.0.1, so
// the header counts only when loopback is trusted.
func TestRealIPServer(t *testing.T) {
	tests := []struct {
		trusted string
		want    string
	}{
		{"127.0.0.0/8", "203.0.113.7"},
		{"10.0.0.0/8", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.trusted, func(t *testing.T) {
			mw := RealIP(RealIPConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix(tt.trusted)}})
			srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, ClientIP(r).String())
			})))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tt.want {
				t.Errorf("got %v, want %v", string(b), tt.want)
			}
		})
	}
}

func realIPFuzzTrusted(a netip.Addr) bool {
	return netip.MustParsePrefix("10.0.0.0/8").Contains(a)
}

// FuzzRealIPXForwardedFor checks that whatever a client writes into its own
// X-Forwarded-For, the address the trusted proxy appends wins, and that
// any address found is normalised.
func FuzzRealIPXForwardedFor(f *testing.F) {
	for _, s := range []string{"", "1.1.1.1", "1.1.1.1, 10.0.0.1", "[::1]:80", "::ffff:1.2.3.4", "fe80::1%eth0", ",,", "[", "]:", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := realIPClient(realIPXForwardedFor, []string{s}, realIPFuzzTrusted); ok {
			realIPCheckNormal(t, got)
		}
		got, ok := realIPClient(realIPXForwardedFor, []string{s + ", 203.0.113.7"}, realIPFuzzTrusted)
		if want := netip.MustParseAddrPort("203.0.113.7:0"); !ok || got != want {
			t.Errorf("client prefix %q: got %v %v, want %v", s, got, ok, want)
		}
	})
}

// FuzzRealIPForwarded checks the same for Forwarded, whose quoted strings
// could swallow the proxy's element: a client may at worst make the header
// unreadable (the peer stays the client), never choose the address.
func FuzzRealIPForwarded(f *testing.F) {
	for _, s := range []string{"", "for=1.1.1.1", `for="[2001:db8::1]:80"`, `for="`, `for="a\`, `x="a,b";for=1.2.3.4`, "for=unknown", `for=1.1.1.1"`, `;;=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := realIPClient(realIPForwarded, []string{s}, realIPFuzzTrusted); ok {
			realIPCheckNormal(t, got)
		}
		for _, proxy := range []string{"for=203.0.113.7", `for="[2001:db8::7]:80";proto=https`} {
			want, _ := realIPParseNode(realIPForwardedFor(proxy))
			got, ok := realIPClient(realIPForwarded, []string{s + ", " + proxy}, realIPFuzzTrusted)
			if ok && got != want {
				t.Errorf("client prefix %q: got %v, want %v or nothing", s, got, want)
			}
			got, ok = realIPClient(realIPForwarded, []string{s, proxy}, realIPFuzzTrusted)
			if !ok || got != want {
				t.Errorf("client line %q: got %v %v, want %v", s, got, ok, want)
			}
		}
	})
}

func realIPCheckNormal(t *testing.T, ap netip.AddrPort) {
	t.Helper()
	if a := ap.Addr(); !a.IsValid() || a.Is4In6() || a.Zone() != "" {
		t.Errorf("got %v, want a valid, unmapped address without zone", ap)
	}
}

// BenchmarkRealIP finds the client behind one or two trusted proxies, in
// the forms proxies write.
func BenchmarkRealIP(b *testing.B) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name   string
		header string // RealIPConfig.Header
		value  string
	}{
		{"xff", "", "203.0.113.7, 10.0.0.2"},
		{"xff-port", "", "203.0.113.7:4711, 10.0.0.2:8080"},
		{"xff-ipv6", "", "2001:db8::7, 10.0.0.2"},
		{"forwarded", "Forwarded", `for="[2001:db8::7]:4711";proto=https, for=10.0.0.2`},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			var got netip.Addr
			h := RealIP(RealIPConfig{TrustedProxies: trusted, Header: tt.header})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = ClientIP(r)
			}))
			header := tt.header
			if header == "" {
				header = "X-Forwarded-For"
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:41234"
			r.Header.Set(header, tt.value)
			w := &compressBenchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			if !got.IsValid() || realIPFuzzTrusted(got) {
				b.Errorf("ClientIP: got %v, want the client", got)
			}
		})
	}
}

// TestRealIPContext: the request RealIP hands on keeps its parent
// context's values, deadline and cancellation, besides the client's
// address for ClientIP; a second RealIP's answer wins over the first's.
func TestRealIPContext(t *testing.T) {
	type key struct{}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	var got *http.Request
	h := RealIP(RealIPConfig{TrustedProxies: trusted})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
	}))
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "kept"))
	r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got == nil {
		t.Fatal("the handler was not called")
	}
	if v := got.Context().Value(key{}); v != "kept" {
		t.Errorf("parent value: got %v, want %v", v, "kept")
	}
	if ip, want := ClientIP(got), netip.MustParseAddr("203.0.113.7"); ip != want {
		t.Errorf("ClientIP: got %v, want %v", ip, want)
	}
	if s := fmt.Sprint(got.Context()); !strings.Contains(s, "realIPKey, 203.0.113.7") {
		t.Errorf("String: got %q, want it to name the key and the address", s)
	}
	cancel()
	select {
	case <-got.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the parent did not reach the handler's context")
	}
	if err := got.Context().Err(); err != context.Canceled {
		t.Errorf("Err: got %v, want %v", err, context.Canceled)
	}

	// Behind a second RealIP that trusts 203.0.113.0/24 too, the inner
	// one walks further left.
	inner := RealIP(RealIPConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}})
	h = RealIP(RealIPConfig{TrustedProxies: trusted})(inner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
	})))
	r = httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.9, 203.0.113.7")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if ip, want := ClientIP(got), netip.MustParseAddr("198.51.100.9"); ip != want {
		t.Errorf("nested ClientIP: got %v, want %v", ip, want)
	}
}

// realIPParseNodeAlways is realIPParseNode as it was before it checked
// realIPMayHavePort: ParseAddrPort first on every entry.
func realIPParseNodeAlways(s string) (netip.AddrPort, bool) {
	if s == "" {
		return netip.AddrPort{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
		if !strings.Contains(s, ":") {
			return netip.AddrPort{}, false
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap().WithZone(""), 0), true
}

// FuzzRealIPParseNode checks that realIPMayHavePort never turns away an
// address ParseAddrPort accepts, so skipping ParseAddrPort changes no
// result, and that RemoteAddr parsing agrees likewise.
func FuzzRealIPParseNode(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:80", "[::ffff:1.2.3.4]:1",
		"::ffff:1.2.3.4", "fe80::1%eth0", "[fe80::1%eth0]:8", "[192.0.2.1]:80", "[::]:", ":80", "[", "]:1", "@", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := netip.ParseAddrPort(s); err == nil && !realIPMayHavePort(s) {
			t.Errorf("%q: ParseAddrPort accepts it, realIPMayHavePort says it cannot", s)
		}
		got, ok := realIPParseNode(s)
		want, wantOK := realIPParseNodeAlways(s)
		if got != want || ok != wantOK {
			t.Errorf("%q: got %v %v, want %v %v", s, got, ok, want, wantOK)
		}
		var wantAddr netip.Addr
		if ap, err := netip.ParseAddrPort(s); err == nil {
			wantAddr = ap.Addr().Unmap().WithZone("")
		} else if a, err := netip.ParseAddr(s); err == nil {
			wantAddr = a.Unmap().WithZone("")
		}
		if got := realIPParseRemoteAddr(s); got != wantAddr {
			t.Errorf("realIPParseRemoteAddr(%q): got %v, want %v", s, got, wantAddr)
		}
	})
}

// FuzzRealIPUnquote compares realIPUnquote, which returns a substring when
// it can, with copying the quoted string byte by byte.
func FuzzRealIPUnquote(f *testing.F) {
	for _, s := range []string{`""`, `"a"`, `"[2001:db8::1]:80";proto=https`, `"a\"b", x`, `"a\\`, `"a\`, `"`, `"\\\""rest`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !strings.HasPrefix(s, `"`) {
			return
		}
		var b strings.Builder
		i := 1
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		want, wantRest, wantOK := "", "", false
		if i < len(s) {
			want, wantRest, wantOK = b.String(), s[i+1:], true
		}
		got, rest, ok := realIPUnquote(s)
		if got != want || rest != wantRest || ok != wantOK {
			t.Errorf("%q: got %q %q %v, want %q %q %v", s, got, rest, ok, want, wantRest, wantOK)
		}
	})
}
