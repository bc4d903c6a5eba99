package bind

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/testcert"
)

// TestHelperProcess is not a test: the tests below run the test binary
// again with it, as a child that inherits sockets. The child parses the
// bind URLs in HATAGO_BIND_URLS, opens them with ListenAll (after
// Systemd if HATAGO_BIND_SYSTEMD=1), and answers one connection on each
// listener with its bind URL.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("HATAGO_BIND_HELPER") != "1" {
		t.Skip("helper process for TestSystemdActivation and TestFDInherit")
	}
	if err := runHelper(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper() error {
	var inherited []Inherited
	if os.Getenv("HATAGO_BIND_SYSTEMD") == "1" {
		var err error
		if inherited, err = Systemd(os.Getenv, true); err != nil {
			return err
		}
		for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
			if v, ok := os.LookupEnv(k); ok {
				return fmt.Errorf("%s=%s still set", k, v)
			}
		}
		if len(inherited) == 0 {
			return errors.New("Systemd found no sockets")
		}
	}
	var binds []Bind
	for _, u := range strings.Fields(os.Getenv("HATAGO_BIND_URLS")) {
		b, err := Parse(u)
		if err != nil {
			return err
		}
		binds = append(binds, b)
	}
	ls, err := ListenAll(context.Background(), binds, inherited)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ls))
	for i, l := range ls {
		wg.Go(func() {
			defer l.Close()
			c, err := l.Accept()
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			_, errs[i] = fmt.Fprintf(c, "%s\n", binds[i])
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startHelper starts the test binary as a helper child with files as
// descriptors 3, 4, and so on. With systemd, a shell sets LISTEN_PID to
// the child's PID and execs it, as systemd-socket-activate does.
func startHelper(t *testing.T, urls []string, files []*os.File, env ...string) (wait func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	args := []string{os.Args[0], "-test.run=^TestHelperProcess$"}
	systemd := false
	for _, e := range env {
		systemd = systemd || strings.HasPrefix(e, "LISTEN_FDS=")
	}
	var cmd *exec.Cmd
	if systemd {
		sh, err := exec.LookPath("sh")
		if err != nil {
			cancel()
			t.Skip("no sh to set LISTEN_PID:", err)
		}
		cmd = exec.CommandContext(ctx, sh, append([]string{"-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`}, args...)...)
		env = append(env, "HATAGO_BIND_SYSTEMD=1")
	} else {
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "LISTEN_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Env = append(cmd.Env, "HATAGO_BIND_HELPER=1", "HATAGO_BIND_URLS="+strings.Join(urls, " "))
	cmd.ExtraFiles = files
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	waited := sync.OnceValue(func() error {
		defer cancel()
		return cmd.Wait()
	})
	// Reap the child even if the test stops early; say what it said.
	t.Cleanup(func() {
		cancel()
		if err := waited(); err != nil && !t.Failed() {
			t.Errorf("helper: %v\n%s", err, out.Bytes())
		} else if t.Failed() {
			t.Logf("helper: %v\n%s", err, out.Bytes())
		}
	})
	return func() {
		t.Helper()
		if err := waited(); err != nil {
			t.Errorf("helper: %v\n%s", err, out.Bytes())
		}
	}
}

// isNonblock reports whether the socket behind l is in non-blocking mode.
func isNonblock(tb testing.TB, l net.Listener) bool {
	tb.Helper()
	if tl, ok := l.(*tlsListener); ok {
		l = tl.Listener
	}
	rc, err := l.(syscall.Conn).SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var flags uintptr
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		flags, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	}); err != nil {
		tb.Fatal(err)
	}
	if errno != 0 {
		tb.Fatal(errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}

// filesOf returns the sockets of ls for a child, closing them at the
// end of the test.
func filesOf(t *testing.T, ls ...net.Listener) []*os.File {
	t.Helper()
	var files []*os.File
	for _, l := range ls {
		f, err := File(l)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		files = append(files, f)
	}
	return files
}

// TestSystemdActivation passes a TCP and a unix socket to a child the
// way systemd does; the child matches one by address and one by name.
func TestSystemdActivation(t *testing.T) {
	tcpL := mustListen(t, "tcp://127.0.0.1:0")
	path := filepath.Join(shortDir(t), "admin.sock")
	unixL := mustListen(t, "unix://"+path)
	unixL.(*net.UnixListener).SetUnlinkOnClose(false) // the child serves on

	tcpURL := "tcp://" + tcpL.Addr().String()
	wait := startHelper(t, []string{tcpURL, "systemd://admin"}, filesOf(t, tcpL, unixL),
		"LISTEN_FDS=2", "LISTEN_FDNAMES=web:admin")
	// Only the child holds the sockets now: if it listened anew on the
	// TCP address instead of taking the inherited socket, it would fail.
	tcpL.Close()
	unixL.Close()

	if got := readLine(t, "tcp", tcpL.Addr().String(), nil); got != tcpURL {
		t.Errorf("tcp: got %q, want %q", got, tcpURL)
	}
	if got := readLine(t, "unix", path, nil); got != "systemd://admin" {
		t.Errorf("unix: got %q, want %q", got, "systemd://admin")
	}
	wait()
}

// TestFDInherit passes TCP, unix and TLS listeners to a child through
// ExtraFiles, as cluster mode will; the child opens them as fd://N.
func TestFDInherit(t *testing.T) {
	certFile, keyFile, pool := testcert.Write(t, t.TempDir())
	tcpL := mustListen(t, "tcp://127.0.0.1:0")
	path := filepath.Join(shortDir(t), "fd.sock")
	unixL := mustListen(t, "unix://"+path)
	unixL.(*net.UnixListener).SetUnlinkOnClose(false)
	tlsL := mustListen(t, "ssl://127.0.0.1:0?cert="+certFile+"&key="+keyFile)

	tlsURL := "fd://5?cert=" + certFile + "&key=" + keyFile
	wait := startHelper(t, []string{"fd://3", "fd://4", tlsURL}, filesOf(t, tcpL, unixL, tlsL))
	for _, l := range []net.Listener{tcpL, unixL, tlsL} {
		if !isNonblock(t, l) {
			t.Errorf("%s: passing its File to a child made it blocking", l.Addr())
		}
		l.Close()
	}

	if got := readLine(t, "tcp", tcpL.Addr().String(), nil); got != "fd://3" {
		t.Errorf("tcp: got %q, want %q", got, "fd://3")
	}
	if got := readLine(t, "unix", path, nil); got != "fd://4" {
		t.Errorf("unix: got %q, want %q", got, "fd://4")
	}
	config := &tls.Config{RootCAs: pool}
	if got := readLine(t, "tcp", tlsL.Addr().String(), config); got != tlsURL {
		t.Errorf("tls: got %q, want %q", got, tlsURL)
	}
	wait()
}
