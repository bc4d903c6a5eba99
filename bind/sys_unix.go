//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package bind

import (
	"errors"
	"os"
	"syscall"
)

// setReusePort sets SO_REUSEPORT on the socket fd.
func setReusePort(fd uintptr) error {
	return os.NewSyscallError("setsockopt SO_REUSEPORT", syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1))
}

// relisten calls listen(2) again on the listening socket fd, which sets
// its queue length to n (capped by the kernel at somaxconn).
func relisten(fd uintptr, n int) error {
	return os.NewSyscallError("listen", syscall.Listen(int(fd), n))
}

// checkListening returns an error unless fd is a listening socket.
func checkListening(fd uintptr) error {
	v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ACCEPTCONN", err)
	}
	if v == 0 {
		return errors.New("not a listening socket")
	}
	return nil
}

// dupFD returns a close-on-exec duplicate of fd.
func dupFD(fd int) (int, error) {
	// Hold ForkLock so that no child forked meanwhile inherits the dup.
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	dup, err := syscall.Dup(fd)
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	syscall.CloseOnExec(dup)
	return dup, nil
}

// closeFD closes the descriptor fd.
func closeFD(fd int) error { return syscall.Close(fd) }
