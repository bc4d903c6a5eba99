// Package control is the control plane of a Hatago server: a small HTTP
// server, apart from the application's, that reports stats and stops the
// server when asked, and the client and `hatago ctl` command that talk to
// it. It plays the part of Puma's control app and pumactl.
//
// A [Server] serves one [Target] (a Hatago server) on a TCP address or a
// unix socket; a [Client] and the [CLI] call it.
//
// # Endpoints
//
//	GET       /stats              the Stats document as JSON
//	GET|POST  /gc                 run runtime.GC; heap before and after (GCResult)
//	GET       /gc-stats           garbage collector statistics as JSON
//	GET       /goroutines         all goroutine stacks as text (pprof debug=2)
//	GET       /thread-backtraces  the same, under Puma's name
//	GET|POST  /stop               answer {"message":"stopping"}, then Target.Stop
//	GET|POST  /halt               answer {"message":"halting"}, then Target.Halt
//	GET       /metrics            Prometheus text format 0.0.4 (see WriteMetrics)
//
// Errors are JSON objects {"error": "..."}: 404 for an unknown path, 405
// (with an Allow header) for a method a path does not take, 500 if the
// target panics. Stop and halt accept GET because pumactl sends it.
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
//
// It prints tables by default and the server's JSON with --json, and exits
// 1 if the server is unreachable or refuses the token, 2 on a usage error.
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
package control
