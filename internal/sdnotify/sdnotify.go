package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// ErrUnsupportedSocket is returned by [Notify] when $NOTIFY_SOCKET is
// neither an absolute path nor an abstract socket name starting with '@'
// (systemd's vsock:CID:PORT form is not supported).
var ErrUnsupportedSocket = errors.New("sdnotify: NOTIFY_SOCKET is not a unix socket path or @name")

// writeTimeout bounds how long [Notify] waits for room in the socket's
// queue; tests shorten it.
var writeTimeout = 5 * time.Second

// Notify sends state, one or more newline-separated KEY=VALUE assignments
// such as "READY=1" or "STATUS=serving", as one datagram to the unix
// datagram socket named by $NOTIFY_SOCKET. A name starting with '@' is an
// abstract socket (Linux): the '@' stands for the leading NUL byte.
//
// Notify reports whether it sent the message. When $NOTIFY_SOCKET is unset
// or empty (the process was not started by systemd, or by a unit whose
// type does not listen) it returns false and a nil error, so callers can
// notify unconditionally. Otherwise it returns [ErrUnsupportedSocket] for a
// name it cannot use, or the error from dialling or writing the socket.
// A datagram socket's queue is short (net.unix.max_dgram_qlen); if systemd
// does not drain it within 5 seconds, Notify gives up with an error that
// wraps [os.ErrDeadlineExceeded] rather than block its caller, such as a
// watchdog loop, for good.
// Notify leaves $NOTIFY_SOCKET set, so later calls (and child processes
// that inherit the environment) can notify too; the unit's NotifyAccess=
// decides whom systemd believes.
//
// Notify is safe for concurrent use; each call uses its own socket.
func Notify(state string) (bool, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return false, nil
	}
	if name[0] != '/' && name[0] != '@' {
		return false, fmt.Errorf("%w: %q", ErrUnsupportedSocket, name)
	}
	// The net package turns a leading '@' into the NUL byte of an
	// abstract address, as systemd expects.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return false, fmt.Errorf("sdnotify: %w", err)
	}
	n, err := conn.Write([]byte(state))
	if err != nil {
		return false, fmt.Errorf("sdnotify: %w", err)
	}
	if n != len(state) {
		return false, fmt.Errorf("sdnotify: short write to %s: %d of %d bytes", name, n, len(state))
	}
	return true, nil
}

// Reloading returns the message that starts a reload for a unit of
// Type=notify-reload: "RELOADING=1\nMONOTONIC_USEC=" and the current
// CLOCK_MONOTONIC time in microseconds, which systemd requires so that it
// can tell this reload from an earlier one. Send it with [Notify] when the
// reload begins, and "READY=1" when it has finished.
//
// Reloading is safe for concurrent use. On systems other than Linux, where
// systemd does not run, it returns "RELOADING=1" alone.
func Reloading() string {
	usec, ok := monotonicUsec()
	if !ok {
		return "RELOADING=1"
	}
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatUint(usec, 10)
}

// WatchdogInterval returns the watchdog interval systemd set for this
// process (WatchdogSec= in the unit, passed as $WATCHDOG_USEC), and true.
// It returns false when there is no watchdog: $WATCHDOG_USEC is unset, not
// a positive whole number of microseconds, or $WATCHDOG_PID names another
// process (the variables leaked from a parent). A $WATCHDOG_PID that is
// not a number also gives false.
//
// The interval is the whole timeout; send "WATCHDOG=1" with [Notify] at
// least twice per interval, as sd_watchdog_enabled(3) advises.
// WatchdogInterval is safe for concurrent use and leaves the variables
// set.
func WatchdogInterval() (time.Duration, bool) {
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" {
		n, err := strconv.Atoi(pid)
		if err != nil || n != os.Getpid() {
			return 0, false
		}
	}
	usec, err := strconv.ParseUint(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec == 0 || usec > uint64(1<<63-1)/uint64(time.Microsecond) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond, true
}
