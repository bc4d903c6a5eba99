//go:build !linux

package sdnotify

// monotonicUsec reports false: systemd runs on Linux only, and other
// systems' CLOCK_MONOTONIC would mean nothing to it.
func monotonicUsec() (uint64, bool) { return 0, false }
