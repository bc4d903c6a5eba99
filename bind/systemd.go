package bind

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// listenFDsStart is the first descriptor systemd passes (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// Inherited is a listening socket the process received from systemd
// socket activation. Pass the sockets to [ListenAll] so that binds use
// them. An Inherited is a plain value; its Listener is safe for
// concurrent use like any net.Listener.
type Inherited struct {
	// Name is the socket's name from LISTEN_FDNAMES (FileDescriptorName=
	// in the .socket unit), or "unknown" if LISTEN_FDNAMES is unset.
	Name string
	// FD is the descriptor number the socket arrived on: 3, 4, and so on.
	// The listener holds a duplicate; FD itself has been closed.
	FD int
	// Listener is a *net.TCPListener or *net.UnixListener. A unix
	// listener does not remove its socket file on Close: systemd owns it.
	Listener net.Listener
}

// Systemd returns the listening sockets passed by systemd socket
// activation (sd_listen_fds_with_names): LISTEN_FDS sockets from
// descriptor 3 on, named by LISTEN_FDNAMES, if LISTEN_PID is this
// process's ID. It returns no sockets and no error when the process was
// not socket-activated. getenv reads the variables (os.Getenv, or a fake
// in tests).
//
// If unset is true, Systemd removes LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES from the process environment (with os.Unsetenv, whatever
// getenv reads) before returning, in every case, so that child processes
// do not take the sockets for theirs; this is sd_listen_fds(1).
//
// Systemd takes ownership of the descriptors (each listener holds a
// close-on-exec duplicate and the original is closed), so call it once,
// early, and not concurrently with itself. It returns an error for a
// malformed variable or a descriptor that is not a listening stream
// socket; the sockets opened before the failure are closed.
func Systemd(getenv func(string) string, unset bool) ([]Inherited, error) {
	if unset {
		defer func() {
			for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
				os.Unsetenv(k)
			}
		}()
	}
	pidVar := getenv("LISTEN_PID")
	if pidVar == "" {
		return nil, nil
	}
	pid, err := strconv.Atoi(pidVar)
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("bind: bad LISTEN_PID %q", pidVar)
	}
	if pid != os.Getpid() {
		return nil, nil // meant for another process
	}
	fdsVar := getenv("LISTEN_FDS")
	n, err := strconv.Atoi(fdsVar)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("bind: bad LISTEN_FDS %q", fdsVar)
	}
	if n == 0 {
		return nil, nil
	}
	names := make([]string, n)
	if v := getenv("LISTEN_FDNAMES"); v != "" {
		names = strings.Split(v, ":")
		if len(names) != n {
			return nil, fmt.Errorf("bind: LISTEN_FDNAMES has %d names for %d sockets", len(names), n)
		}
	} else {
		for i := range names {
			names[i] = "unknown"
		}
	}
	socks := make([]Inherited, 0, n)
	for i, name := range names {
		fd := listenFDsStart + i
		l, err := listenFD(fd, schemeSystemd)
		if err != nil {
			for _, s := range socks {
				s.Listener.Close()
			}
			return nil, fmt.Errorf("bind: LISTEN_FDS socket %d (%s): %w", fd, name, err)
		}
		socks = append(socks, Inherited{Name: name, FD: fd, Listener: l})
	}
	return socks, nil
}
