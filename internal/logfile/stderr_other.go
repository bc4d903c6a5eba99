//go:build !unix

package logfile

import (
	"errors"
	"os"
)

// dupStderr fails: there is no dup2 to move descriptor 2 with.
func dupStderr(*os.File) error { return errors.ErrUnsupported }
