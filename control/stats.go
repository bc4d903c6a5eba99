package control

import "time"

// Stats is the stats document of one Hatago process in single mode.
//
// The first block of fields carries Puma's names and meanings, so exporters
// and dashboards written for Puma's stats read it unchanged. Puma speaks of
// threads where Hatago speaks of slots: a slot is one unit of admitted
// concurrency (see package pool).
//
// The fields after it are Hatago's own.
type Stats struct {
	// StartedAt is when the server started serving, in UTC.
	StartedAt time.Time `json:"started_at"`
	// Backlog is the number of requests waiting for a free slot now.
	Backlog int `json:"backlog"`
	// Running is the number of slots started now (busy or idle).
	Running int `json:"running"`
	// PoolCapacity is how many more requests could start at once without
	// waiting: idle slots plus slots not yet started.
	PoolCapacity int `json:"pool_capacity"`
	// BusyThreads is the number of slots serving a request now.
	BusyThreads int `json:"busy_threads"`
	// MaxThreads is the configured maximum number of slots.
	MaxThreads int `json:"max_threads"`
	// RequestsCount is the number of requests served since start.
	RequestsCount uint64 `json:"requests_count"`
	// BacklogMax is the largest backlog seen since the previous stats
	// document was made, as in Puma: each read starts a new period.
	BacklogMax int `json:"backlog_max"`

	// MinThreads is the configured minimum number of slots.
	MinThreads int `json:"min_threads"`
	// BacklogLimit is the configured bound of the backlog; past it
	// requests are answered 503.
	BacklogLimit int `json:"backlog_limit"`
	// Rejected counts requests answered 503 because the backlog was full.
	Rejected uint64 `json:"rejected_count"`
	// TimedOut counts requests that ran past the request timeout.
	TimedOut uint64 `json:"timed_out_count"`
	// Panics counts handler panics recovered by the server.
	Panics uint64 `json:"panic_count"`
	// SlotsStarted and SlotsTrimmed count slot starts and idle trims.
	SlotsStarted uint64 `json:"slots_started"`
	SlotsTrimmed uint64 `json:"slots_trimmed"`
	// QueueTime and Latency are percentiles over the recent window
	// (see Percentiles). Latency runs from arrival to the handler's return
	// and so includes the queue time.
	QueueTime Percentiles `json:"queue_time"`
	Latency   Percentiles `json:"latency"`
	// Goroutines is runtime.NumGoroutine at the time of the document.
	Goroutines int `json:"goroutines"`
	// HeapBytes is the bytes of allocated heap objects (runtime/metrics
	// /memory/classes/heap/objects:bytes).
	HeapBytes uint64 `json:"heap_bytes"`
	// RSSBytes is the process's resident memory (Linux: /proc/self/statm;
	// 0 where unknown). Cluster recycling by memory compares it.
	RSSBytes uint64 `json:"rss_bytes"`
	// PID is the process ID.
	PID int `json:"pid"`
	// Version is the Hatago version or the build's module version.
	Version string `json:"version,omitempty"`
}

// Percentiles summarises a distribution of durations, in milliseconds.
// Count is the number of samples in the recent window the percentiles were
// computed over; TotalCount and TotalSeconds count every sample since start,
// as a Prometheus summary's _count and _sum do.
type Percentiles struct {
	Count        uint64  `json:"count"`
	P50          float64 `json:"p50_ms"`
	P90          float64 `json:"p90_ms"`
	P99          float64 `json:"p99_ms"`
	Max          float64 `json:"max_ms"`
	TotalCount   uint64  `json:"total_count"`
	TotalSeconds float64 `json:"total_seconds"`
}

// Target is what a control server controls: one Hatago server.
// Implementations must be safe for concurrent use.
type Target interface {
	// Stats returns a fresh stats document.
	Stats() Stats
	// Stop begins a graceful stop and returns at once.
	Stop()
	// Halt stops the process at once, without draining.
	Halt()
}
