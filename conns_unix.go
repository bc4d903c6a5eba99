//go:build unix

package hatago

import (
	"net"
	"syscall"
)

// requestWaiting reports whether bytes from the peer wait unread in c's
// socket: a request net/http has not yet read, because its goroutine has
// not run since the connection was accepted. It peeks, so the bytes stay
// for net/http. It does not take the connection's read lock, which a
// blocked Read holds.
func requestWaiting(c net.Conn) bool {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn() // a TLS connection: its record bytes count
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	var b [1]byte
	if err := rc.Control(func(fd uintptr) {
		n, _, _ = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); err != nil {
		return false
	}
	return n > 0
}
