package logfile

import (
	"os"
	"syscall"
)

// dupStderr makes descriptor 2 refer to f's open file. dup3 replaces
// descriptor 2 atomically (there is no moment without one), and Linux has
// it on every architecture, while dup2 is missing on arm64 and riscv64.
func dupStderr(f *os.File) error {
	return control(f, func(fd int) error { return syscall.Dup3(fd, 2, 0) })
}
