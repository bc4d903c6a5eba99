package sharedstate

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// A lockKind is what a goroutine holds at a point: nothing, a read lock, or
// something that excludes every other writer (a Lock, a channel semaphore,
// a sync.Once).
type lockKind int

const (
	lockNone lockKind = iota
	lockRead
	lockWrite
)

type lockEntry struct {
	kind     lockKind
	deferred bool // its release is deferred: held until the function returns
	acquire  chanDir
	assumed  bool // summaries only: held on entry, untouched so far
}

// A lockSet maps a lock's expression ("c.mu", "chan:sem") to its state.
// The walk updates it statement by statement; where paths join (after an
// if, a switch, a loop) it keeps only what every path holds.
type lockSet map[string]lockEntry

func (s lockSet) max() lockKind {
	k := lockNone
	for _, e := range s {
		if !e.assumed {
			k = max(k, e.kind)
		}
	}
	return k
}

// atReturn returns the locks still held when deferred calls run: those whose
// release was deferred earlier (deferred calls run last in, first out).
func (s lockSet) atReturn() lockSet {
	out := lockSet{}
	for k, e := range s {
		if e.deferred {
			out[k] = e
		}
	}
	return out
}

// meet returns the locks held on every one of the paths: the weakest kind
// of each lock that all of them hold.
func meet(paths []lockSet) lockSet {
	out := maps.Clone(paths[0])
	for _, p := range paths[1:] {
		for k, e := range out {
			f, ok := p[k]
			if !ok {
				delete(out, k)
				continue
			}
			e.kind = min(e.kind, f.kind)
			e.deferred = e.deferred && f.deferred
			e.assumed = e.assumed || f.assumed
			if e.acquire != f.acquire {
				e.acquire = chanNone
			}
			out[k] = e
		}
	}
	return out
}

// join sets held to what every path that falls through holds, and reports
// whether any does. When none does, what follows is unreachable and held is
// left as it was.
func join(held lockSet, paths []lockSet) bool {
	if len(paths) == 0 {
		return false
	}
	m := meet(paths)
	clear(held)
	maps.Copy(held, m)
	return true
}

type chanDir int

const (
	chanNone chanDir = iota
	chanSend
	chanRecv
)

type lockOp int

const (
	opNone lockOp = iota
	opLock
	opRLock
	opUnlock
	opTryLock
	opTryRLock
)

// A lockEffect is a Lock, RLock or Unlock of the lock with the given key.
type lockEffect struct {
	key string
	op  lockOp
}

// lockOp recognises x.Lock(), x.RLock(), x.Unlock(), x.RUnlock(),
// x.TryLock() and x.TryRLock() on any type with such methods (sync.Mutex,
// sync.RWMutex, sync.Locker, an embedded mutex, a wrapper of one).
func (w *walker) lockOp(call *ast.CallExpr) (string, lockOp) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok || len(call.Args) != 0 {
		return "", opNone
	}
	fn, _ := w.c.pass.TypesInfo.Uses[sel.Sel].(*types.Func)
	if fn == nil {
		return "", opNone
	}
	sig := fn.Signature()
	if sig.Recv() == nil || sig.Params().Len() != 0 {
		return "", opNone
	}
	var op lockOp
	switch fn.Name() {
	case "Lock":
		op = opLock
	case "RLock":
		op = opRLock
	case "Unlock", "RUnlock":
		op = opUnlock
	case "TryLock":
		op = opTryLock
	case "TryRLock":
		op = opTryRLock
	default:
		return "", opNone
	}
	switch op {
	case opTryLock, opTryRLock:
		if sig.Results().Len() != 1 || !types.Identical(sig.Results().At(0).Type(), types.Typ[types.Bool]) {
			return "", opNone
		}
	default:
		if sig.Results().Len() != 0 {
			return "", opNone
		}
	}
	return types.ExprString(ast.Unparen(sel.X)), op
}

func applyLock(held lockSet, key string, op lockOp) {
	switch op {
	case opLock, opTryLock:
		held[key] = lockEntry{kind: lockWrite}
	case opRLock, opTryRLock:
		if e := held[key]; e.assumed || e.kind < lockRead {
			held[key] = lockEntry{kind: lockRead}
		}
	case opUnlock:
		delete(held, key)
	}
}

// tryLock recognises the condition x.TryLock() or !x.TryLock().
func (w *walker) tryLock(cond ast.Expr) (key string, op lockOp, negated bool) {
	cond = ast.Unparen(cond)
	if u, ok := cond.(*ast.UnaryExpr); ok && u.Op == token.NOT {
		negated, cond = true, ast.Unparen(u.X)
	}
	call, ok := cond.(*ast.CallExpr)
	if !ok {
		return "", opNone, false
	}
	key, op = w.lockOp(call)
	if op != opTryLock && op != opTryRLock {
		return "", opNone, false
	}
	return key, op, negated
}

// lockEffects returns what a call statement does to the locks: a direct
// x.Lock(), x.RLock() or x.Unlock(), or the net effect of a function of
// this package that locks or unlocks a mutex reached from its receiver, its
// parameters or a package-level variable (func (s *S) lock() { s.mu.Lock() }).
func (w *walker) lockEffects(call *ast.CallExpr) []lockEffect {
	if key, op := w.lockOp(call); op != opNone {
		if op == opTryLock || op == opTryRLock {
			return nil
		}
		return []lockEffect{{key, op}}
	}
	s, fi := w.calleeSummary(call)
	if s == nil || len(s.effects) == 0 {
		return nil
	}
	out := make([]lockEffect, 0, len(s.effects))
	for _, e := range s.effects {
		out = append(out, lockEffect{w.translate(e.key, fi, call), e.op})
	}
	return out
}

// calleeSummary returns the summary of the function of this package that a
// call statically calls.
func (w *walker) calleeSummary(call *ast.CallExpr) (*summary, *funcInfo) {
	fn := typeutil.StaticCallee(w.c.pass.TypesInfo, call)
	if fn == nil {
		return nil, nil
	}
	fi := w.c.decls[fn.Origin()]
	if fi == nil {
		return nil, nil
	}
	return w.c.summary(fi), fi
}

// translate renames a lock key from the callee's names to the caller's:
// "s.mu" in func (s *S) lock() is "c.srv.mu" at c.srv.lock().
func (w *walker) translate(key string, fi *funcInfo, call *ast.CallExpr) string {
	end := strings.IndexAny(key, ".[")
	if end < 0 {
		end = len(key)
	}
	root, rest := key[:end], key[end:]
	if recv := fi.sig.Recv(); recv != nil && recv.Name() == root && root != "" && root != "_" {
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			return argKey(sel.X) + rest
		}
	}
	params := fi.sig.Params()
	for i := range params.Len() {
		if p := params.At(i); p.Name() == root && root != "_" && i < len(call.Args) && !(fi.sig.Variadic() && i == params.Len()-1) {
			return argKey(call.Args[i]) + rest
		}
	}
	return key
}

// argKey renders a lock's expression at a call site; &x names the lock x.
func argKey(e ast.Expr) string {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	return types.ExprString(e)
}

// A summary is what a function of this package does with the locks of its
// caller, applied at its call sites.
type summary struct {
	effects []lockEffect // net Lock, RLock and Unlock, keys in the function's own names
	// calls maps the index of each func parameter that the function only
	// calls directly (never stores, defers or starts as a goroutine) to the
	// weakest lock it holds at those calls: a func literal passed there runs
	// before the call returns, under that lock (x.withLock(func() { ... })).
	calls       map[int]lockKind
	returnsFunc bool // one result, a func: defer x.lock()()
}

// summary computes, once per function, its summary. It walks the body with
// every lock it mentions assumed held on entry, and reads the net effect
// off what every return holds; a cycle of calls gets an empty summary.
func (c *checker) summary(fi *funcInfo) *summary {
	if s, ok := c.summaries[fi]; ok {
		if s == nil {
			return &summary{}
		}
		return s
	}
	c.summaries[fi] = nil
	s := &summary{}
	if r := fi.sig.Results(); r.Len() == 1 {
		_, s.returnsFunc = r.At(0).Type().Underlying().(*types.Signature)
	}
	w := &walker{c: c, dry: true, frame: &frame{}}

	// The keys of every lock the body names, assumed held on entry.
	held := lockSet{}
	ast.Inspect(fi.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			for _, e := range w.lockEffects(n) {
				held[e.key] = lockEntry{kind: lockWrite, assumed: true}
			}
		}
		return true
	})
	seeded := slices.Sorted(maps.Keys(held))

	params := c.calledParams(fi)
	if len(params) > 0 {
		s.calls = make(map[int]lockKind)
		w.onCall = func(call *ast.CallExpr, held lockSet) {
			id, ok := ast.Unparen(call.Fun).(*ast.Ident)
			if !ok {
				return
			}
			v, _ := c.pass.TypesInfo.Uses[id].(*types.Var)
			i, ok := params[v]
			if !ok {
				return
			}
			if k, seen := s.calls[i]; !seen || held.max() < k {
				s.calls[i] = held.max()
			}
		}
	}

	falls := w.block(fi.body.List, held, false)
	exits := w.frame.returns
	if falls {
		exits = append(exits, held)
	}
	if len(exits) > 0 {
		out := meet(exits)
		for _, k := range seeded {
			e, ok := out[k]
			switch {
			case !ok, e.assumed && e.deferred:
				s.effects = append(s.effects, lockEffect{k, opUnlock})
			case !e.assumed && !e.deferred:
				op := opLock
				if e.kind == lockRead {
					op = opRLock
				}
				s.effects = append(s.effects, lockEffect{k, op})
			}
		}
	}
	c.summaries[fi] = s
	return s
}

// calledParams returns the func parameters of fi whose every use is a
// direct call in fi's own body: not in a nested func literal, a go or a
// defer statement, and never stored or passed on.
func (c *checker) calledParams(fi *funcInfo) map[*types.Var]int {
	idx := make(map[*types.Var]int)
	for i := range fi.sig.Params().Len() {
		p := fi.sig.Params().At(i)
		if _, ok := p.Type().Underlying().(*types.Signature); ok && !(fi.sig.Variadic() && i == fi.sig.Params().Len()-1) {
			idx[p] = i
		}
	}
	if len(idx) == 0 {
		return nil
	}
	used := make(map[*types.Var]bool)
	for cur := range fi.cur.Preorder((*ast.Ident)(nil)) {
		v, _ := c.pass.TypesInfo.Uses[cur.Node().(*ast.Ident)].(*types.Var)
		if _, ok := idx[v]; !ok {
			continue
		}
		if !directCall(cur) || c.enclosingCursorFunc(cur) != fi {
			delete(idx, v)
			continue
		}
		used[v] = true
	}
	for v := range idx {
		if !used[v] {
			delete(idx, v)
		}
	}
	return idx
}

// directCall reports whether the expression at cur is called where it
// stands, f(...), and not by a go or defer statement.
func directCall(cur inspector.Cursor) bool {
	for cur.ParentEdgeKind() == edge.ParenExpr_X {
		cur = cur.Parent()
	}
	if cur.ParentEdgeKind() != edge.CallExpr_Fun {
		return false
	}
	switch cur.Parent().ParentEdgeKind() {
	case edge.GoStmt_Call, edge.DeferStmt_Call:
		return false
	}
	return true
}

// chanOp recognises the statements ch <- v and <-ch.
func chanOp(n ast.Node) (ast.Expr, chanDir) {
	switch s := n.(type) {
	case *ast.SendStmt:
		return ast.Unparen(s.Chan), chanSend
	case *ast.ExprStmt:
		if u, ok := ast.Unparen(s.X).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
			return ast.Unparen(u.X), chanRecv
		}
	}
	return nil, chanNone
}

// chanLock treats a channel of capacity one as a lock (a semaphore): ch <- v
// followed in the same statement list by <-ch, or deferred <-ch, holds it in
// between; so does <-ch followed by ch <- v (a channel filled with a token).
func (w *walker) chanLock(list []ast.Stmt, i int, held lockSet) {
	ch, dir := chanOp(list[i])
	if dir == chanNone {
		return
	}
	key := types.ExprString(ch)
	k := "chan:" + key
	if e, ok := held[k]; ok && e.acquire != dir {
		delete(held, k)
		return
	}
	if !w.c.semaphore(ch) {
		return
	}
	release := chanSend
	if dir == chanSend {
		release = chanRecv
	}
	for _, s := range list[i+1:] {
		if ch2, d := chanOp(s); d == release && types.ExprString(ch2) == key {
			held[k] = lockEntry{kind: lockWrite, acquire: dir}
			return
		}
		if d, ok := s.(*ast.DeferStmt); ok {
			if lit, ok := ast.Unparen(d.Call.Fun).(*ast.FuncLit); ok {
				found := false
				ast.Inspect(lit.Body, func(n ast.Node) bool {
					if ch2, d := chanOp(n); d == release && types.ExprString(ch2) == key {
						found = true
					}
					return !found
				})
				if found {
					held[k] = lockEntry{kind: lockWrite, acquire: dir}
					return
				}
			}
		}
	}
}

// A chanCap records what the package assigns to a channel variable or
// field: make(chan T, 1), or anything else.
type chanCap struct{ one, other bool }

// semaphore reports whether ch, a variable or a field, is only ever
// assigned make(chan T, 1) in this package, and at least once: a channel
// of one slot excludes every other holder. A channel of unknown capacity
// (a parameter, a field set elsewhere) or of more slots is no lock.
func (c *checker) semaphore(ch ast.Expr) bool {
	obj := c.chanObj(ch)
	if obj == nil {
		return false
	}
	cp := c.chanCaps[obj]
	return cp.one && !cp.other
}

// chanObj returns the variable or field an expression names.
func (c *checker) chanObj(e ast.Expr) types.Object {
	info := c.pass.TypesInfo
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if v, ok := info.ObjectOf(e).(*types.Var); ok {
			return v.Origin()
		}
	case *ast.SelectorExpr:
		if sel := info.Selections[e]; sel != nil {
			if v, ok := sel.Obj().(*types.Var); ok && sel.Kind() == types.FieldVal {
				return v.Origin()
			}
			return nil
		}
		if v, ok := info.Uses[e.Sel].(*types.Var); ok {
			return v
		}
	}
	return nil
}

// findChanCaps records, for every channel variable and field the package
// assigns (an assignment, a var declaration, a composite literal), whether
// the value is make(chan T, 1).
func (c *checker) findChanCaps() {
	info := c.pass.TypesInfo
	note := func(obj types.Object, val ast.Expr) {
		if obj == nil {
			return
		}
		if _, ok := obj.Type().Underlying().(*types.Chan); !ok {
			return
		}
		cp := c.chanCaps[obj]
		if c.makeOne(val) {
			cp.one = true
		} else {
			cp.other = true
		}
		c.chanCaps[obj] = cp
	}
	for cur := range c.preorder((*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.CompositeLit)(nil)) {
		switch n := cur.Node().(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				for _, l := range n.Lhs {
					note(c.chanObj(l), nil)
				}
				continue
			}
			for i, l := range n.Lhs {
				note(c.chanObj(l), n.Rhs[i])
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				var val ast.Expr
				if len(n.Values) == len(n.Names) {
					val = n.Values[i]
				}
				if v, ok := info.Defs[name].(*types.Var); ok {
					note(v, val)
				}
			}
		case *ast.CompositeLit:
			t := typeOf(info, n)
			if p, ok := t.Underlying().(*types.Pointer); ok {
				t = p.Elem() // an elided &T{...} in []*T{{...}}
			}
			st, ok := t.Underlying().(*types.Struct)
			if !ok {
				continue
			}
			for i, elt := range n.Elts {
				if kv, ok := elt.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						if v, ok := info.Uses[id].(*types.Var); ok {
							note(v.Origin(), kv.Value)
						}
					}
				} else if i < st.NumFields() {
					note(st.Field(i).Origin(), elt)
				}
			}
		}
	}
}

func typeOf(info *types.Info, e ast.Expr) types.Type {
	if t := info.TypeOf(e); t != nil {
		return t
	}
	return types.Typ[types.Invalid]
}

// makeOne reports whether e is make(chan T, 1).
func (c *checker) makeOne(e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return false
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	if b, ok := c.pass.TypesInfo.Uses[id].(*types.Builtin); !ok || b.Name() != "make" {
		return false
	}
	tv := c.pass.TypesInfo.Types[call.Args[1]]
	if tv.Value == nil {
		return false
	}
	n, exact := constant.Int64Val(constant.ToInt(tv.Value))
	return exact && n == 1
}
