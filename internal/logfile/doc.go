// Package logfile writes a log to a file that can be reopened in place,
// as Puma's stdout_redirect does, so that logrotate (or an operator) can
// move the file away and have the server start a new one on SIGHUP.
//
// # Rotation
//
// logrotate renames app.log to app.log.1 and signals the server; the
// server calls [File.Reopen], which opens app.log anew and swaps it in.
// Writes that were already under way finish in app.log.1, which is then
// closed; later writes go to the new app.log. No write is split between
// the two files or lost:
//
//	f, err := logfile.Open("/var/log/hatago/app.log")
//	...
//	log := slog.New(slog.NewTextHandler(f, nil))
//	hup := make(chan os.Signal, 1)
//	signal.Notify(hup, syscall.SIGHUP)
//	go func() {
//		for range hup {
//			if err := f.Reopen(); err != nil {
//				log.Error("reopen log", "err", err)
//			}
//		}
//	}()
//
// Each [File.Write] is normally one write(2) to a file opened with
// O_APPEND, so lines written by separate Writes do not interleave, even
// between processes appending to the same file on a local file system
// (each cluster worker can open the path itself).
//
// # Standard error
//
// On Unix, [File.RedirectStderr] puts the file on descriptor 2 too, and
// [File.Reopen] moves it along, so that what bypasses the logger (a
// panic's stack trace, the runtime's fatal errors, a library writing to
// os.Stderr) lands in the same log.
package logfile
