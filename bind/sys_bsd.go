//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package bind

import "syscall"

// soReusePort is SO_REUSEPORT.
const soReusePort = syscall.SO_REUSEPORT
