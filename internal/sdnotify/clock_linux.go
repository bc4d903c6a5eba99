package sdnotify

import (
	"syscall"
	"unsafe"
)

// clockMonotonic is CLOCK_MONOTONIC from <time.h>, the clock systemd
// compares MONOTONIC_USEC with.
const clockMonotonic = 1

// monotonicUsec reads CLOCK_MONOTONIC in microseconds. The Go runtime's
// monotonic clock is not exposed as an absolute time, so it asks the
// kernel with clock_gettime(2).
func monotonicUsec() (uint64, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3, true
}
