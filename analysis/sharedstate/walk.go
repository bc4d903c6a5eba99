package sharedstate

import (
	"go/ast"
	"go/token"
	"go/types"
	"maps"

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
}

// A lockSet maps a lock's expression ("c.mu", "chan:sem") to its state.
// Nested blocks work on a clone, so what they lock does not leak out.
type lockSet map[string]lockEntry

func (s lockSet) max() lockKind {
	k := lockNone
	for _, e := range s {
		k = max(k, e.kind)
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

// A walker walks one node's function body in statement order, tracking the
// locks held, and records the node's writes to shared state and its calls.
type walker struct {
	c      *checker
	n      *node
	shared map[*types.Var]bool // receiver and parameters that refer to shared state
	lit    *funcInfo           // a handler literal root: variables it captures may be shared
}

type write struct {
	pos, end token.Pos
	t        *target
	typ      types.Type // the written value's type; nil for delete, clear and copy
	held     lockKind
	fresh    bool // in a func literal that runs outside the function's locks
}

func (w *walker) block(list []ast.Stmt, held lockSet, fresh bool) {
	for i, s := range list {
		w.chanLock(list, i, held)
		w.stmt(s, held, fresh)
	}
}

func (w *walker) stmt(s ast.Stmt, held lockSet, fresh bool) {
	switch s := s.(type) {
	case *ast.BlockStmt:
		w.block(s.List, maps.Clone(held), fresh)
	case *ast.LabeledStmt:
		w.stmt(s.Stmt, held, fresh)
	case *ast.ExprStmt:
		if call, ok := ast.Unparen(s.X).(*ast.CallExpr); ok {
			if key, op := w.lockOp(call); op == opLock || op == opRLock || op == opUnlock {
				applyLock(held, key, op)
				return
			}
		}
		w.expr(s.X, held, fresh)
	case *ast.SendStmt:
		w.expr(s.Chan, held, fresh)
		w.expr(s.Value, held, fresh)
	case *ast.IncDecStmt:
		w.write(s.X, held, fresh)
		w.expr(s.X, held, fresh)
	case *ast.AssignStmt:
		for _, r := range s.Rhs {
			w.expr(r, held, fresh)
		}
		for _, l := range s.Lhs {
			if s.Tok != token.DEFINE {
				w.write(l, held, fresh)
			}
			w.expr(l, held, fresh)
		}
	case *ast.DeclStmt:
		w.expr(s, held, fresh)
	case *ast.ReturnStmt:
		for _, r := range s.Results {
			w.expr(r, held, fresh)
		}
	case *ast.GoStmt:
		w.args(s.Call, held, fresh)
		if lit, ok := ast.Unparen(s.Call.Fun).(*ast.FuncLit); ok {
			w.block(lit.Body.List, lockSet{}, true)
			return
		}
		w.edge(s.Call, lockNone, true)
	case *ast.DeferStmt:
		w.deferStmt(s, held, fresh)
	case *ast.IfStmt:
		h := maps.Clone(held)
		if s.Init != nil {
			w.stmt(s.Init, h, fresh)
		}
		w.expr(s.Cond, h, fresh)
		body := maps.Clone(h)
		key, op, negated := w.tryLock(s.Cond)
		if op != opNone && !negated {
			applyLock(body, key, op)
		}
		w.block(s.Body.List, body, fresh)
		if s.Else != nil {
			w.stmt(s.Else, maps.Clone(h), fresh)
		}
		// if !mu.TryLock() { return }: held from here on.
		if op != opNone && negated && terminates(s.Body) {
			applyLock(held, key, op)
		}
	case *ast.ForStmt:
		h := maps.Clone(held)
		if s.Init != nil {
			w.stmt(s.Init, h, fresh)
		}
		if s.Cond != nil {
			w.expr(s.Cond, h, fresh)
		}
		if s.Post != nil {
			w.stmt(s.Post, h, fresh)
		}
		w.block(s.Body.List, maps.Clone(h), fresh)
	case *ast.RangeStmt:
		w.expr(s.X, held, fresh)
		if s.Tok == token.ASSIGN {
			for _, e := range []ast.Expr{s.Key, s.Value} {
				if e != nil {
					w.write(e, held, fresh)
					w.expr(e, held, fresh)
				}
			}
		}
		w.block(s.Body.List, maps.Clone(held), fresh)
	case *ast.SwitchStmt:
		h := maps.Clone(held)
		if s.Init != nil {
			w.stmt(s.Init, h, fresh)
		}
		if s.Tag != nil {
			w.expr(s.Tag, h, fresh)
		}
		w.clauses(s.Body, h, fresh)
	case *ast.TypeSwitchStmt:
		h := maps.Clone(held)
		if s.Init != nil {
			w.stmt(s.Init, h, fresh)
		}
		w.stmt(s.Assign, h, fresh)
		w.clauses(s.Body, h, fresh)
	case *ast.SelectStmt:
		for _, cl := range s.Body.List {
			cc := cl.(*ast.CommClause)
			h := maps.Clone(held)
			if cc.Comm != nil {
				w.stmt(cc.Comm, h, fresh)
			}
			w.block(cc.Body, h, fresh)
		}
	}
}

func (w *walker) clauses(body *ast.BlockStmt, held lockSet, fresh bool) {
	for _, cl := range body.List {
		cc := cl.(*ast.CaseClause)
		for _, e := range cc.List {
			w.expr(e, held, fresh)
		}
		w.block(cc.Body, maps.Clone(held), fresh)
	}
}

// deferStmt handles defer: a deferred unlock keeps the lock held to the end;
// a deferred call runs when the function returns, under the locks whose
// release was deferred before it.
func (w *walker) deferStmt(s *ast.DeferStmt, held lockSet, fresh bool) {
	if key, op := w.lockOp(s.Call); op == opUnlock {
		if e, ok := held[key]; ok {
			e.deferred = true
			held[key] = e
		}
		return
	}
	w.args(s.Call, held, fresh)
	if lit, ok := ast.Unparen(s.Call.Fun).(*ast.FuncLit); ok {
		// defer func() { mu.Unlock() }() and defer func() { <-sem }()
		// release at the end, too.
		ast.Inspect(lit.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ExprStmt:
				if call, ok := ast.Unparen(n.X).(*ast.CallExpr); ok {
					if key, op := w.lockOp(call); op == opUnlock {
						if e, ok := held[key]; ok {
							e.deferred = true
							held[key] = e
						}
					}
				}
			}
			if key, dir := chanOp(n); dir != chanNone {
				if e, ok := held["chan:"+key]; ok && e.acquire != dir {
					e.deferred = true
					held["chan:"+key] = e
				}
			}
			return true
		})
		w.block(lit.Body.List, held.atReturn(), fresh)
		return
	}
	w.edge(s.Call, held.atReturn().max(), fresh)
}

// args walks what a go or defer statement evaluates at once: the receiver
// and the arguments.
func (w *walker) args(call *ast.CallExpr, held lockSet, fresh bool) {
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		w.expr(sel.X, held, fresh)
	}
	for _, a := range call.Args {
		w.expr(a, held, fresh)
	}
}

// expr finds the calls and func literals in an expression (or declaration).
func (w *walker) expr(e ast.Node, held lockSet, fresh bool) {
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			// A callback, a handler or a stored closure: it runs at another
			// time, under none of the locks held here.
			w.block(n.Body.List, lockSet{}, true)
			return false
		case *ast.CallExpr:
			return w.call(n, held, fresh)
		}
		return true
	})
}

func (w *walker) call(call *ast.CallExpr, held lockSet, fresh bool) bool {
	info := w.c.pass.TypesInfo
	if lit, ok := ast.Unparen(call.Fun).(*ast.FuncLit); ok {
		// func() { ... }() runs now, under the current locks.
		for _, a := range call.Args {
			w.expr(a, held, fresh)
		}
		w.block(lit.Body.List, maps.Clone(held), fresh)
		return false
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := info.Uses[id].(*types.Builtin); ok {
			switch b.Name() {
			case "delete", "clear", "copy":
				if len(call.Args) > 0 {
					w.writeContents(call.Args[0], held, fresh)
				}
			}
			return true
		}
	}
	if fn, _ := typeutil.Callee(info, call).(*types.Func); isOnce(fn) {
		for _, a := range call.Args {
			if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok {
				w.block(lit.Body.List, lockSet{"sync.Once": {kind: lockWrite}}, true)
			} else {
				w.expr(a, held, fresh)
			}
		}
		w.expr(call.Fun, held, fresh)
		return false
	}
	w.edge(call, held.max(), fresh)
	return true
}

// isOnce reports whether fn runs a function at most once:
// (*sync.Once).Do, sync.OnceFunc, sync.OnceValue, sync.OnceValues.
func isOnce(fn *types.Func) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "sync" {
		return false
	}
	switch fn.Name() {
	case "OnceFunc", "OnceValue", "OnceValues":
		return fn.Signature().Recv() == nil
	case "Do":
		recv := fn.Signature().Recv()
		if recv == nil {
			return false
		}
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		return isNamed(t, "sync", "Once")
	}
	return false
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
		if held[key].kind < lockRead {
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

// terminates reports whether a block ends by leaving its enclosing code.
func terminates(b *ast.BlockStmt) bool {
	if len(b.List) == 0 {
		return false
	}
	switch s := b.List[len(b.List)-1].(type) {
	case *ast.ReturnStmt, *ast.BranchStmt:
		return true
	case *ast.ExprStmt:
		if call, ok := s.X.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
				return true
			}
		}
	}
	return false
}

// chanOp recognises the statements ch <- v and <-ch.
func chanOp(n ast.Node) (string, chanDir) {
	switch s := n.(type) {
	case *ast.SendStmt:
		return types.ExprString(ast.Unparen(s.Chan)), chanSend
	case *ast.ExprStmt:
		if u, ok := ast.Unparen(s.X).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
			return types.ExprString(ast.Unparen(u.X)), chanRecv
		}
	}
	return "", chanNone
}

// chanLock treats a channel as a lock (a semaphore): ch <- v followed in the
// same statement list by <-ch, or deferred <-ch, holds it in between; so does
// <-ch followed by ch <- v (a channel filled with tokens).
func (w *walker) chanLock(list []ast.Stmt, i int, held lockSet) {
	key, dir := chanOp(list[i])
	if dir == chanNone {
		return
	}
	k := "chan:" + key
	if e, ok := held[k]; ok && e.acquire != dir {
		delete(held, k)
		return
	}
	release := chanSend
	if dir == chanSend {
		release = chanRecv
	}
	for _, s := range list[i+1:] {
		if k2, d := chanOp(s); k2 == key && d == release {
			held[k] = lockEntry{kind: lockWrite, acquire: dir}
			return
		}
		if d, ok := s.(*ast.DeferStmt); ok {
			if lit, ok := ast.Unparen(d.Call.Fun).(*ast.FuncLit); ok {
				found := false
				ast.Inspect(lit.Body, func(n ast.Node) bool {
					if k2, d := chanOp(n); k2 == key && d == release {
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

// write records a write to e when e is rooted at shared state.
func (w *walker) write(e ast.Expr, held lockSet, fresh bool) {
	if id, ok := ast.Unparen(e).(*ast.Ident); ok && id.Name == "_" {
		return
	}
	t := w.resolve(e)
	if t == nil || !t.storageShared() {
		return
	}
	w.n.writes = append(w.n.writes, write{
		pos: e.Pos(), end: e.End(), t: t, typ: w.c.pass.TypesInfo.TypeOf(e),
		held: held.max(), fresh: fresh,
	})
}

// writeContents records delete(m, k), clear(x) and copy(dst, src): writes to
// the entries or elements of the map or slice e.
func (w *walker) writeContents(e ast.Expr, held lockSet, fresh bool) {
	t := w.resolve(e)
	if t == nil {
		return
	}
	s := step{kind: stepElem, indirect: true}
	if _, ok := w.c.pass.TypesInfo.TypeOf(e).Underlying().(*types.Map); ok {
		s.kind = stepEntry
	}
	t.steps = append(t.steps, s)
	if !t.storageShared() {
		return
	}
	w.n.writes = append(w.n.writes, write{pos: e.Pos(), end: e.End(), t: t, held: held.max(), fresh: fresh})
}

// edge records a static call of a function declared in this package, with
// the parameters through which it receives shared state.
func (w *walker) edge(call *ast.CallExpr, held lockKind, fresh bool) {
	info := w.c.pass.TypesInfo
	fn := typeutil.StaticCallee(info, call)
	if fn == nil {
		return
	}
	fi := w.c.decls[fn.Origin()]
	if fi == nil {
		return
	}
	sig := fi.sig
	var mask uint64
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal && sig.Recv() != nil {
			if w.recvShared(sel.X, s, sig.Recv().Type()) {
				mask |= 1
			}
		}
	}
	if n := sig.Params().Len(); n > 0 {
		for i, a := range call.Args {
			p := min(i, n-1)
			if p+1 >= 64 {
				break
			}
			if w.argShared(a) {
				mask |= 1 << (p + 1)
			}
		}
	}
	w.n.calls = append(w.n.calls, callEdge{caller: w.n, callee: w.c.node(fi, mask), held: held, fresh: fresh})
}

// recvShared reports whether a method called on x gets a receiver that
// refers to shared state.
func (w *walker) recvShared(x ast.Expr, sel *types.Selection, recv types.Type) bool {
	x = ast.Unparen(x)
	if u, ok := x.(*ast.UnaryExpr); ok && u.Op == token.AND {
		t := w.resolve(u.X)
		return t != nil && t.storageShared()
	}
	t := w.resolve(x)
	if t == nil || t.kind == rootNone {
		return false
	}
	_, recvPtr := types.Unalias(recv).(*types.Pointer)
	_, xPtr := w.c.pass.TypesInfo.TypeOf(x).Underlying().(*types.Pointer)
	switch {
	case xPtr:
		return true
	case recvPtr:
		// The method gets &x (or a field embedded in x).
		return t.storageShared() || (len(sel.Index()) > 1 && sel.Indirect())
	default:
		return hasRefs(recv, nil)
	}
}

// argShared reports whether the argument a passes a reference to shared state.
func (w *walker) argShared(a ast.Expr) bool {
	a = ast.Unparen(a)
	if u, ok := a.(*ast.UnaryExpr); ok && u.Op == token.AND {
		t := w.resolve(u.X)
		return t != nil && t.storageShared()
	}
	t := w.resolve(a)
	if t == nil || t.kind == rootNone {
		return false
	}
	return hasRefs(w.c.pass.TypesInfo.TypeOf(a), nil)
}

// hasRefs reports whether a value of type t refers to memory beyond itself,
// so that a copy still shares it.
func hasRefs(t types.Type, seen map[types.Type]bool) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return false
	case *types.Struct:
		if seen[t] {
			return false
		}
		if seen == nil {
			seen = make(map[types.Type]bool)
		}
		seen[t] = true
		for i := range u.NumFields() {
			if hasRefs(u.Field(i).Type(), seen) {
				return true
			}
		}
		return false
	case *types.Array:
		return hasRefs(u.Elem(), seen)
	default:
		return true // pointers, maps, slices, channels, funcs, interfaces, type parameters
	}
}
