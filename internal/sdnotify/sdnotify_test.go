package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen makes a unix datagram socket at name, as systemd does for
// NOTIFY_SOCKET, and points NOTIFY_SOCKET at it for the test.
func listen(t testing.TB, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return conn
}

// receive reads one datagram from conn.
func receive(t testing.TB, conn *net.UnixConn) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	sockets := []struct{ name, addr string }{
		{"path", filepath.Join(t.TempDir(), "notify.sock")},
	}
	if runtime.GOOS == "linux" {
		sockets = append(sockets, struct{ name, addr string }{
			"abstract", fmt.Sprintf("@hatago-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
		})
	}
	states := []string{
		"READY=1",
		"RELOADING=1\nMONOTONIC_USEC=123",
		"STOPPING=1",
		"WATCHDOG=1",
		"STATUS=serving on tcp://0.0.0.0:8080, 4 workers",
		"MAINPID=" + strconv.Itoa(os.Getpid()),
		Reloading(),
	}
	for _, s := range sockets {
		t.Run(s.name, func(t *testing.T) {
			conn := listen(t, s.addr)
			for _, state := range states {
				sent, err := Notify(state)
				if err != nil || !sent {
					t.Fatalf("Notify(%q): got %v, %v; want true, nil", state, sent, err)
				}
				if got := receive(t, conn); got != state {
					t.Errorf("got %q, want %q", got, state)
				}
			}
			if got := os.Getenv("NOTIFY_SOCKET"); got != s.addr {
				t.Errorf("NOTIFY_SOCKET after Notify: got %q, want %q", got, s.addr)
			}
		})
	}
}

func TestNotifyConcurrent(t *testing.T) {
	conn := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
	const n = 50 // more than the socket queue holds: systemd reads as they come
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := Notify("STATUS=" + strconv.Itoa(i))
			errs <- err
		}()
	}
	seen := make(map[string]bool)
	for range n {
		seen[receive(t, conn)] = true
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if want := "STATUS=" + strconv.Itoa(i); !seen[want] {
			t.Errorf("got %v, want %q among them", seen, want)
		}
	}
}

func TestNotifyUnset(t *testing.T) {
	for _, set := range []bool{false, true} {
		t.Run("empty="+strconv.FormatBool(set), func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", "") // restored after the test
			if !set {
				os.Unsetenv("NOTIFY_SOCKET")
			}
			sent, err := Notify("READY=1")
			if sent || err != nil {
				t.Errorf("got %v, %v; want false, nil", sent, err)
			}
		})
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name, socket string
		want         error
	}{
		{"relative path", "notify.sock", ErrUnsupportedSocket},
		{"vsock", "vsock:2:1234", ErrUnsupportedSocket},
		{"missing", filepath.Join(t.TempDir(), "missing.sock"), nil},
		{"stream socket", streamSocket(t), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tt.socket)
			sent, err := Notify("READY=1")
			if sent || err == nil {
				t.Fatalf("got %v, %v; want false and an error", sent, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNotifyQueueFull(t *testing.T) {
	listen(t, filepath.Join(t.TempDir(), "notify.sock")) // never read
	old := writeTimeout
	writeTimeout = 50 * time.Millisecond
	t.Cleanup(func() { writeTimeout = old })
	for i := range 100_000 {
		sent, err := Notify("WATCHDOG=1")
		if err != nil {
			if sent || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("got %v, %v; want false and os.ErrDeadlineExceeded", sent, err)
			}
			t.Logf("queue full after %d messages: %v", i, err)
			return
		}
	}
	t.Fatal("the queue never filled")
}

// streamSocket listens on a unix stream socket, which a datagram cannot
// reach, and returns its path.
func streamSocket(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stream.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return path
}

func TestReloading(t *testing.T) {
	usec := func() uint64 {
		t.Helper()
		msg := Reloading()
		if runtime.GOOS != "linux" {
			if msg != "RELOADING=1" {
				t.Fatalf("got %q, want %q", msg, "RELOADING=1")
			}
			return 0
		}
		v, ok := strings.CutPrefix(msg, "RELOADING=1\nMONOTONIC_USEC=")
		if !ok {
			t.Fatalf("got %q, want RELOADING=1\\nMONOTONIC_USEC=N", msg)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			t.Fatalf("MONOTONIC_USEC: got %q, want a positive number", v)
		}
		return n
	}
	if runtime.GOOS != "linux" {
		usec()
		return
	}
	const pause = 20 * time.Millisecond
	start := time.Now()
	a := usec()
	time.Sleep(pause)
	b := usec()
	elapsed := time.Since(start) // monotonic, as the kernel clock is
	d := time.Duration(b-a) * time.Microsecond
	if d < pause || d > elapsed+time.Millisecond {
		t.Errorf("MONOTONIC_USEC advanced %v over a %v sleep that took %v; want between", d, pause, elapsed)
	}
}

func TestWatchdogInterval(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		name   string
		usec   string
		pid    string // "-" leaves WATCHDOG_PID unset
		want   time.Duration
		wantOK bool
	}{
		{name: "unset", pid: "-"},
		{name: "no pid", usec: "10000000", pid: "-", want: 10 * time.Second, wantOK: true},
		{name: "this pid", usec: "5000000", pid: pid, want: 5 * time.Second, wantOK: true},
		{name: "microseconds", usec: "1500", pid: pid, want: 1500 * time.Microsecond, wantOK: true},
		{name: "other pid", usec: "10000000", pid: strconv.Itoa(os.Getpid() + 1)},
		{name: "bad pid", usec: "10000000", pid: "x"},
		{name: "zero", usec: "0", pid: "-"},
		{name: "negative", usec: "-5", pid: "-"},
		{name: "not a number", usec: "10s", pid: "-"},
		{name: "spaces", usec: " 100", pid: "-"},
		{name: "overflows Duration", usec: "18446744073709551615", pid: "-"},
		{name: "too large", usec: "99999999999999999999", pid: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			if tt.usec == "" {
				os.Unsetenv("WATCHDOG_USEC")
			}
			if tt.pid == "-" {
				os.Unsetenv("WATCHDOG_PID")
			}
			got, ok := WatchdogInterval()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
