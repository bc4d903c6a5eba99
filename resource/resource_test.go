package resource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

type conn struct {
	slot   int
	closed bool
}

func TestOpenLookupClose(t *testing.T) {
	var log []string
	db := New("db", func(_ context.Context, slot int) (*conn, error) {
		log = append(log, "open db")
		return &conn{slot: slot}, nil
	}, func(c *conn) error {
		log = append(log, "close db")
		c.closed = true
		return nil
	})
	buf := New("buf", func(context.Context, int) ([]byte, error) {
		log = append(log, "open buf")
		return make([]byte, 0, 64), nil
	}, nil)
	other := New("other", func(context.Context, int) (int, error) { return 1, nil }, nil)

	s, err := Open(t.Context(), 3, []Decl{db, buf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(t.Context(), s)
	c := db.From(ctx)
	if c.slot != 3 {
		t.Fatalf("slot = %d, want 3", c.slot)
	}
	if b := buf.From(ctx); cap(b) != 64 {
		t.Fatalf("buf cap = %d, want 64", cap(b))
	}
	if _, ok := other.Lookup(ctx); ok {
		t.Fatal("Lookup found an undeclared resource")
	}
	if _, ok := db.Lookup(t.Context()); ok {
		t.Fatal("Lookup found a resource outside a request")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !c.closed {
		t.Fatal("db not closed")
	}
	want := []string{"open db", "open buf", "close db"}
	if !slices.Equal(log, want) {
		t.Fatalf("log = %v, want %v", log, want)
	}
}

func TestOpenFailureClosesOpened(t *testing.T) {
	var closed []string
	a := New("a", func(context.Context, int) (string, error) { return "a", nil },
		func(v string) error { closed = append(closed, v); return nil })
	b := New("b", func(context.Context, int) (string, error) { return "b", nil },
		func(v string) error { closed = append(closed, v); return nil })
	bad := New("cache", func(context.Context, int) (string, error) { return "", errors.New("no memory") }, nil)

	_, err := Open(t.Context(), 1, []Decl{a, b, bad})
	if err == nil || !strings.Contains(err.Error(), "resource cache (slot 1): open: no memory") {
		t.Fatalf("err = %v, want it to name the resource and slot", err)
	}
	if !slices.Equal(closed, []string{"b", "a"}) {
		t.Fatalf("closed %v, want [b a]", closed)
	}
}

func TestCloseJoinsErrors(t *testing.T) {
	x := New("x", func(context.Context, int) (int, error) { return 0, nil },
		func(int) error { return errors.New("x broke") })
	s, err := Open(t.Context(), 0, []Decl{x})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "resource x (slot 0): close: x broke") {
		t.Fatalf("Close: %v", err)
	}
}

func TestFromPanicsWithName(t *testing.T) {
	k := New("mailer", func(context.Context, int) (int, error) { return 0, nil }, nil)
	defer func() {
		v := recover()
		if v == nil || !strings.Contains(v.(string), `"mailer"`) {
			t.Fatalf("recover() = %v, want a panic naming the resource", v)
		}
	}()
	k.From(t.Context())
}
