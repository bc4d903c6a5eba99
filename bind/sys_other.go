//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package bind

import (
	"errors"
	"fmt"
)

func setReusePort(uintptr) error {
	return fmt.Errorf("SO_REUSEPORT: %w", errors.ErrUnsupported)
}

func relisten(uintptr, int) error {
	return fmt.Errorf("backlog: %w", errors.ErrUnsupported)
}

// checkListening cannot tell here; Accept will fail on a socket that
// is not listening.
func checkListening(uintptr) error { return nil }

func dupFD(int) (int, error) {
	return -1, fmt.Errorf("inherited descriptors: %w", errors.ErrUnsupported)
}

func closeFD(int) error { return errors.ErrUnsupported }
