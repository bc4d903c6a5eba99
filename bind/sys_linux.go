package bind

import "runtime"

// soReusePort is SO_REUSEPORT, which package syscall lacks on Linux.
var soReusePort = linuxReusePort(runtime.GOARCH)

// linuxReusePort returns SO_REUSEPORT for a Linux architecture: MIPS
// numbers its socket options apart.
func linuxReusePort(arch string) int {
	switch arch {
	case "mips", "mipsle", "mips64", "mips64le":
		return 0x200
	}
	return 0xf
}
