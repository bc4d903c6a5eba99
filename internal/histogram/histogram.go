// Package histogram records durations into fixed log-linear buckets, cheaply
// enough for every request, and answers percentiles from them.
//
// A Histogram is not safe for concurrent use: its owner guards it (package
// pool records under the lock it already holds). Percentiles are exact to
// within one bucket, which is 1/8 of a power of two (about 9%).
package histogram

import (
	"math/bits"
	"time"
)

const (
	subBits    = 3 // 8 sub-buckets per power of two
	subBuckets = 1 << subBits
	// minShift drops the nanoseconds below 1µs-ish resolution: durations
	// are bucketed in units of 1<<minShift ns (1.024µs).
	minShift = 10
	groups   = 35
)

// Buckets is the number of buckets; the last one holds everything from
// about 36 hours up (TestLastBucket).
const Buckets = groups * subBuckets

// Histogram counts durations in log-linear buckets. Its zero value is empty
// and ready to use.
type Histogram struct {
	counts [Buckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

// index returns the bucket of d.
func index(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	u := uint64(d) >> minShift
	if u < subBuckets {
		return int(u)
	}
	// The highest bit picks the group, the next subBits bits the
	// sub-bucket within it.
	hi := bits.Len64(u) - 1 // >= subBits
	group := hi - subBits + 1
	sub := (u >> (hi - subBits)) & (subBuckets - 1)
	i := group*subBuckets + int(sub)
	if i >= Buckets {
		return Buckets - 1
	}
	return i
}

// upper returns the exclusive upper bound of bucket i.
func upper(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(uint64(i+1) << minShift)
	}
	group := i / subBuckets
	sub := uint64(i % subBuckets)
	base := uint64(1) << (group + subBits - 1)
	step := base >> subBits
	return time.Duration((base + (sub+1)*step) << minShift)
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[index(d)]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Sum returns the total of all samples.
func (h *Histogram) Sum() time.Duration { return h.sum }

// Max returns the largest sample, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns an upper bound of the q-quantile (0 < q <= 1): the upper
// edge of the bucket holding it, never above Max. An empty histogram
// answers 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(upper(i), h.max)
		}
	}
	return h.max
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Window keeps percentiles recent: samples go into the current period, and
// a reader sees the current and the previous one. The period turns when a
// reader finds it older than the window length, so a period is at least one
// window long. Like Histogram, it is not safe for concurrent use.
type Window struct {
	cur, prev Histogram
	start     time.Time
	length    time.Duration
}

// NewWindow returns a Window whose periods last at least length, starting
// at now.
func NewWindow(length time.Duration, now time.Time) *Window {
	return &Window{length: length, start: now}
}

// Record adds one sample to the current period.
func (w *Window) Record(d time.Duration) { w.cur.Record(d) }

// Snapshot returns the samples of the previous and current periods merged,
// turning the period first if it is older than the window length.
func (w *Window) Snapshot(now time.Time) Histogram {
	if now.Sub(w.start) >= w.length {
		w.prev = w.cur
		w.cur.Reset()
		w.start = now
	}
	h := w.prev
	h.Merge(&w.cur)
	return h
}
