// Package control is the control plane of a Hatago server: a small HTTP
// server, apart from the application's, that reports stats and stops the
// server when asked, and the client and `hatago ctl` command that talk to
// it. It plays the part of Puma's control app and pumactl.
//
// A [Server] serves one [Target] (a Hatago server) on a TCP address or a
// unix socket; a [Client] and the [CLI] call it. If the target is a
// [ClusterTarget], the master of a cluster of worker processes, the server
// also reports the cluster and takes the cluster commands.
//
// # Endpoints
//
//	GET       /stats              the Stats document as JSON; of a cluster, ClusterStats
//	GET|POST  /gc                 run runtime.GC; heap before and after (GCResult)
//	GET       /gc-stats           garbage collector statistics as JSON
//	GET       /goroutines         all goroutine stacks as text (pprof debug=2)
//	GET       /thread-backtraces  the same, under Puma's name
//	GET|POST  /stop               answer {"message":"stopping"}, then Target.Stop
//	GET|POST  /halt               answer {"message":"halting"}, then Target.Halt
//	GET|POST  /restart            answer {"message":"restarting"}, then ClusterTarget.Restart
//	GET|POST  /phased-restart     ClusterTarget.PhasedRestart; {"message":"phased restart started"}
//	GET|POST  /worker-count-up    ClusterTarget.WorkerCountUp; {"message":"worker count up"}
//	GET|POST  /worker-count-down  ClusterTarget.WorkerCountDown; {"message":"worker count down"}
//	GET       /metrics            Prometheus text format 0.0.4 (see WriteMetrics)
//
// Errors are JSON objects {"error": "..."}: 404 for an unknown path, 405
// (with an Allow header) for a method a path does not take, 500 if the
// target panics. Commands that act accept GET because pumactl sends it.
//
// The four cluster commands answer 501 Not Implemented, {"error": "not in
// cluster mode (start with -w N)"}, when the target is not a
// [ClusterTarget]: the server cannot do them at all, which a [Client]
// reports as [ErrNotCluster]. When the master refuses one, say a phased
// restart while one is under way, they answer 409 Conflict with the
// master's reason as the error ([ErrConflict]). /restart answers before it
// calls Restart, as /stop does, since a hot restart replaces the process;
// an error of Restart goes to the log only.
//
// Of a cluster, /stats and /metrics wait at most 500ms for the workers'
// fresh stats; a worker that does not answer in time is reported from its
// last check-in, and the document's "live" is false.
//
// The /gc-stats keys are num_gc, num_forced_gc, pause_total_ns,
// last_pause_ns, last_gc (RFC 3339, absent before the first collection),
// gc_cpu_fraction, heap_alloc, heap_sys, heap_idle, heap_inuse,
// heap_released, heap_objects, next_gc, total_alloc, mallocs, frees and
// sys (from [runtime.MemStats]), gogc_percent and memory_limit_bytes
// (from [runtime/metrics]) and goroutines.
//
// # Authentication
//
// Every request, including one for an unknown path, must carry the
// server's token, either as Puma passes it, in the query
// (/stats?token=TOKEN), or in a header (Authorization: Bearer TOKEN).
// Tokens are compared in constant time. A request without a token is
// answered 401, one with a wrong token 403. If [Config].Token is empty,
// [New] generates a random token, which [Server.Token] returns and Start
// logs once. A unix socket is made mode 0600, so only its owner can
// connect at all; prefer it on shared hosts.
//
// # Command line
//
// `hatago ctl` takes the URL and token from flags or from the environment
// variables HATAGO_CONTROL_URL and HATAGO_CONTROL_TOKEN:
//
//	hatago ctl --control-url tcp://127.0.0.1:9293 --control-token s3cret stats
//	export HATAGO_CONTROL_URL=unix:///run/hatago/control.sock HATAGO_CONTROL_TOKEN=s3cret
//	hatago ctl stats --json | jq .backlog
//	hatago ctl gc-stats
//	hatago ctl goroutines > stacks.txt
//	hatago ctl metrics
//	hatago ctl stop
//	hatago ctl phased-restart
//	hatago ctl worker-count-up
//
// It prints tables by default and the server's JSON with --json, and exits
// 1 if the server is unreachable, refuses the token or refuses the command
// (printing the server's reason), 2 on a usage error. Against a cluster,
// stats prints the master's figures and then a table of the workers: index,
// PID, phase, booted, age of the last check-in, busy and maximum slots,
// backlog, requests, resident memory and state (booting, serving or
// stopping and why).
//
// # Metrics
//
// /metrics and [WriteMetrics] write these families:
//
//	hatago_start_time_seconds        gauge    start time, seconds since the Unix epoch
//	hatago_build_info{version}       gauge    always 1
//	hatago_backlog                   gauge    requests waiting for a slot
//	hatago_backlog_max               gauge    largest backlog since the previous read
//	hatago_backlog_limit             gauge    configured backlog bound
//	hatago_pool_capacity             gauge    requests that could start without waiting
//	hatago_slots_running             gauge    slots started (busy or idle)
//	hatago_slots_busy                gauge    slots serving a request
//	hatago_slots_max                 gauge    configured maximum slots
//	hatago_slots_min                 gauge    configured minimum slots
//	hatago_goroutines                gauge    goroutines in the process
//	hatago_heap_bytes                gauge    bytes of allocated heap objects
//	hatago_rss_bytes                 gauge    resident memory, 0 where unknown
//	hatago_requests_total            counter  requests served
//	hatago_requests_rejected_total   counter  requests answered 503, backlog full
//	hatago_requests_timed_out_total  counter  requests past the request timeout
//	hatago_panics_total              counter  handler panics recovered
//	hatago_slots_started_total       counter  slots started
//	hatago_slots_trimmed_total       counter  idle slots trimmed
//	hatago_queue_time_seconds        summary  queue time, quantiles 0.5 0.9 0.99 1
//	hatago_latency_seconds           summary  arrival to handler return, same quantiles
//
// The summaries' quantiles cover the recent window of [Percentiles]; their
// _sum and _count are running totals since start, so rate() over them gives
// the mean. Reading /metrics or /stats starts a new backlog_max period, as
// in Puma.
//
// Of a cluster, /metrics and [WriteClusterMetrics] write first the master's
// families:
//
//	hatago_cluster_start_time_seconds     gauge    master start time; a hot restart keeps it
//	hatago_cluster_workers                gauge    workers the master keeps running
//	hatago_cluster_booted_workers         gauge    workers booted and not told to stop
//	hatago_cluster_old_workers            gauge    running workers of an earlier phase
//	hatago_cluster_phase                  gauge    phased restarts begun
//	hatago_cluster_worker_restarts_total  counter  workers started again after dying unasked
//	hatago_cluster_worker_recycles_total  counter  workers replaced at their request or memory limit
//	hatago_cluster_worker_timeouts_total  counter  workers killed for missing a timeout
//	hatago_cluster_hot_restarts_total     counter  hot restarts of the master
//	hatago_cluster_crash_loop             gauge    1 while workers keep dying soon after start
//	hatago_cluster_stats_live             gauge    0 if some workers' figures are from their last check-in
//
// then, with the labels worker="INDEX" and pid="PID", one sample per worker
// of
//
//	hatago_worker_booted                    gauge  1 once the worker serves
//	hatago_worker_stopping                  gauge  1 once the master told it to stop
//	hatago_worker_phase                     gauge  phase it was started in
//	hatago_worker_start_time_seconds        gauge  when the master started it
//	hatago_worker_last_checkin_age_seconds  gauge  seconds since its last report (absent before)
//
// and last every family of the first list, with the same labels, for each
// worker that has sent its stats. Each family appears once, with one # HELP
// and # TYPE line, however many workers there are. An old worker and its
// replacement share an index, not a pid.
package control
