package sharedstate

import (
	"go/types"
	"strings"
)

// analyse walks every handler and everything it reaches.
func (c *checker) analyse() {
	for _, fi := range c.funcs {
		if !fi.handler {
			continue
		}
		switch {
		case fi.obj != nil:
			if !fi.isRoot() {
				continue
			}
			var mask uint64
			if recv := fi.sig.Recv(); recv != nil && !c.perRequestRecv(recv.Type()) {
				mask = 1
			}
			c.node(fi, mask).root = true
		case isRootLit(fi):
			c.node(fi, 0).root = true
		}
	}
	for len(c.queue) > 0 {
		n := c.queue[0]
		c.queue = c.queue[1:]
		w := &walker{c: c, n: n, shared: make(map[*types.Var]bool), frame: &frame{}}
		fi := n.fn
		if fi.obj == nil {
			w.lit, w.inner = fi, fi
		} else {
			if recv := fi.sig.Recv(); recv != nil && n.mask&1 != 0 {
				w.shared[recv] = true
			}
			for i := range fi.sig.Params().Len() {
				if i+1 < 64 && n.mask&(1<<(i+1)) != 0 {
					w.shared[fi.sig.Params().At(i)] = true
				}
			}
		}
		w.block(fi.body.List, lockSet{}, false)
	}
	c.settle()
}

func (c *checker) perRequestRecv(t types.Type) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && c.perRequestTypes[n.Origin().Obj()]
}

// A nodeKey is a function analysed with a set of shared parameters: bit 0 is
// the receiver, bit i+1 parameter i.
type nodeKey struct {
	fn   *funcInfo
	mask uint64
}

// A node is one function in one sharing context, reached from a handler.
type node struct {
	nodeKey
	root   bool
	entry  lockKind // the weakest lock held at every call site
	writes []write
	calls  []callEdge
	pred   *callEdge // how a handler reaches it, for messages
}

type callEdge struct {
	caller, callee *node
	held           lockKind
	fresh          bool // the call runs later, outside the caller's locks
}

func (c *checker) node(fi *funcInfo, mask uint64) *node {
	k := nodeKey{fi, mask}
	if n := c.nodes[k]; n != nil {
		return n
	}
	n := &node{nodeKey: k}
	c.nodes[k] = n
	c.order = append(c.order, n)
	c.queue = append(c.queue, n)
	return n
}

func (n *node) effective(e callEdge) lockKind {
	if e.fresh {
		return e.held
	}
	return max(n.entry, e.held)
}

// settle computes for every node the lock held at all of its call sites
// (a fixed point over the call graph), and a shortest unguarded path from
// a handler for its messages.
func (c *checker) settle() {
	// Start every callee at the strongest state and lower it to what its
	// call sites hold. Roots hold nothing; functions named fooLocked are,
	// by the house convention, called with the lock held.
	for _, n := range c.order {
		n.entry = lockWrite
		if n.root {
			n.entry = lockNone
		}
	}
	for changed := true; changed; {
		changed = false
		for _, n := range c.order {
			for _, e := range n.calls {
				callee := e.callee
				if callee.root || strings.HasSuffix(callee.fn.obj.Name(), "Locked") {
					continue
				}
				if v := n.effective(e); v < callee.entry {
					callee.entry = v
					changed = true
				}
			}
		}
	}
	// Breadth-first from the handlers, preferring call sites that explain
	// the callee's entry state.
	for _, tight := range []bool{true, false} {
		var frontier []*node
		for _, n := range c.order {
			if n.root || n.pred != nil {
				frontier = append(frontier, n)
			}
		}
		for len(frontier) > 0 {
			n := frontier[0]
			frontier = frontier[1:]
			for i := range n.calls {
				e := &n.calls[i]
				callee := e.callee
				if callee.root || callee.pred != nil {
					continue
				}
				if tight && n.effective(*e) != callee.entry {
					continue
				}
				callee.pred = e
				frontier = append(frontier, callee)
			}
		}
	}
}

// subject names the function a message is about, with the calls that reach it.
func (n *node) subject() string {
	if n.root {
		if n.fn.obj == nil {
			return "handler closure"
		}
		return n.fn.name
	}
	var b strings.Builder
	b.WriteString(n.fn.name)
	seen := map[*node]bool{n: true}
	for p := n.pred; p != nil && !seen[p.caller]; p = p.caller.pred {
		seen[p.caller] = true
		b.WriteString(", called from ")
		if p.caller.root && p.caller.fn.obj == nil {
			b.WriteString("a handler closure in " + outermost(p.caller.fn).name)
		} else {
			b.WriteString(p.caller.fn.name)
		}
	}
	if n.pred != nil {
		b.WriteString(",")
	}
	return b.String()
}
