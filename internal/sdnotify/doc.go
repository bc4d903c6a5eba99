// Package sdnotify speaks systemd's notify protocol (sd_notify(3)), with
// the standard library only.
//
// A service of Type=notify or Type=notify-reload tells systemd about its
// state by sending newline-separated KEY=VALUE assignments as one datagram
// to the unix socket named by $NOTIFY_SOCKET:
//
//	READY=1                        startup finished; systemd starts the units ordered after
//	RELOADING=1\nMONOTONIC_USEC=N  a reload began (see [Reloading]); READY=1 ends it
//	STOPPING=1                     shutdown began
//	WATCHDOG=1                     still alive (see [WatchdogInterval])
//	STATUS=text                    a line for systemctl status
//	MAINPID=N                      the main process is now N
//
// [Notify] sends such a message; it does nothing, and reports false, when
// the process was not started by systemd. The unit's NotifyAccess= decides
// which processes systemd listens to: with NotifyAccess=main only the main
// process (the cluster master, not its workers) may notify.
//
// # Watchdog
//
// With WatchdogSec= in the unit, systemd sets $WATCHDOG_USEC and kills the
// service if no WATCHDOG=1 arrives within that interval. [WatchdogInterval]
// reads it; ping at half of it, as sd_watchdog_enabled(3) advises:
//
//	if d, ok := sdnotify.WatchdogInterval(); ok {
//		tick := time.NewTicker(d / 2)
//		defer tick.Stop()
//		for {
//			select {
//			case <-tick.C:
//				sdnotify.Notify("WATCHDOG=1")
//			case <-ctx.Done():
//				return
//			}
//		}
//	}
//
// Ping from the loop whose progress means the service is healthy (for a
// cluster master, the loop that supervises the workers), not from a
// goroutine that does nothing else: that would only prove the Go runtime
// is scheduling.
//
// [sd_notify(3)]: https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html
package sdnotify
