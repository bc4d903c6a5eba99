package pool

import (
	"time"

	"github.com/hatago/hatago/internal/histogram"
)

// Stats is a snapshot of a Pool.
type Stats struct {
	Min, Max     int // configured bounds on slots
	BacklogLimit int // configured bound on the backlog

	Running int // slots started, busy or idle
	Busy    int // slots held by a request
	Backlog int // requests waiting for a slot
	// BacklogMax is the largest backlog since the previous call to Stats:
	// each call starts a new period, as Puma's backlog_max does.
	BacklogMax int

	Requests uint64 // requests released since start
	Rejected uint64 // Acquire calls refused with ErrFull
	Started  uint64 // slots started
	Trimmed  uint64 // slots trimmed for idleness

	// QueueTime and Latency describe the recent window (Config.Window):
	// between one and two windows of requests. Latency runs from Acquire to
	// Release, so it includes the queue time.
	QueueTime, Latency Summary
	// QueueTimeTotal and LatencyTotal sum every request since start.
	QueueTimeTotal, LatencyTotal time.Duration
}

// Capacity returns how many more requests could start now without waiting:
// Puma's pool_capacity.
func (s Stats) Capacity() int { return s.Max - s.Busy }

// Summary holds percentiles of a distribution of durations. Each is exact to
// within about 9% (one histogram bucket) and never above Max.
type Summary struct {
	Count              uint64
	P50, P90, P99, Max time.Duration
}

func summarize(h *histogram.Histogram) Summary {
	return Summary{
		Count: h.Count(),
		P50:   h.Quantile(0.50),
		P90:   h.Quantile(0.90),
		P99:   h.Quantile(0.99),
		Max:   h.Max(),
	}
}

// Stats returns a snapshot of the pool and starts a new BacklogMax period.
func (p *Pool) Stats() Stats {
	now := time.Now()
	p.mu.Lock()
	s := Stats{
		Min:            p.cfg.Min,
		Max:            p.cfg.Max,
		BacklogLimit:   p.cfg.Backlog,
		Running:        p.running,
		Busy:           p.busy,
		Backlog:        p.waiters.n,
		BacklogMax:     p.backlogMax,
		Requests:       p.requests,
		Rejected:       p.rejected,
		Started:        p.starts,
		Trimmed:        p.trims,
		QueueTimeTotal: p.queueSum,
		LatencyTotal:   p.latencySum,
	}
	p.backlogMax = p.waiters.n
	queue := p.queueTime.Snapshot(now)
	latency := p.latency.Snapshot(now)
	p.mu.Unlock()
	s.QueueTime = summarize(&queue)
	s.Latency = summarize(&latency)
	return s
}
