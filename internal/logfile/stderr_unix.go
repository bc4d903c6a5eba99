//go:build unix && !linux

package logfile

import (
	"os"
	"syscall"
)

// dupStderr makes descriptor 2 refer to f's open file; dup2 replaces it
// atomically.
func dupStderr(f *os.File) error {
	return control(f, func(fd int) error { return syscall.Dup2(fd, 2) })
}
