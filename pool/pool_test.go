package pool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func checkStats(t *testing.T, p *Pool, running, busy, backlog int) Stats {
	t.Helper()
	s := p.Stats()
	if s.Running != running || s.Busy != busy || s.Backlog != backlog {
		t.Fatalf("running/busy/backlog = %d/%d/%d, want %d/%d/%d",
			s.Running, s.Busy, s.Backlog, running, busy, backlog)
	}
	return s
}

func TestAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Max: 2, Backlog: 1})
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		a, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if a.Index() == b.Index() {
			t.Fatalf("two slots share index %d", a.Index())
		}
		checkStats(t, p, 2, 2, 0)

		third := make(chan *Slot)
		go func() {
			s, err := p.Acquire(context.Background())
			if err != nil {
				t.Error(err)
			}
			third <- s
		}()
		synctest.Wait() // the third request is now queued
		if s := checkStats(t, p, 2, 2, 1); s.BacklogMax != 1 || s.Capacity() != 0 {
			t.Fatalf("backlog_max %d capacity %d, want 1 and 0", s.BacklogMax, s.Capacity())
		}

		if _, err := p.Acquire(t.Context()); !errors.Is(err, ErrFull) {
			t.Fatalf("fourth Acquire: got %v, want ErrFull", err)
		}
		if s := p.Stats(); s.Rejected != 1 {
			t.Fatalf("rejected = %d, want 1", s.Rejected)
		}

		time.Sleep(50 * time.Millisecond)
		p.Release(a) // goes straight to the waiter
		c := <-third
		if c != a {
			t.Fatalf("waiter got slot %d, want the released slot %d", c.Index(), a.Index())
		}
		if c.Queued() != 50*time.Millisecond {
			t.Fatalf("Queued() = %v, want 50ms", c.Queued())
		}
		checkStats(t, p, 2, 2, 0)
		p.Release(b)
		p.Release(c)
		s := checkStats(t, p, 2, 0, 0)
		if s.Requests != 3 || s.Capacity() != 2 {
			t.Fatalf("requests %d capacity %d, want 3 and 2", s.Requests, s.Capacity())
		}
		if s.QueueTime.Max != 50*time.Millisecond || s.QueueTime.Count != 3 {
			t.Fatalf("queue time %+v, want max 50ms over 3", s.QueueTime)
		}
		if err := p.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBacklogMaxResetsOnRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Max: 1, Backlog: 5})
		s, _ := p.Acquire(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		for range 3 {
			go p.Acquire(ctx)
		}
		synctest.Wait()
		cancel()
		synctest.Wait()
		if got := p.Stats(); got.Backlog != 0 || got.BacklogMax != 3 {
			t.Fatalf("backlog %d backlog_max %d, want 0 and 3", got.Backlog, got.BacklogMax)
		}
		if got := p.Stats().BacklogMax; got != 0 {
			t.Fatalf("backlog_max on the next read = %d, want 0", got)
		}
		p.Release(s)
	})
}

func TestWaiterCancelLeavesBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Max: 1, Backlog: 2})
		s, _ := p.Acquire(t.Context())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := p.Acquire(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
		checkStats(t, p, 1, 1, 0)
		p.Release(s)
		checkStats(t, p, 1, 0, 0)
	})
}

func TestFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Max: 1, Backlog: 10})
		s, _ := p.Acquire(t.Context())
		var order []int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				s, err := p.Acquire(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				p.Release(s)
			})
			synctest.Wait() // queue them in a known order
		}
		p.Release(s)
		wg.Wait()
		for i, got := range order {
			if got != i {
				t.Fatalf("served in order %v, want 0..4", order)
			}
		}
	})
}

func TestTrimToMin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stopped []int
		var mu sync.Mutex
		p := New(Config{
			Min: 1, Max: 4, IdleTimeout: time.Second,
			OnStart: func(_ context.Context, s *Slot) error { s.Data = s.Index(); return nil },
			OnStop: func(s *Slot) {
				mu.Lock()
				stopped = append(stopped, s.Data.(int))
				mu.Unlock()
			},
		})
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		checkStats(t, p, 1, 0, 0)
		var slots []*Slot
		for range 4 {
			s, err := p.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			slots = append(slots, s)
		}
		for _, s := range slots {
			p.Release(s)
		}
		checkStats(t, p, 4, 0, 0)

		// Keep the warmest slot (the last released) busy-ish: it is reused
		// and so never trimmed, while the others age.
		time.Sleep(900 * time.Millisecond)
		synctest.Wait()
		checkStats(t, p, 4, 0, 0)
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		s := checkStats(t, p, 1, 0, 0)
		if s.Trimmed != 3 || s.Started != 4 {
			t.Fatalf("trimmed %d started %d, want 3 and 4", s.Trimmed, s.Started)
		}
		mu.Lock()
		n := len(stopped)
		mu.Unlock()
		if n != 3 {
			t.Fatalf("OnStop ran %d times, want 3", n)
		}
		// The survivor is the warmest: the last one released.
		last, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if last != slots[3] {
			t.Fatalf("survivor is slot %d, want the warmest, %d", last.Index(), slots[3].Index())
		}
		p.Release(last)
		if err := p.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(stopped) != 4 {
			t.Fatalf("after Close OnStop ran %d times, want 4", len(stopped))
		}
	})
}

func TestLowestFreeIndexReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Max: 3, IdleTimeout: time.Second})
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		var s [3]*Slot
		for i := range s {
			s[i], _ = p.Acquire(t.Context())
			if s[i].Index() != i {
				t.Fatalf("slot %d has index %d", i, s[i].Index())
			}
		}
		p.Release(s[0])
		time.Sleep(600 * time.Millisecond)
		p.Release(s[1])
		p.Release(s[2])
		time.Sleep(700 * time.Millisecond)
		synctest.Wait()
		checkStats(t, p, 2, 0, 0) // slot 0 was idle long enough to go
		seen := map[int]bool{}
		for range 3 {
			got, err := p.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			seen[got.Index()] = true
			defer p.Release(got)
		}
		if len(seen) != 3 {
			t.Fatalf("indexes %v, want 0, 1 and 2: the new slot takes the freed index", seen)
		}
		go p.Close(context.Background())
	})
}

func TestStartFailure(t *testing.T) {
	fail := errors.New("db down")
	var calls atomic.Int32
	p := New(Config{Max: 2, OnStart: func(context.Context, *Slot) error {
		if calls.Add(1) == 1 {
			return fail
		}
		return nil
	}})
	if _, err := p.Acquire(t.Context()); !errors.Is(err, fail) {
		t.Fatalf("got %v, want the OnStart error", err)
	}
	checkStats(t, p, 0, 0, 0)
	s, err := p.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.Index() != 0 {
		t.Fatalf("index %d after a failed start, want 0 again", s.Index())
	}
	p.Release(s)
}

func TestStartPanicIsError(t *testing.T) {
	p := New(Config{Max: 1, OnStart: func(context.Context, *Slot) error { panic("boom") }})
	if _, err := p.Acquire(t.Context()); err == nil {
		t.Fatal("Acquire succeeded, want the panic as an error")
	}
	checkStats(t, p, 0, 0, 0)
}

func TestStartOpensMinAndUndoesOnError(t *testing.T) {
	var opened, closed atomic.Int32
	p := New(Config{Min: 3, Max: 5, OnStart: func(context.Context, *Slot) error {
		if opened.Add(1) == 3 {
			return errors.New("third fails")
		}
		return nil
	}, OnStop: func(*Slot) { closed.Add(1) }})
	if err := p.Start(t.Context()); err == nil {
		t.Fatal("Start succeeded, want the third slot's error")
	}
	if closed.Load() != 2 {
		t.Fatalf("closed %d slots, want the 2 opened", closed.Load())
	}
	checkStats(t, p, 0, 0, 0)
}

func TestCloseWakesWaitersAndDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stops atomic.Int32
		p := New(Config{Max: 1, Backlog: 3, OnStop: func(*Slot) { stops.Add(1) }})
		s, _ := p.Acquire(t.Context())
		errs := make(chan error, 2)
		for range 2 {
			go func() { _, err := p.Acquire(t.Context()); errs <- err }()
		}
		synctest.Wait()
		closed := make(chan error)
		go func() { closed <- p.Close(context.Background()) }()
		for range 2 {
			if err := <-errs; !errors.Is(err, ErrClosed) {
				t.Fatalf("waiter got %v, want ErrClosed", err)
			}
		}
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a slot was still held")
		default:
		}
		p.Release(s)
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		if stops.Load() != 1 {
			t.Fatalf("OnStop ran %d times, want 1", stops.Load())
		}
		if _, err := p.Acquire(t.Context()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Acquire after Close: %v, want ErrClosed", err)
		}
		if err := p.Close(t.Context()); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

func TestCloseDeadlineThenLateRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stops atomic.Int32
		p := New(Config{Max: 1, OnStop: func(*Slot) { stops.Add(1) }})
		s, _ := p.Acquire(t.Context())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close: %v, want DeadlineExceeded", err)
		}
		p.Release(s)
		if stops.Load() != 1 {
			t.Fatalf("late release: OnStop ran %d times, want 1", stops.Load())
		}
	})
}

// TestExclusive hammers the pool from many goroutines and checks that no
// slot is ever held twice at once; under -race it also checks that Data
// needs no lock of its own.
func TestExclusive(t *testing.T) {
	p := New(Config{Min: 2, Max: 8, Backlog: 1000, IdleTimeout: time.Millisecond,
		OnStart: func(_ context.Context, s *Slot) error { s.Data = new(int); return nil }})
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	var holders [8]atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 200 {
				s, err := p.Acquire(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if n := holders[s.Index()].Add(1); n != 1 {
					t.Errorf("slot %d held by %d requests", s.Index(), n)
				}
				*s.Data.(*int)++ // unguarded on purpose: exclusivity makes it safe
				holders[s.Index()].Add(-1)
				p.Release(s)
			}
		})
	}
	wg.Wait()
	if s := p.Stats(); s.Requests != 64*200 || s.Busy != 0 {
		t.Fatalf("requests %d busy %d, want %d and 0", s.Requests, s.Busy, 64*200)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestNewPanicsOnBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Max: 0}, {Min: 3, Max: 2}, {Max: 1, Backlog: -1}, {Max: 1, IdleTimeout: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", cfg)
				}
			}()
			New(cfg)
		}()
	}
}

func TestMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Max: 1, Backlog: 5, MaxWait: time.Second})
		s, _ := p.Acquire(t.Context())
		began := time.Now()
		_, err := p.Acquire(t.Context())
		if !errors.Is(err, ErrWaitTimeout) {
			t.Fatalf("got %v, want ErrWaitTimeout", err)
		}
		if d := time.Since(began); d != time.Second {
			t.Fatalf("gave up after %v, want 1s", d)
		}
		checkStats(t, p, 1, 1, 0)
		p.Release(s)
	})
}
