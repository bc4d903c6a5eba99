package control

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// GCResult is the answer of the /gc endpoint: heap figures from
// runtime.MemStats before and after one runtime.GC.
type GCResult struct {
	// Message is "gc done".
	Message string `json:"message"`
	// HeapAllocBefore and HeapAllocAfter are MemStats.HeapAlloc, in bytes.
	HeapAllocBefore uint64 `json:"heap_alloc_before"`
	HeapAllocAfter  uint64 `json:"heap_alloc_after"`
	// HeapObjectsBefore and HeapObjectsAfter are MemStats.HeapObjects.
	HeapObjectsBefore uint64 `json:"heap_objects_before"`
	HeapObjectsAfter  uint64 `json:"heap_objects_after"`
	// DurationMS is how long runtime.GC took, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
}

func runGC() GCResult {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	runtime.GC()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return GCResult{
		Message:           "gc done",
		HeapAllocBefore:   before.HeapAlloc,
		HeapAllocAfter:    after.HeapAlloc,
		HeapObjectsBefore: before.HeapObjects,
		HeapObjectsAfter:  after.HeapObjects,
		DurationMS:        float64(took) / float64(time.Millisecond),
	}
}

// gcStats is the answer of the /gc-stats endpoint. The package doc lists
// its keys.
type gcStats struct {
	NumGC         uint32  `json:"num_gc"`
	NumForcedGC   uint32  `json:"num_forced_gc"`
	PauseTotalNs  uint64  `json:"pause_total_ns"`
	LastPauseNs   uint64  `json:"last_pause_ns"`
	LastGC        string  `json:"last_gc,omitempty"`
	GCCPUFraction float64 `json:"gc_cpu_fraction"`
	HeapAlloc     uint64  `json:"heap_alloc"`
	HeapSys       uint64  `json:"heap_sys"`
	HeapIdle      uint64  `json:"heap_idle"`
	HeapInuse     uint64  `json:"heap_inuse"`
	HeapReleased  uint64  `json:"heap_released"`
	HeapObjects   uint64  `json:"heap_objects"`
	NextGC        uint64  `json:"next_gc"`
	TotalAlloc    uint64  `json:"total_alloc"`
	Mallocs       uint64  `json:"mallocs"`
	Frees         uint64  `json:"frees"`
	Sys           uint64  `json:"sys"`
	GOGC          uint64  `json:"gogc_percent"`
	MemoryLimit   uint64  `json:"memory_limit_bytes"`
	Goroutines    int     `json:"goroutines"`
}

func readGCStats() gcStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	st := gcStats{
		NumGC:         m.NumGC,
		NumForcedGC:   m.NumForcedGC,
		PauseTotalNs:  m.PauseTotalNs,
		GCCPUFraction: m.GCCPUFraction,
		HeapAlloc:     m.HeapAlloc,
		HeapSys:       m.HeapSys,
		HeapIdle:      m.HeapIdle,
		HeapInuse:     m.HeapInuse,
		HeapReleased:  m.HeapReleased,
		HeapObjects:   m.HeapObjects,
		NextGC:        m.NextGC,
		TotalAlloc:    m.TotalAlloc,
		Mallocs:       m.Mallocs,
		Frees:         m.Frees,
		Sys:           m.Sys,
		Goroutines:    runtime.NumGoroutine(),
	}
	if m.NumGC > 0 {
		st.LastPauseNs = m.PauseNs[(m.NumGC+255)%256]
		st.LastGC = time.Unix(0, int64(m.LastGC)).UTC().Format(time.RFC3339Nano)
	}
	samples := []metrics.Sample{
		{Name: "/gc/gogc:percent"},
		{Name: "/gc/gomemlimit:bytes"},
	}
	metrics.Read(samples)
	if v := samples[0].Value; v.Kind() == metrics.KindUint64 {
		st.GOGC = v.Uint64()
	}
	if v := samples[1].Value; v.Kind() == metrics.KindUint64 {
		st.MemoryLimit = v.Uint64()
	}
	return st
}

// goroutineDump returns the stacks of all goroutines, in the format of
// an unrecovered panic.
func goroutineDump() ([]byte, error) {
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		return nil, fmt.Errorf("goroutine dump: %w", err)
	}
	return b.Bytes(), nil
}
