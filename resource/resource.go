// Package resource gives each slot of a Hatago server its own instances of
// expensive things: a database connection, a buffer, a cache, a client.
//
// Declare a resource once with New; list it in hatago.Config.Resources. When
// the server starts a slot it opens one instance of every declared resource
// for that slot, in order; when it trims the slot or stops, it closes them in
// reverse order. A handler reaches its slot's instance through the request
// context with Key.From. Since a slot serves one request at a time, no two
// concurrent requests ever hold the same instance, and the instance needs no
// lock of its own: this is the "one plugin per thread" design, where each
// worker owns its database connection.
//
//	var db = resource.New("db",
//		func(ctx context.Context, slot int) (*pgx.Conn, error) { return pgx.Connect(ctx, url) },
//		func(c *pgx.Conn) error { return c.Close(context.Background()) })
//
//	func handler(w http.ResponseWriter, r *http.Request) {
//		conn := db.From(r.Context()) // this slot's own connection
//		...
//	}
//
// An instance must not be kept past the request that got it, for example in a
// goroutine that outlives the handler: the next request on the slot gets the
// same instance.
package resource

import (
	"context"
	"errors"
	"fmt"

	"github.com/hatago/hatago/internal/ctxkey"
)

// Decl is a declared resource of any type: what hatago.Config.Resources
// lists. Only *Key values implement it.
type Decl interface {
	// Name returns the name given to New.
	Name() string
	open(ctx context.Context, slot int) (any, error)
	close(v any) error
}

// Key declares a resource of type T and finds a slot's instance of it. A Key
// is safe for concurrent use; declare it once, typically as a package
// variable.
type Key[T any] struct {
	name    string
	openFn  func(ctx context.Context, slot int) (T, error)
	closeFn func(T) error
}

var _ Decl = (*Key[int])(nil)

// New declares a resource. open makes the instance for one slot (slot is the
// slot's stable index, in 0..max-1); it gets the context of the request that
// needed the slot, or the server's start context for the slots opened at
// start. close, which may be nil, releases an instance. New panics if name is
// empty or open is nil.
func New[T any](name string, open func(ctx context.Context, slot int) (T, error), close func(T) error) *Key[T] {
	if name == "" || open == nil {
		panic("resource: New needs a name and an open function")
	}
	return &Key[T]{name: name, openFn: open, closeFn: close}
}

// Name returns the resource's name.
func (k *Key[T]) Name() string { return k.name }

func (k *Key[T]) open(ctx context.Context, slot int) (any, error) { return k.openFn(ctx, slot) }

func (k *Key[T]) close(v any) error {
	if k.closeFn == nil {
		return nil
	}
	return k.closeFn(v.(T))
}

// Lookup returns the instance of k for the slot serving the request of ctx,
// and whether there was one: false outside a Hatago request, or when k is not
// in the server's Config.Resources.
func (k *Key[T]) Lookup(ctx context.Context) (T, bool) {
	if s, ok := ctx.Value(ctxkey.Resources{}).(*Set); ok {
		for i, d := range s.decls {
			if d == Decl(k) {
				return s.vals[i].(T), true
			}
		}
	}
	var zero T
	return zero, false
}

// From returns the instance of k for the slot serving the request of ctx. It
// panics, naming the resource, outside a Hatago request or when k is not
// listed in the server's Config.Resources: both are wiring mistakes.
func (k *Key[T]) From(ctx context.Context) T {
	v, ok := k.Lookup(ctx)
	if !ok {
		panic(fmt.Sprintf("resource: %q is not available here: list it in hatago.Config.Resources and call From with the request's context", k.name))
	}
	return v
}

// Set is one slot's open instances of the declared resources. It is used by
// one request at a time and is not safe for concurrent use.
type Set struct {
	slot  int
	decls []Decl
	vals  []any
}

// Open opens an instance of every decl for slot, in order. If one fails, it
// closes those already opened, in reverse order, and returns the error,
// naming the resource and the slot.
func Open(ctx context.Context, slot int, decls []Decl) (*Set, error) {
	s := &Set{slot: slot, decls: decls, vals: make([]any, 0, len(decls))}
	for _, d := range decls {
		v, err := d.open(ctx, slot)
		if err != nil {
			err = fmt.Errorf("resource %s (slot %d): open: %w", d.Name(), slot, err)
			return nil, errors.Join(err, s.Close())
		}
		s.vals = append(s.vals, v)
	}
	return s, nil
}

// Slot returns the index of the slot the set belongs to.
func (s *Set) Slot() int { return s.slot }

// Close closes every open instance in reverse order of opening and returns
// their errors joined. Close is idempotent.
func (s *Set) Close() error {
	var errs []error
	for i := len(s.vals) - 1; i >= 0; i-- {
		if err := s.decls[i].close(s.vals[i]); err != nil {
			errs = append(errs, fmt.Errorf("resource %s (slot %d): close: %w", s.decls[i].Name(), s.slot, err))
		}
	}
	s.vals = s.vals[:0]
	return errors.Join(errs...)
}

// NewContext returns a copy of ctx that carries s, so that Key.From finds
// its instances. Hatago's server does this for every request; tests of
// handlers outside a server can use it directly.
func NewContext(ctx context.Context, s *Set) context.Context {
	return context.WithValue(ctx, ctxkey.Resources{}, s)
}
