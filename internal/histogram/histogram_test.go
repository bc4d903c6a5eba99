package histogram

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsAreOrderedAndCover(t *testing.T) {
	prev := time.Duration(0)
	for i := range Buckets {
		u := upper(i)
		if u <= prev {
			t.Fatalf("upper(%d) = %v, not above upper(%d) = %v", i, u, i-1, prev)
		}
		prev = u
	}
	for _, d := range []time.Duration{0, 1, time.Microsecond, 999 * time.Microsecond, time.Millisecond,
		37 * time.Millisecond, time.Second, time.Minute, time.Hour} {
		i := index(d)
		if d >= upper(i) {
			t.Errorf("%v in bucket %d whose upper bound is %v", d, i, upper(i))
		}
		if i > 0 && d < upper(i-1) {
			t.Errorf("%v in bucket %d but below the previous bound %v", d, i, upper(i-1))
		}
	}
}

func TestQuantileWithinOneBucket(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var all []time.Duration
	for range 100000 {
		d := time.Duration(r.ExpFloat64() * float64(5*time.Millisecond))
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got) > float64(exact)*1.13+float64(time.Microsecond) {
			t.Errorf("Quantile(%v) = %v, want within a bucket above %v", q, got, exact)
		}
	}
	if got, want := h.Max(), all[len(all)-1]; got != want {
		t.Errorf("Max() = %v, want %v", got, want)
	}
	if h.Count() != 100000 {
		t.Errorf("Count() = %d, want 100000", h.Count())
	}
}

func TestEmptyAndReset(t *testing.T) {
	var h Histogram
	if got := h.Quantile(0.99); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
	h.Record(time.Second)
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 || h.Sum() != 0 {
		t.Errorf("after Reset: count %d max %v sum %v, want zeros", h.Count(), h.Max(), h.Sum())
	}
}

func TestWindowForgetsOldPeriods(t *testing.T) {
	t0 := time.Unix(0, 0)
	w := NewWindow(time.Minute, t0)
	w.Record(time.Second)
	if got := w.Snapshot(t0.Add(30 * time.Second)); got.Count() != 1 {
		t.Fatalf("count in first period = %d, want 1", got.Count())
	}
	// The period turns: the old sample is still seen, as the previous one.
	if got := w.Snapshot(t0.Add(61 * time.Second)); got.Count() != 1 {
		t.Fatalf("count after one turn = %d, want 1", got.Count())
	}
	w.Record(time.Millisecond)
	// Another turn drops the first period.
	if got := w.Snapshot(t0.Add(130 * time.Second)); got.Count() != 1 || got.Max() != time.Millisecond {
		t.Fatalf("after two turns: count %d max %v, want 1 and 1ms", got.Count(), got.Max())
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(time.Duration(i&0xffff) * time.Microsecond)
	}
}

func TestLastBucket(t *testing.T) {
	bound := upper(Buckets - 2)
	if bound < 36*time.Hour || bound > 37*time.Hour {
		t.Fatalf("last bucket starts at %v, want about 36h as documented", bound)
	}
	if got := index(100 * time.Hour); got != Buckets-1 {
		t.Fatalf("100h in bucket %d, want the last, %d", got, Buckets-1)
	}
}
