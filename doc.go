// Package hatago is an application server for any http.Handler: what Puma,
// Unicorn and Gunicorn give Ruby and Python teams, for Go.
//
// A Server admits each request onto a slot, a unit of bounded concurrency
// (Puma's thread). Slots start lazily up to Config.MaxSlots and close again
// down to Config.MinSlots after Config.SlotIdleTimeout idle. When every slot
// is busy, requests wait in a bounded backlog; past its bound they get 503
// with Retry-After at once, instead of piling up goroutines and memory as
// plain net/http does under overload. Every request's queue time is measured
// and visible to the handler (QueueTime), in the access log and in the stats.
//
// # Serving
//
// One call serves a handler until SIGINT, SIGTERM or a context ends it:
//
//	err := hatago.Run(ctx, mux, hatago.Config{MaxSlots: 32})
//
// Binaries that embed Hatago give their operators Puma's flags and HATAGO_*
// variables with Config.Env and Config.Flags: -b tcp://0.0.0.0:8080 (or
// unix:///run/app.sock, ssl://...?cert=&key=, or sockets from systemd),
// -t MIN:MAX, --request-timeout, --control-url, and the rest.
//
// # Limits and failures
//
// Headers must arrive within HeaderTimeout and fit MaxHeaderBytes (431);
// bodies must fit MaxBodyBytes (413). A request past RequestTimeout has its
// context cancelled with cause ErrRequestTimeout and its client answered at
// once, even if the handler ignores the cancellation. A panic in a handler is
// recovered, logged with its stack, counted and answered 500, and the slot
// serves on; http.ErrAbortHandler keeps its meaning. Failures outside a
// handler go through Config.ErrorHandler.
//
// # Per-slot resources
//
// Package resource declares things each slot owns one of, such as a
// database connection: opened with the slot, closed with it, reached by the
// handler through the request context, and never shared by two requests at
// once. See [resource.New].
//
// # Middleware and shared state
//
// A handler value serves every request goroutine at once. Package middleware
// composes middleware into a Stack that Start freezes, so the chain never
// changes while it is served, and has PerRequest, for handlers that keep
// per-request fields, and Lint, which reports misuse of the ResponseWriter.
// The analyzer in cmd/hatagovet reports handlers that write shared state
// without a lock, and package hatagotest hammers a handler concurrently so
// the race detector sees what a sequential test never would.
//
// # Stopping
//
// Shutdown stops accepting, lets admitted requests finish (those waiting in
// the backlog included) and closes the slots' resources; past its deadline
// it answers what still waits and cuts the rest.
//
// # Stats and control
//
// Server.Stats returns Puma's stats document (started_at, backlog, running,
// pool_capacity, busy_threads, max_threads, requests_count, backlog_max)
// with Hatago's extras. With Config.ControlURL a control server serves it,
// with Prometheus metrics, GC and goroutine dumps, stop and halt, to
// `hatago ctl` (see package control).
package hatago
