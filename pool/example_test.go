package pool_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hatago/hatago/pool"
)

// One slot and no backlog: a second request is refused while the first
// holds the slot.
func Example() {
	p := pool.New(pool.Config{Max: 1})
	ctx := context.Background()

	s, _ := p.Acquire(ctx)
	_, err := p.Acquire(ctx)
	fmt.Println(errors.Is(err, pool.ErrFull))
	p.Release(s)

	st := p.Stats()
	fmt.Println("requests:", st.Requests, "rejected:", st.Rejected, "running:", st.Running)
	_ = p.Close(ctx)
	// Output:
	// true
	// requests: 1 rejected: 1 running: 1
}
