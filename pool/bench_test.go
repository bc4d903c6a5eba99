package pool

import (
	"context"
	"testing"
)

// BenchmarkAdmission is the whole admission path of a request that finds a
// free slot: Acquire, Release (which records queue time and latency), and
// the stats it feeds.
func BenchmarkAdmission(b *testing.B) {
	p := New(Config{Max: 64, Backlog: 64})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		p.Release(s)
	}
}

// BenchmarkAdmissionParallel is the same path from GOMAXPROCS goroutines at
// once, contending for the pool's lock.
func BenchmarkAdmissionParallel(b *testing.B) {
	p := New(Config{Max: 64, Backlog: 64})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			s, err := p.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p.Release(s)
		}
	})
}

// BenchmarkQueued is the slow path: one slot, so every request beyond the
// first waits in the backlog and is handed the slot on release.
func BenchmarkQueued(b *testing.B) {
	p := New(Config{Max: 1, Backlog: 1 << 16})
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			s, err := p.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p.Release(s)
		}
	})
}

// BenchmarkStats is one stats read, as the control server makes it.
func BenchmarkStats(b *testing.B) {
	p := New(Config{Max: 64})
	b.ReportAllocs()
	for b.Loop() {
		p.Stats()
	}
}
