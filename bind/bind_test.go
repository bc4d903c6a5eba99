package bind

import (
	"errors"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in    string
		want  Bind
		canon string // "" means in
	}{
		{in: "tcp://0.0.0.0:8080", want: Bind{Scheme: "tcp", Addr: "0.0.0.0:8080"}},
		{in: "tcp://:8080", want: Bind{Scheme: "tcp", Addr: ":8080"}},
		{in: "tcp://127.0.0.1:0", want: Bind{Scheme: "tcp", Addr: "127.0.0.1:0"}},
		{in: "tcp://[::1]:8080", want: Bind{Scheme: "tcp", Addr: "[::1]:8080"}},
		{in: "TCP://[0:0::1]:08080", want: Bind{Scheme: "tcp", Addr: "[::1]:8080"}, canon: "tcp://[::1]:8080"},
		{in: "tcp://[fe80::1%eth0]:80", want: Bind{Scheme: "tcp", Addr: "[fe80::1%eth0]:80"}},
		{in: "tcp://localhost:3000", want: Bind{Scheme: "tcp", Addr: "localhost:3000"}},
		{
			in:    "tcp://:80?reuseport=1&backlog=16",
			want:  Bind{Scheme: "tcp", Addr: ":80", Backlog: 16, ReusePort: true},
			canon: "tcp://:80?backlog=16&reuseport=true",
		},
		{in: "tcp://:80?reuseport=false", want: Bind{Scheme: "tcp", Addr: ":80"}, canon: "tcp://:80"},
		{
			in:    "ssl://example.com:443?key=/k.pem&cert=/c.pem",
			want:  Bind{Scheme: "ssl", Addr: "example.com:443", Cert: "/c.pem", Key: "/k.pem"},
			canon: "ssl://example.com:443?cert=/c.pem&key=/k.pem",
		},
		{
			in:    "tls://:8443?cert=c.pem&key=k.pem&backlog=8",
			want:  Bind{Scheme: "ssl", Addr: ":8443", Backlog: 8, Cert: "c.pem", Key: "k.pem"},
			canon: "ssl://:8443?backlog=8&cert=c.pem&key=k.pem",
		},
		{
			in:    "ssl://:1?cert=/a%20b%26.pem&key=/k.pem",
			want:  Bind{Scheme: "ssl", Addr: ":1", Cert: "/a b&.pem", Key: "/k.pem"},
			canon: "ssl://:1?cert=/a+b%26.pem&key=/k.pem",
		},
		{in: "unix:///run/app.sock", want: Bind{Scheme: "unix", Addr: "/run/app.sock"}},
		{in: "unix://run/app.sock", want: Bind{Scheme: "unix", Addr: "run/app.sock"}},
		{
			in:    "unix://app.sock?mode=660",
			want:  Bind{Scheme: "unix", Addr: "app.sock", Mode: 0o660},
			canon: "unix://app.sock?mode=0660",
		},
		{
			in:    "unix:///a.sock?umask=0007&backlog=5",
			want:  Bind{Scheme: "unix", Addr: "/a.sock", Backlog: 5, Mode: 0o770},
			canon: "unix:///a.sock?backlog=5&mode=0770",
		},
		{in: "unix://@hatago", want: Bind{Scheme: "unix", Addr: "@hatago"}},
		{in: "fd://3", want: Bind{Scheme: "fd", Addr: "3"}},
		{in: "fd://007", want: Bind{Scheme: "fd", Addr: "7"}, canon: "fd://7"},
		{in: "fd://3?cert=c.pem&key=k.pem", want: Bind{Scheme: "fd", Addr: "3", Cert: "c.pem", Key: "k.pem"}},
		{in: "systemd://web", want: Bind{Scheme: "systemd", Addr: "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if s := got.String(); s != canon {
				t.Errorf("String() = %q, want %q", s, canon)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in      string
		reason  string
		wrapped error
	}{
		{"0.0.0.0:8080", "missing scheme (want tcp://, ssl://, unix://, fd:// or systemd://)", nil},
		{"http://:80", `unknown scheme "http" (want tcp, ssl, tls, unix, fd or systemd)`, nil},
		{"tcp://", "missing host and port", nil},
		{"tcp://x", "missing port", nil},
		{"tcp://x:", "missing port", nil},
		{"tcp://x:http", `bad port "http"`, nil},
		{"tcp://x:65536", `bad port "65536"`, nil},
		{"tcp://:80/", `bad port "80/"`, nil},
		{"tcp://a b:80", `bad host "a b"`, nil},
		{"tcp://::1:8080", "IPv6 address must be in brackets, as in tcp://[::1]:8080", nil},
		{"tcp://[::1]", "missing port", nil},
		{"tcp://[::1]:", "missing port", nil},
		{"tcp://[::1", "missing ] after IPv6 address", nil},
		{"tcp://[::1]8080", `unexpected "8080" after IPv6 address`, nil},
		{"tcp://[1.2.3.4]:80", `bad IPv6 address "1.2.3.4"`, nil},
		{"tcp://[::g]:80", `bad IPv6 address "::g"`, nil},
		{"tcp://:80?nodelay=true", `unknown option "nodelay"`, nil},
		{"tcp://:80?mode=0600", `option "mode" does not apply to tcp://`, nil},
		{"tcp://:80?cert=c.pem&key=k.pem", `option "cert" does not apply to tcp://`, nil},
		{"tcp://:80?backlog=1&backlog=2", `option "backlog" given twice`, nil},
		{"tcp://:80?backlog=0", `bad backlog "0" (want a positive integer)`, nil},
		{"tcp://:80?backlog=-1", `bad backlog "-1" (want a positive integer)`, strconv.ErrSyntax},
		{"tcp://:80?reuseport=yes", `bad reuseport "yes" (want true or false)`, strconv.ErrSyntax},
		{"tcp://:80?a;b", "bad query", nil},
		{"ssl://:443", "missing cert (as in ssl://host:port?cert=/path/cert.pem&key=/path/key.pem)", nil},
		{"ssl://:443?cert=c.pem", "missing key (as in ssl://host:port?cert=/path/cert.pem&key=/path/key.pem)", nil},
		{"ssl://:443?key=k.pem", "missing cert (as in ssl://host:port?cert=/path/cert.pem&key=/path/key.pem)", nil},
		{"ssl://:443?cert=&key=k.pem", "empty cert", nil},
		{"tls://x?cert=c.pem&key=k.pem", "missing port", nil},
		{"unix://", "missing path", nil},
		{"unix:///a.sock?mode=999", `bad mode "999" (want octal 0001 to 0777)`, strconv.ErrSyntax},
		{"unix:///a.sock?mode=0", `bad mode "0" (want octal 0001 to 0777)`, nil},
		{"unix:///a.sock?mode=1777", `bad mode "1777" (want octal 0001 to 0777)`, nil},
		{"unix:///a.sock?umask=0777", `bad umask "0777" (want octal 0000 to 0776)`, nil},
		{"unix:///a.sock?mode=0660&umask=0007", "both mode and umask given", nil},
		{"unix:///a.sock?reuseport=true", `option "reuseport" does not apply to unix://`, nil},
		{"unix://@hatago?mode=0600", "abstract socket has no file to chmod", nil},
		{"fd://", `bad descriptor number ""`, strconv.ErrSyntax},
		{"fd://x", `bad descriptor number "x"`, strconv.ErrSyntax},
		{"fd://-1", `bad descriptor number "-1"`, strconv.ErrSyntax},
		{"fd://3?backlog=1", `option "backlog" does not apply to fd://`, nil},
		{"fd://3?cert=c.pem", "cert and key go together", nil},
		{"systemd://", "missing socket name (as in LISTEN_FDNAMES)", nil},
		{"systemd://a:b", `bad socket name "a:b"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := Parse(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %+v, %v; want a *ParseError", b, err)
			}
			if pe.URL != tt.in || pe.Reason != tt.reason {
				t.Errorf("got URL %q reason %q, want %q %q", pe.URL, pe.Reason, tt.in, tt.reason)
			}
			if tt.wrapped != nil && !errors.Is(err, tt.wrapped) {
				t.Errorf("got %v, want it to wrap %v", err, tt.wrapped)
			}
			if b != (Bind{}) {
				t.Errorf("got %+v with the error, want the zero Bind", b)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse("tcp://x")
	if got, want := err.Error(), `bind "tcp://x": missing port`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = Parse("unix:///a.sock?mode=9")
	if got, want := err.Error(), `bind "unix:///a.sock?mode=9": bad mode "9" (want octal 0001 to 0777): invalid syntax`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzParse checks that Parse does not panic and that String gives a
// URL Parse turns back into the same Bind.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"tcp://0.0.0.0:8080", "tcp://[::1]:0?backlog=3&reuseport=true",
		"tls://:8443?cert=/a%20b.pem&key=k.pem", "unix://a.sock?umask=0007",
		"unix://@x", "fd://3?cert=c&key=k", "systemd://web", "tcp://[fe80::1%eth0]:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		b, err := Parse(in)
		if err != nil {
			return
		}
		s := b.String()
		b2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v; Parse(String() = %q): %v", in, b, s, err)
		}
		if b2 != b {
			t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v", in, b, s, b2)
		}
		if s2 := b2.String(); s2 != s {
			t.Fatalf("String not stable: %q then %q", s, s2)
		}
	})
}
