package hatago

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hatago/hatago/internal/ctxkey"
	"github.com/hatago/hatago/resource"
)

// requestInfo is what the server knows of a request that a handler may ask.
// An HTTP/1 connection reuses one for each of its requests in turn, so the
// fields are atomic: a goroutine that outlives its request may still read.
type requestInfo struct {
	slot   atomic.Int32 // -1 between requests
	queued atomic.Int64
	res    atomic.Pointer[resource.Set]
}

func (i *requestInfo) set(slot int, queued time.Duration, res *resource.Set) {
	i.queued.Store(int64(queued))
	i.res.Store(res)
	i.slot.Store(int32(slot))
}

func (i *requestInfo) clear() {
	i.slot.Store(-1)
	i.res.Store(nil)
}

type infoKey struct{}

// requestContext is the context of a request that does not have its
// connection to itself (HTTP/2): one allocation carries the request's info
// and its slot's resources.
type requestContext struct {
	context.Context
	info requestInfo
}

func (c *requestContext) Value(key any) any {
	switch key.(type) {
	case infoKey:
		return &c.info
	case ctxkey.Resources:
		if res := c.info.res.Load(); res != nil {
			return res
		}
	}
	return c.Context.Value(key)
}

// Slot returns the index of the slot serving the request of ctx, in
// 0..MaxSlots-1, and false outside a Hatago request. Per-slot state indexed
// by it is used by one request at a time. The answer holds while the
// request is served: after its handler returns, a goroutine that kept ctx
// may read false, or the slot of a later request on the same connection.
func Slot(ctx context.Context) (int, bool) {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		if slot := i.slot.Load(); slot >= 0 {
			return int(slot), true
		}
	}
	return 0, false
}

// QueueTime returns how long the request of ctx waited in the backlog for a
// slot: 0 when it found one free, or outside a Hatago request.
func QueueTime(ctx context.Context) time.Duration {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return time.Duration(i.queued.Load())
	}
	return 0
}
