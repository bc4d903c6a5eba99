package hatago

import (
	"context"
	"time"

	"github.com/hatago/hatago/internal/ctxkey"
	"github.com/hatago/hatago/resource"
)

// requestInfo is what the server knows of a request that a handler may ask.
type requestInfo struct {
	slot   int
	queued time.Duration
}

type infoKey struct{}

// requestContext is the context handlers see: one allocation carries the
// request's info and its slot's resources.
type requestContext struct {
	context.Context
	info requestInfo
	res  *resource.Set
}

func (c *requestContext) Value(key any) any {
	switch key.(type) {
	case infoKey:
		return &c.info
	case ctxkey.Resources:
		if c.res != nil {
			return c.res
		}
	}
	return c.Context.Value(key)
}

// Slot returns the index of the slot serving the request of ctx, in
// 0..MaxSlots-1, and false outside a Hatago request. Per-slot state indexed
// by it is used by one request at a time.
func Slot(ctx context.Context) (int, bool) {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i.slot, true
	}
	return 0, false
}

// QueueTime returns how long the request of ctx waited in the backlog for a
// slot: 0 when it found one free, or outside a Hatago request.
func QueueTime(ctx context.Context) time.Duration {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i.queued
	}
	return 0
}
