package bind

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Listen opens the listener b describes; it does the I/O that [Parse]
// leaves out (certificate files are read here). It is safe for concurrent
// use, except that two Listens on one unix path race to remove a stale
// socket file.
//
// The listener is a *net.TCPListener, a *net.UnixListener, or for ssl://
// (and fd:// with cert) a TLS listener whose Accept returns *tls.Conn.
// For unix://, a socket file left by a dead server is removed first, and
// the file is removed again when the listener is closed. For fd://N the
// listener takes over descriptor N, which Listen closes once the
// listener holds its own close-on-exec copy.
//
// Listen returns an error wrapping [ErrAddrInUse] if the address is taken,
// [ErrNotInherited] for fd://N when descriptor N is not open and for
// systemd:// (which only [ListenAll] resolves), fs.ErrExist if a unix
// path exists and is not a socket, errors.ErrUnsupported for options the
// platform lacks, a *[ParseError] for an invalid hand-built Bind, and
// other I/O errors (such as a missing certificate file) as they come.
func (b Bind) Listen(ctx context.Context) (net.Listener, error) {
	if reason := b.check(); reason != "" {
		return nil, &ParseError{URL: b.String(), Reason: reason}
	}
	var (
		l   net.Listener
		err error
	)
	switch b.Scheme {
	case schemeTCP, schemeSSL:
		l, err = b.listenTCP(ctx)
	case schemeUnix:
		l, err = b.listenUnix(ctx)
	case schemeFD:
		fd, _ := strconv.Atoi(b.Addr) // check has vetted it
		l, err = listenFD(fd, b.Scheme)
	case schemeSystemd:
		err = fmt.Errorf("%w (systemd:// takes the sockets from Systemd, given to ListenAll)", ErrNotInherited)
	}
	if err == nil {
		var tl net.Listener
		if tl, err = b.wrapTLS(l); err != nil {
			l.Close()
		}
		l = tl
	}
	if err != nil {
		return nil, fmt.Errorf("bind %q: %w", b.String(), err)
	}
	return l, nil
}

// listenTCP listens on b.Addr with b's socket options.
func (b Bind) listenTCP(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	if b.ReusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			return control(c, setReusePort)
		}
	}
	l, err := lc.Listen(ctx, "tcp", b.Addr)
	if err != nil {
		return nil, markInUse(err)
	}
	if err := b.setBacklog(l); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// listenUnix listens on the socket path b.Addr, replacing a stale socket
// file, and applies b.Mode and b.Backlog.
func (b Bind) listenUnix(ctx context.Context) (net.Listener, error) {
	path := b.Addr
	abstract := strings.HasPrefix(path, "@")
	if !abstract {
		if err := removeStale(ctx, path); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, markInUse(err)
	}
	if b.Mode != 0 {
		if err := os.Chmod(path, b.Mode); err != nil {
			l.Close()
			return nil, err
		}
	}
	if err := b.setBacklog(l); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// removeStale removes a socket file at path that nothing answers on. It
// fails with ErrAddrInUse if a server answers, and with fs.ErrExist if
// path is something other than a socket.
func removeStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s is not a socket: %w", path, fs.ErrExist)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("%w: a server answers on %s", ErrAddrInUse, path)
	case errors.Is(err, syscall.EAGAIN):
		// The server's accept queue is full: it is alive.
		return fmt.Errorf("%w: a server is busy on %s: %w", ErrAddrInUse, path, err)
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("probe stale socket: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// setBacklog applies b.Backlog, if set, to a listening socket by calling
// listen(2) on it again, which Linux and the BSDs take as a new queue
// length. Go itself listens with the kernel's maximum (somaxconn).
func (b Bind) setBacklog(l net.Listener) error {
	if b.Backlog == 0 {
		return nil
	}
	sc, ok := l.(syscall.Conn)
	if !ok {
		return fmt.Errorf("backlog: %T: %w", l, errors.ErrUnsupported)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	return control(rc, func(fd uintptr) error { return relisten(fd, b.Backlog) })
}

// control runs fn on the descriptor behind c and returns its error.
func control(c syscall.RawConn, fn func(fd uintptr) error) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = fn(fd) }); err != nil {
		return err
	}
	return ferr
}

// markInUse makes an EADDRINUSE error also match ErrAddrInUse.
func markInUse(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return inUseError{err}
	}
	return err
}

// inUseError is an OS error that also matches ErrAddrInUse, without
// repeating it in the message.
type inUseError struct{ err error }

func (e inUseError) Error() string   { return e.err.Error() }
func (e inUseError) Unwrap() []error { return []error{ErrAddrInUse, e.err} }

// wrapTLS returns l serving TLS if b has a certificate, and l as it is
// otherwise. It does not close l on failure.
func (b Bind) wrapTLS(l net.Listener) (net.Listener, error) {
	if b.Cert == "" {
		return l, nil
	}
	cert, err := tls.LoadX509KeyPair(b.Cert, b.Key)
	if err != nil {
		return nil, fmt.Errorf("load certificate: %w", err)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	return &tlsListener{Listener: l, config: config}, nil
}

// tlsListener is tls.NewListener's listener, but keeps the inner listener
// reachable so that File can hand its socket on.
type tlsListener struct {
	net.Listener
	config *tls.Config
}

// Accept waits for a connection and returns it as a *tls.Conn whose
// handshake runs on first read or write (or an explicit Handshake).
func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, l.config), nil
}

// ListenAll opens the listeners for binds, in order, taking sockets from
// inherited (the result of [Systemd]) where a bind matches one:
//
//   - fd://N takes the inherited socket that arrived on descriptor N, and
//     otherwise opens descriptor N as [Bind.Listen] does;
//   - systemd://NAME takes the next inherited socket named NAME (a
//     unit's sockets share the unit's name unless FileDescriptorName=
//     names them, so repeat the bind to take each);
//   - tcp://, ssl:// and unix:// take an inherited socket listening on
//     the same address (an IP literal or empty host, the same port; the
//     same absolute path), as Puma does; host names are not resolved, so
//     they never match. Options such as backlog and mode do not apply to
//     an inherited socket: systemd set it up.
//
// Each inherited socket serves at most one bind. If a bind fails,
// ListenAll closes the listeners it opened (not the inherited ones) and
// returns the error, which is one [Bind.Listen] returns, or wraps
// [ErrNotInherited] for a systemd:// name that was not passed. Inherited
// sockets no bind takes remain the caller's to close.
//
// ListenAll is safe for concurrent use if the calls do not share
// inherited sockets. Each Inherited must have a Listener.
func ListenAll(ctx context.Context, binds []Bind, inherited []Inherited) ([]net.Listener, error) {
	used := make([]bool, len(inherited))
	var ls, opened []net.Listener
	for _, b := range binds {
		l, fresh, err := b.listenWith(ctx, inherited, used)
		if err != nil {
			for _, o := range opened {
				o.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
		if fresh {
			opened = append(opened, l)
		}
	}
	return ls, nil
}

// listenWith returns the listener for b: an unused inherited socket that
// matches b, or a fresh one (fresh is true) from b.Listen.
func (b Bind) listenWith(ctx context.Context, inherited []Inherited, used []bool) (l net.Listener, fresh bool, err error) {
	if reason := b.check(); reason != "" {
		return nil, false, &ParseError{URL: b.String(), Reason: reason}
	}
	i := -1
	for j, in := range inherited {
		if b.Scheme == schemeFD && strconv.Itoa(in.FD) == b.Addr {
			if used[j] {
				return nil, false, fmt.Errorf("bind %q: descriptor %s taken by another bind", b.String(), b.Addr)
			}
			i = j
			break
		}
		if !used[j] && (b.Scheme == schemeSystemd && in.Name == b.Addr || b.matches(in.Listener.Addr())) {
			i = j
			break
		}
	}
	if i < 0 {
		if b.Scheme == schemeSystemd {
			return nil, false, fmt.Errorf("bind %q: no socket named %q: %w", b.String(), b.Addr, ErrNotInherited)
		}
		l, err := b.Listen(ctx)
		return l, true, err
	}
	used[i] = true
	l, err = b.wrapTLS(inherited[i].Listener)
	if err != nil {
		return nil, false, fmt.Errorf("bind %q: %w", b.String(), err)
	}
	return l, false, nil
}

// matches reports whether a listener on addr serves the tcp, ssl or unix
// bind b.
func (b Bind) matches(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		if b.Scheme != schemeTCP && b.Scheme != schemeSSL {
			return false
		}
		host, port, err := net.SplitHostPort(b.Addr)
		if err != nil || port == "0" || port != strconv.Itoa(a.Port) {
			return false
		}
		ip := net.ParseIP(host)
		switch {
		case host == "":
			return a.IP == nil || a.IP.IsUnspecified()
		case ip == nil:
			return false // a host name: not resolved
		case ip.IsUnspecified():
			return a.IP == nil || a.IP.IsUnspecified()
		}
		return ip.Equal(a.IP)
	case *net.UnixAddr:
		if b.Scheme != schemeUnix {
			return false
		}
		if strings.HasPrefix(b.Addr, "@") || strings.HasPrefix(a.Name, "@") {
			return b.Addr == a.Name
		}
		path, err := filepath.Abs(b.Addr)
		if err != nil {
			return false
		}
		name, err := filepath.Abs(a.Name)
		return err == nil && name == path
	}
	return false
}

// File returns a duplicate of the socket behind l, a listener from this
// package (or any listener with a SyscallConn method, such as
// *net.TCPListener), for handing on to a child process through
// exec.Cmd.ExtraFiles. The caller closes the file; l stays open and
// non-blocking. (The File method of *net.TCPListener differs there: exec
// switches its file to blocking mode, and with it the socket l shares.)
// File is safe for concurrent use.
//
// A *net.UnixListener from [Bind.Listen] removes its socket file on
// Close; call its SetUnlinkOnClose(false) first if the child is to keep
// serving on the path after the parent closes l.
//
// File returns an error wrapping errors.ErrUnsupported for other
// listeners and on systems without descriptor passing, and the
// error of a closed l.
func File(l net.Listener) (*os.File, error) {
	if t, ok := l.(*tlsListener); ok {
		l = t.Listener
	}
	sc, ok := l.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("bind: file of %T: %w", l, errors.ErrUnsupported)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("bind: file of %s: %w", l.Addr(), err)
	}
	dup := -1
	err = control(rc, func(fd uintptr) (err error) {
		dup, err = dupFD(int(fd))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bind: file of %s: %w", l.Addr(), err)
	}
	// os.NewFile, unlike net's File, does not mark the file as one to
	// turn blocking when exec asks for its descriptor.
	return os.NewFile(uintptr(dup), l.Addr().Network()+":"+l.Addr().String()), nil
}

// FromFile rebuilds a listener from f, a listening socket such as one
// [File] returned and a child received; b says what it serves. The
// listener gets its own duplicate of the descriptor: the caller still
// closes f. For a tcp or ssl bind the socket must be TCP, for unix a
// unix socket; for ssl, and fd or systemd with a certificate, the
// listener serves TLS. Options that shape a new socket (backlog,
// reuseport, mode) are not applied. A unix listener from FromFile does
// not remove its socket file on Close.
//
// FromFile is safe for concurrent use. It returns a *[ParseError] for an
// invalid b, an error if f is not a listening socket of the kind b
// needs, and the certificate loading errors of [Bind.Listen].
func FromFile(f *os.File, b Bind) (net.Listener, error) {
	if reason := b.check(); reason != "" {
		return nil, &ParseError{URL: b.String(), Reason: reason}
	}
	l, err := fileListener(f, b.Scheme)
	if err == nil {
		var tl net.Listener
		if tl, err = b.wrapTLS(l); err != nil {
			l.Close()
		}
		l = tl
	}
	if err != nil {
		return nil, fmt.Errorf("bind %q: %w", b.String(), err)
	}
	return l, nil
}

// fileListener returns a listener on a duplicate of f's socket, checking
// that it is listening and, for tcp, ssl and unix schemes, its kind.
func fileListener(f *os.File, scheme string) (net.Listener, error) {
	l, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	var kind string
	switch l.(type) {
	case *net.TCPListener:
		kind = schemeTCP
	case *net.UnixListener:
		kind = schemeUnix
	}
	want := scheme
	if want == schemeSSL {
		want = schemeTCP
	}
	if want != schemeFD && want != schemeSystemd && want != kind {
		l.Close()
		return nil, fmt.Errorf("%s is a %s socket, not %s", f.Name(), l.Addr().Network(), want)
	}
	rc, err := l.(syscall.Conn).SyscallConn()
	if err == nil {
		err = control(rc, checkListening)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return l, nil
}

// listenFD returns a listener that owns descriptor fd: it checks fd on a
// duplicate, and closes fd only once the listener holds its own copy,
// so a wrong number never closes a descriptor someone else uses.
func listenFD(fd int, scheme string) (net.Listener, error) {
	dup, err := dupFD(fd)
	if errors.Is(err, syscall.EBADF) {
		return nil, fmt.Errorf("descriptor %d: %w: %w", fd, ErrNotInherited, err)
	}
	if err != nil {
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	f := os.NewFile(uintptr(dup), "fd://"+strconv.Itoa(fd))
	l, err := fileListener(f, scheme)
	f.Close()
	if err != nil {
		return nil, err
	}
	closeFD(fd)
	return l, nil
}
