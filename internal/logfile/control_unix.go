//go:build unix

package logfile

import (
	"fmt"
	"os"
)

// control calls fn with f's descriptor, kept open for the duration, as
// (*os.File).Fd would give it but without putting f in blocking mode.
func control(f *os.File, fn func(fd int) error) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	return ferr
}
