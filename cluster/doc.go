// Package cluster runs a Hatago server as a cluster of worker processes
// under a master, as Puma's cluster mode does.
//
// Go cannot fork a running runtime, so the master re-executes its own
// binary as each worker, handing on its listening sockets as inherited
// descriptors: every worker accepts from the same kernel queue. A worker
// learns its place from Current, serves on Listeners, and runs Serve,
// which reports its boot and then checks in with its stats over a pipe (a
// unix socket pair). When the master dies the pipe closes and Serve
// returns ErrMasterGone, so no worker outlives its master.
//
// The Master supervises: it kills workers that miss their boot or
// check-in timeout, respawns the dead with a growing delay, reports a
// crash loop over a time window, adds and removes workers (TTIN, TTOU),
// recycles workers after a number of requests or past a memory size, one
// at a time, replaces every worker with the binary now on disk in a
// phased restart (USR1), and re-executes itself with the same PID and
// sockets in a hot restart (USR2). It implements control.ClusterTarget, so
// the control server and `hatago ctl` reach all of it.
//
// Most programs do not use this package directly: hatago.Run starts a
// master when Config.Workers is set, and serves as a worker when a master
// started the process.
package cluster
