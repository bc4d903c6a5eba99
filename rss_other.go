//go:build !linux

package hatago

// residentBytes is unknown outside Linux.
func residentBytes() uint64 { return 0 }
