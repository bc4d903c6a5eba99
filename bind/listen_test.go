package bind

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/testcert"
)

// errAny in a test table accepts any error.
var errAny = errors.New("any error")

// shortDir returns a new directory with a short path: unix socket paths
// must stay under about 100 bytes, which t.TempDir's may not.
func shortDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "hb")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func mustParse(tb testing.TB, rawURL string) Bind {
	tb.Helper()
	b, err := Parse(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustListen(tb testing.TB, rawURL string) net.Listener {
	tb.Helper()
	l, err := mustParse(tb, rawURL).Listen(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// serveOne accepts one connection on l and writes msg and a newline to
// it. The returned function waits for that and reports its error.
func serveOne(tb testing.TB, l net.Listener, msg string) (wait func()) {
	tb.Helper()
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		_, err = io.WriteString(c, msg+"\n")
		errc <- err
	}()
	return func() {
		tb.Helper()
		if err := <-errc; err != nil {
			tb.Errorf("serve %s: %v", l.Addr(), err)
		}
	}
}

// readLine dials network addr, with TLS if config is not nil, and
// returns the first line the server writes.
func readLine(tb testing.TB, network, addr string, config *tls.Config) string {
	tb.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	var (
		c   net.Conn
		err error
	)
	if config != nil {
		c, err = tls.DialWithDialer(d, network, addr, config)
	} else {
		c, err = d.Dial(network, addr)
	}
	if err != nil {
		tb.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		tb.Fatalf("read from %s: %v", addr, err)
	}
	return strings.TrimSuffix(line, "\n")
}

func hasIPv6(tb testing.TB) bool {
	tb.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestListenTCP(t *testing.T) {
	tests := []struct {
		url  string
		ipv6 bool
	}{
		{url: "tcp://127.0.0.1:0"},
		{url: "tcp://:0"},
		{url: "tcp://localhost:0"},
		{url: "tcp://[::1]:0", ipv6: true},
		{url: "tcp://127.0.0.1:0?backlog=64"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if tt.ipv6 && !hasIPv6(t) {
				t.Skip("no IPv6 loopback")
			}
			l := mustListen(t, tt.url)
			if _, ok := l.(*net.TCPListener); !ok {
				t.Fatalf("got %T, want *net.TCPListener", l)
			}
			wait := serveOne(t, l, "hello")
			if got := readLine(t, "tcp", l.Addr().String(), nil); got != "hello" {
				t.Errorf("got %q, want %q", got, "hello")
			}
			wait()
		})
	}
}

func TestListenAddrInUse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_REUSEPORT semantics tested on Linux")
	}
	tests := []struct {
		name          string
		first, second string
		wantInUse     bool
	}{
		{"both reuseport", "?reuseport=true", "?reuseport=true", false},
		{"second plain", "?reuseport=true", "", true},
		{"first plain", "", "?reuseport=true", true},
		{"both plain", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := mustListen(t, "tcp://127.0.0.1:0"+tt.first)
			second := mustParse(t, "tcp://"+first.Addr().String()+tt.second)
			l, err := second.Listen(context.Background())
			if !tt.wantInUse {
				if err != nil {
					t.Fatalf("second Listen: %v", err)
				}
				defer l.Close()
				if got, want := l.Addr().String(), first.Addr().String(); got != want {
					t.Errorf("got %s, want %s", got, want)
				}
				return
			}
			if err == nil {
				l.Close()
				t.Fatal("second Listen succeeded, want ErrAddrInUse")
			}
			if !errors.Is(err, ErrAddrInUse) || !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("got %v, want ErrAddrInUse wrapping EADDRINUSE", err)
			}
			if strings.Count(err.Error(), "in use") != 1 {
				t.Errorf("message %q repeats itself", err)
			}
		})
	}
}

// TestBacklog fills the accept queue of a listener nobody accepts on:
// with backlog=1 Linux queues two connections and refuses (unix) or
// ignores (TCP) the next, while the default queue takes them all.
func TestBacklog(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("queue overflow behavior tested on Linux")
	}
	dir := shortDir(t)
	tests := []struct {
		url      string
		wantFull bool
	}{
		{"tcp://127.0.0.1:0", false},
		{"tcp://127.0.0.1:0?backlog=1", true},
		{"unix://" + dir + "/a.sock", false},
		{"unix://" + dir + "/b.sock?backlog=1", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			l := mustListen(t, tt.url)
			var failed []error
			for range 5 {
				c, err := net.DialTimeout(l.Addr().Network(), l.Addr().String(), 300*time.Millisecond)
				if err != nil {
					failed = append(failed, err)
					break
				}
				defer c.Close()
			}
			if full := len(failed) > 0; full != tt.wantFull {
				t.Errorf("queue full: got %v (%v), want %v", full, failed, tt.wantFull)
			}
		})
	}
}

func TestListenUnix(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "app.sock")
	l := mustListen(t, "unix://"+path)
	if _, ok := l.(*net.UnixListener); !ok {
		t.Fatalf("got %T, want *net.UnixListener", l)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("Lstat %s: %v, %v; want a socket", path, fi, err)
	}
	wait := serveOne(t, l, "hi")
	if got := readLine(t, "unix", path, nil); got != "hi" {
		t.Errorf("got %q, want %q", got, "hi")
	}
	wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Close, Lstat: %v; want the file removed", err)
	}
}

func TestListenUnixRelative(t *testing.T) {
	dir := shortDir(t)
	t.Chdir(dir)
	l := mustListen(t, "unix://rel.sock")
	wait := serveOne(t, l, "rel")
	if got := readLine(t, "unix", filepath.Join(dir, "rel.sock"), nil); got != "rel" {
		t.Errorf("got %q, want %q", got, "rel")
	}
	wait()
}

func TestListenUnixMode(t *testing.T) {
	dir := shortDir(t)
	tests := []struct {
		query string
		want  fs.FileMode
	}{
		{"mode=0600", 0o600},
		{"mode=0666", 0o666},
		{"umask=0077", 0o700},
		{"umask=0", 0o777},
	}
	for i, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("%d.sock", i))
			mustListen(t, "unix://"+path+"?"+tt.query)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListenUnixExisting(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr error // nil: Listen replaces the stale socket
	}{
		{
			name: "stale socket removed",
			setup: func(t *testing.T, path string) {
				l, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				l.(*net.UnixListener).SetUnlinkOnClose(false)
				l.Close()
			},
		},
		{
			name: "live socket refused",
			setup: func(t *testing.T, path string) {
				l, err := net.Listen("unix", path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
			},
			wantErr: ErrAddrInUse,
		},
		{
			name: "busy socket refused",
			setup: func(t *testing.T, path string) {
				l := mustListen(t, "unix://"+path+"?backlog=1")
				for range 3 { // fill the queue: connects now fail with EAGAIN
					if c, err := net.Dial("unix", l.Addr().String()); err == nil {
						t.Cleanup(func() { c.Close() })
					}
				}
			},
			wantErr: ErrAddrInUse,
		},
		{
			name: "regular file refused",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: fs.ErrExist,
		},
		{
			name: "directory refused",
			setup: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: fs.ErrExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(shortDir(t), "app.sock")
			tt.setup(t, path)
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			l, err := mustParse(t, "unix://"+path).Listen(context.Background())
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Listen: %v", err)
				}
				defer l.Close()
				wait := serveOne(t, l, "new")
				if got := readLine(t, "unix", path, nil); got != "new" {
					t.Errorf("got %q, want %q", got, "new")
				}
				wait()
				return
			}
			if err == nil {
				l.Close()
				t.Fatalf("Listen succeeded, want %v", tt.wantErr)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) {
				t.Errorf("the file at %s changed (%v)", path, err)
			}
		})
	}
}

func TestListenUnixAbstract(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract sockets are Linux only")
	}
	name := fmt.Sprintf("@hatago-bind-test-%d", os.Getpid())
	l := mustListen(t, "unix://"+name)
	wait := serveOne(t, l, "abstract")
	if got := readLine(t, "unix", name, nil); got != "abstract" {
		t.Errorf("got %q, want %q", got, "abstract")
	}
	wait()
}

// TestListenTLSHTTP2 serves net/http on an ssl:// listener and checks
// that a client speaks HTTP/2 to it, negotiated by ALPN.
func TestListenTLSHTTP2(t *testing.T) {
	certFile, keyFile, pool := testcert.Write(t, t.TempDir())
	for _, scheme := range []string{"ssl", "tls"} {
		t.Run(scheme, func(t *testing.T) {
			l := mustListen(t, scheme+"://127.0.0.1:0?cert="+certFile+"&key="+keyFile)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.Proto)
			})}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			defer func() {
				srv.Close()
				if err := <-served; !errors.Is(err, http.ErrServerClosed) {
					t.Errorf("Serve: %v", err)
				}
			}()

			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + l.Addr().String() + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.TLS.NegotiatedProtocol; got != "h2" {
				t.Errorf("ALPN: got %q, want %q", got, "h2")
			}
			if string(body) != "HTTP/2.0" {
				t.Errorf("server saw %q, want HTTP/2.0", body)
			}
		})
	}
}

func TestListenTLSHandshake(t *testing.T) {
	certFile, keyFile, pool := testcert.Write(t, t.TempDir())
	l := mustListen(t, "ssl://127.0.0.1:0?cert="+certFile+"&key="+keyFile)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Close()
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tc, ok := c.(*tls.Conn)
			if !ok {
				t.Errorf("Accept: got %T, want *tls.Conn", c)
			} else {
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				tc.Handshake() // fails for the old-version client
			}
			c.Close()
		}
	})

	tests := []struct {
		name       string
		nextProtos []string
		maxVersion uint16
		want       string
		wantErr    bool
	}{
		{name: "h2", nextProtos: []string{"h2", "http/1.1"}, want: "h2"},
		{name: "http/1.1", nextProtos: []string{"http/1.1"}, want: "http/1.1"},
		{name: "no ALPN", want: ""},
		{name: "TLS 1.2", nextProtos: []string{"h2"}, maxVersion: tls.VersionTLS12, want: "h2"},
		{name: "TLS 1.1 refused", maxVersion: tls.VersionTLS11, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := &tls.Config{RootCAs: pool, NextProtos: tt.nextProtos, MaxVersion: tt.maxVersion}
			if tt.maxVersion != 0 && tt.maxVersion < tls.VersionTLS12 {
				config.MinVersion = tt.maxVersion
			}
			d := &net.Dialer{Timeout: 5 * time.Second}
			c, err := tls.DialWithDialer(d, "tcp", l.Addr().String(), config)
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatal("handshake succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.ConnectionState().NegotiatedProtocol; got != tt.want {
				t.Errorf("ALPN: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListenTLSMissingFiles(t *testing.T) {
	dir := t.TempDir()
	b := mustParse(t, "ssl://127.0.0.1:0?cert="+dir+"/none.pem&key="+dir+"/none.key")
	l, err := b.Listen(context.Background())
	if err == nil {
		l.Close()
		t.Fatal("Listen succeeded, want an error")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
}

func TestListenInvalid(t *testing.T) {
	tests := []struct {
		b       Bind
		wantErr error
	}{
		{Bind{Scheme: "tcp", Addr: "x"}, nil},
		{Bind{Scheme: "udp", Addr: ":53"}, nil},
		{Bind{Scheme: "tcp", Addr: ":0", Mode: 0o600}, nil},
		{Bind{Scheme: "ssl", Addr: ":0"}, nil},
		{Bind{Scheme: "systemd", Addr: "web"}, ErrNotInherited},
		{Bind{Scheme: "fd", Addr: "4321"}, ErrNotInherited},
	}
	for _, tt := range tests {
		t.Run(tt.b.String(), func(t *testing.T) {
			l, err := tt.b.Listen(context.Background())
			if err == nil {
				l.Close()
				t.Fatal("Listen succeeded, want an error")
			}
			if tt.wantErr == nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Errorf("got %v, want a *ParseError", err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestListenAll(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "all.sock")
	binds := []Bind{mustParse(t, "tcp://127.0.0.1:0"), mustParse(t, "unix://"+path)}
	ls, err := ListenAll(context.Background(), binds, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	if len(ls) != 2 {
		t.Fatalf("got %d listeners, want 2", len(ls))
	}
	for i, want := range []string{"tcp", "unix"} {
		if got := ls[i].Addr().Network(); got != want {
			t.Errorf("listener %d: got %s, want %s", i, got, want)
		}
	}
}

// TestListenAllCloses checks that a failing bind closes the listeners
// opened before it: the unix socket file goes away.
func TestListenAllCloses(t *testing.T) {
	taken := mustListen(t, "tcp://127.0.0.1:0")
	path := filepath.Join(shortDir(t), "first.sock")
	binds := []Bind{mustParse(t, "unix://"+path), mustParse(t, "tcp://"+taken.Addr().String())}
	ls, err := ListenAll(context.Background(), binds, nil)
	if !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("got %v, %v; want ErrAddrInUse", ls, err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat %s: %v; want it removed by Close", path, err)
	}
}

// TestListenAllInherited checks which binds take which inherited
// sockets; the sockets are ordinary listeners standing in for systemd's.
func TestListenAllInherited(t *testing.T) {
	certFile, keyFile, _ := testcert.Write(t, t.TempDir())
	tests := []struct {
		name    string
		urls    []string // {LOOP}, {ANY} and {SOCK} stand for the inherited addresses
		want    []string // the inherited socket each bind takes: "loop", "any", "sock", or "" for a new one
		wantErr error
	}{
		{name: "tcp by address", urls: []string{"tcp://{LOOP}"}, want: []string{"loop"}},
		{name: "ssl by address", urls: []string{"ssl://{LOOP}?cert=" + certFile + "&key=" + keyFile}, want: []string{"loop"}},
		{name: "empty host", urls: []string{"tcp://:{ANYPORT}"}, want: []string{"any"}},
		{name: "unspecified host", urls: []string{"tcp://0.0.0.0:{ANYPORT}"}, want: []string{"any"}},
		{name: "unix by path", urls: []string{"unix://{SOCK}"}, want: []string{"sock"}},
		{name: "unix by relative path", urls: []string{"unix://{RELSOCK}"}, want: []string{"sock"}},
		{name: "by name", urls: []string{"systemd://admin", "systemd://web"}, want: []string{"sock", "loop"}},
		{name: "shared name", urls: []string{"systemd://web", "systemd://web"}, want: []string{"loop", "any"}},
		{name: "by fd", urls: []string{"fd://5", "fd://3"}, want: []string{"sock", "loop"}},
		{name: "others listen anew", urls: []string{"tcp://127.0.0.1:0", "tcp://{LOOP}"}, want: []string{"", "loop"}},
		{name: "fd twice", urls: []string{"fd://3", "fd://3"}, wantErr: errAny},
		{name: "address twice", urls: []string{"tcp://{LOOP}", "tcp://{LOOP}"}, wantErr: ErrAddrInUse},
		{name: "unknown name", urls: []string{"systemd://db"}, wantErr: ErrNotInherited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortDir(t)
			t.Chdir(dir)
			loop := mustListen(t, "tcp://127.0.0.1:0")
			anyL := mustListen(t, "tcp://:0")
			sock := mustListen(t, "unix://"+filepath.Join(dir, "in.sock"))
			inherited := []Inherited{
				{Name: "web", FD: 3, Listener: loop},
				{Name: "web", FD: 4, Listener: anyL},
				{Name: "admin", FD: 5, Listener: sock},
			}
			byName := map[net.Listener]string{loop: "loop", anyL: "any", sock: "sock"}
			r := strings.NewReplacer(
				"{LOOP}", loop.Addr().String(),
				"{ANYPORT}", fmt.Sprint(anyL.Addr().(*net.TCPAddr).Port),
				"{SOCK}", sock.Addr().String(),
				"{RELSOCK}", "in.sock",
			)
			var binds []Bind
			for _, u := range tt.urls {
				binds = append(binds, mustParse(t, r.Replace(u)))
			}
			ls, err := ListenAll(context.Background(), binds, inherited)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("got %v, want an error", ls)
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Errorf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range ls {
				inner := l
				if tl, ok := l.(*tlsListener); ok {
					inner = tl.Listener
				} else if binds[i].Scheme == "ssl" {
					t.Errorf("bind %d: got %T, want a TLS listener", i, l)
				}
				if got := byName[inner]; got != tt.want[i] {
					t.Errorf("bind %s: got %q, want %q", binds[i], got, tt.want[i])
				}
				if byName[inner] == "" {
					l.Close()
				}
			}
		})
	}
}

func TestFileFromFile(t *testing.T) {
	certFile, keyFile, pool := testcert.Write(t, t.TempDir())
	dir := shortDir(t)
	tests := []struct {
		url    string
		config *tls.Config
	}{
		{url: "tcp://127.0.0.1:0"},
		{url: "unix://" + dir + "/f.sock"},
		{url: "ssl://127.0.0.1:0?cert=" + certFile + "&key=" + keyFile, config: &tls.Config{RootCAs: pool}},
		{url: "fd://3?cert=" + certFile + "&key=" + keyFile, config: &tls.Config{RootCAs: pool}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			b := mustParse(t, tt.url)
			orig := b
			if b.Scheme == "fd" {
				orig = mustParse(t, "ssl://127.0.0.1:0?cert="+certFile+"&key="+keyFile)
			}
			l, err := orig.Listen(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if ul, ok := l.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
			}
			f, err := File(l)
			if err != nil {
				t.Fatal(err)
			}
			l2, err := FromFile(f, b)
			f.Close()
			l.Close() // the socket lives on in l2
			if err != nil {
				t.Fatal(err)
			}
			wait := serveOne(t, l2, "moved")
			if got := readLine(t, l2.Addr().Network(), l2.Addr().String(), tt.config); got != "moved" {
				t.Errorf("got %q, want %q", got, "moved")
			}
			wait()
			l2.Close()
			if b.Scheme == "unix" {
				if _, err := os.Lstat(b.Addr); err != nil {
					t.Errorf("FromFile's listener removed the socket file: %v", err)
				}
			}
		})
	}
}

func TestFromFileErrors(t *testing.T) {
	tcp := mustListen(t, "tcp://127.0.0.1:0")
	unix := mustListen(t, "unix://"+filepath.Join(shortDir(t), "e.sock"))
	conn, err := net.Dial("tcp", tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	regular, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	fileOf := func(l net.Listener) *os.File {
		f, err := File(l)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	connFile, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer connFile.Close()

	tests := []struct {
		name string
		f    *os.File
		url  string
	}{
		{"tcp socket as unix", fileOf(tcp), "unix:///x.sock"},
		{"unix socket as ssl", fileOf(unix), "ssl://:1?cert=c&key=k"},
		{"connection", connFile, "fd://3"},
		{"regular file", regular, "fd://3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := FromFile(tt.f, mustParse(t, tt.url))
			if err == nil {
				l.Close()
				t.Fatal("FromFile succeeded, want an error")
			}
		})
	}
}

// fakeListener is a listener with no socket behind it.
type fakeListener struct{ net.Listener }

func TestFileUnsupported(t *testing.T) {
	if _, err := File(fakeListener{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("got %v, want errors.ErrUnsupported", err)
	}
	l := mustListen(t, "tcp://127.0.0.1:0")
	l.Close()
	if f, err := File(l); err == nil {
		f.Close()
		t.Error("File of a closed listener succeeded, want an error")
	}
}
