package pool

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWakeUpNotLostWhenWaiterLeaves: when a slot fails to start, the first
// waiter is woken to start one itself. If that waiter's context ends at the
// same moment, the wake-up must pass to the next waiter; otherwise the next
// one waits on although a slot is free to start.
func TestWakeUpNotLostWhenWaiterLeaves(t *testing.T) {
	errStart := errors.New("start failed")
	for i := range 40 {
		gate := make(chan struct{})
		calls := 0
		p := New(Config{Max: 1, Backlog: 2, OnStart: func(context.Context, *Slot) error {
			calls++ // OnStart calls do not overlap here: Max is 1
			if calls == 1 {
				<-gate
				return errStart
			}
			return nil
		}})
		first := make(chan error, 1)
		go func() {
			_, err := p.Acquire(context.Background())
			first <- err
		}()
		waitFor(t, func() bool { return p.Busy() == 1 }) // its start is under way
		leaving, leave := context.WithCancel(context.Background())
		left := make(chan error, 1)
		go func() {
			_, err := p.Acquire(leaving)
			left <- err
		}()
		waitFor(t, func() bool { return p.Stats().Backlog == 1 })
		staying, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		stayed := make(chan error, 1)
		go func() {
			s, err := p.Acquire(staying)
			if err == nil {
				p.Release(s)
			}
			stayed <- err
		}()
		waitFor(t, func() bool { return p.Stats().Backlog == 2 })

		// Let the first waiter's context end and the start fail together,
		// so the wake-up may reach the waiter as it leaves.
		p.mu.Lock()
		leave()
		close(gate)
		time.Sleep(time.Millisecond)
		p.mu.Unlock()

		if err := <-first; !errors.Is(err, errStart) {
			t.Fatalf("round %d: failed start: %v, want its error", i, err)
		}
		<-left
		if err := <-stayed; err != nil {
			t.Fatalf("round %d: the waiter that stayed: %v, want a slot", i, err)
		}
		cancel()
		p.Close(context.Background())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
