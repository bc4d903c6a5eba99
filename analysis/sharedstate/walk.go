package sharedstate

import (
	"go/ast"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// A walker walks one node's function body in statement order, tracking the
// locks held, and records the node's writes to shared state and its calls.
type walker struct {
	c      *checker
	n      *node
	shared map[*types.Var]bool // receiver and parameters that refer to shared state
	lit    *funcInfo           // a handler literal root: variables it captures may be shared
	inner  *funcInfo           // the innermost func literal being walked; nil in a declaration's own body
	frame  *frame              // the jumps of the function body being walked

	// dry walks compute lock states only, for summaries: they record no
	// writes and no calls, and show every call to onCall.
	dry    bool
	onCall func(call *ast.CallExpr, held lockSet)
}

// A frame collects the lock sets at the jumps of one function body: its
// returns, and the breaks and continues of the statements that enclose
// the point being walked.
type frame struct {
	targets []*jumpTarget
	returns []lockSet
}

// A jumpTarget is a loop, switch or select that break (and for a loop,
// continue) can leave.
type jumpTarget struct {
	label     string
	loop      bool
	breaks    []lockSet
	continues []lockSet
}

func (f *frame) find(label string, loop bool) *jumpTarget {
	for i := len(f.targets) - 1; i >= 0; i-- {
		t := f.targets[i]
		if (label != "" && t.label == label) || (label == "" && (t.loop || !loop)) {
			return t
		}
	}
	return nil
}

type write struct {
	pos, end token.Pos
	t        *target
	typ      types.Type // the written value's type; nil for delete, clear and copy
	held     lockKind
	fresh    bool   // in a func literal that runs outside the function's locks
	via      string // the function of another package given the address: "fmt.Sscan"
}

// block walks a statement list, updating held to the locks held at its
// end, and reports whether its end is reachable (it falls through).
func (w *walker) block(list []ast.Stmt, held lockSet, fresh bool) bool {
	falls := true
	for i, s := range list {
		w.chanLock(list, i, held)
		if !w.stmt(s, "", held, fresh) {
			// What follows is unreachable, or a goto's label: walk it
			// with what is held here.
			falls = false
		} else if _, ok := s.(*ast.LabeledStmt); ok {
			falls = true
		}
	}
	return falls
}

// stmt walks one statement (labeled with label, when it is the body of a
// labeled statement), updating held, and reports whether control can fall
// through to the next statement.
func (w *walker) stmt(s ast.Stmt, label string, held lockSet, fresh bool) bool {
	switch s := s.(type) {
	case *ast.BlockStmt:
		return w.block(s.List, held, fresh)
	case *ast.LabeledStmt:
		return w.stmt(s.Stmt, s.Label.Name, held, fresh)
	case *ast.ExprStmt:
		if call, ok := ast.Unparen(s.X).(*ast.CallExpr); ok {
			if key, op := w.lockOp(call); op == opLock || op == opRLock || op == opUnlock {
				applyLock(held, key, op)
				return true
			}
			if effects := w.lockEffects(call); len(effects) > 0 {
				w.expr(s.X, held, fresh)
				for _, e := range effects {
					applyLock(held, e.key, e.op)
				}
				return true
			}
			if w.terminating(call) {
				w.expr(s.X, held, fresh)
				return false
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
		w.frame.returns = append(w.frame.returns, maps.Clone(held))
		return false
	case *ast.BranchStmt:
		name := ""
		if s.Label != nil {
			name = s.Label.Name
		}
		switch s.Tok {
		case token.BREAK:
			if t := w.frame.find(name, false); t != nil {
				t.breaks = append(t.breaks, maps.Clone(held))
			}
		case token.CONTINUE:
			if t := w.frame.find(name, true); t != nil {
				t.continues = append(t.continues, maps.Clone(held))
			}
		case token.FALLTHROUGH:
			// Into the next clause; counted as leaving the switch.
			return true
		}
		return false
	case *ast.GoStmt:
		w.args(s.Call, held, fresh)
		if lit, ok := ast.Unparen(s.Call.Fun).(*ast.FuncLit); ok {
			w.litBody(lit, lockSet{}, true)
			return true
		}
		w.edge(s.Call, lockNone, true)
	case *ast.DeferStmt:
		w.deferStmt(s, held, fresh)
	case *ast.IfStmt:
		return w.ifStmt(s, held, fresh)
	case *ast.ForStmt:
		if s.Init != nil {
			w.stmt(s.Init, "", held, fresh)
		}
		return w.loop(label, s.Cond, s.Post, s.Body, s.Cond != nil, held, fresh)
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
		return w.loop(label, nil, nil, s.Body, true, held, fresh)
	case *ast.SwitchStmt:
		if s.Init != nil {
			w.stmt(s.Init, "", held, fresh)
		}
		if s.Tag != nil {
			w.expr(s.Tag, held, fresh)
		}
		return w.clauses(label, s.Body, held, fresh)
	case *ast.TypeSwitchStmt:
		if s.Init != nil {
			w.stmt(s.Init, "", held, fresh)
		}
		w.stmt(s.Assign, "", held, fresh)
		return w.clauses(label, s.Body, held, fresh)
	case *ast.SelectStmt:
		t := &jumpTarget{label: label}
		w.frame.targets = append(w.frame.targets, t)
		var paths []lockSet
		for _, cl := range s.Body.List {
			cc := cl.(*ast.CommClause)
			h := maps.Clone(held)
			if cc.Comm != nil {
				w.stmt(cc.Comm, "", h, fresh)
			}
			if w.block(cc.Body, h, fresh) {
				paths = append(paths, h)
			}
		}
		w.frame.targets = w.frame.targets[:len(w.frame.targets)-1]
		return join(held, append(paths, t.breaks...))
	}
	return true
}

// ifStmt walks both branches from what the condition leaves held and joins
// the ones that fall through: an if without else contributes the state
// before it, and a branch that returns contributes nothing, so
// mu.Lock(); if bad { mu.Unlock(); return }; c.n++ is guarded. A TryLock
// condition holds the lock in the branch where it succeeded.
func (w *walker) ifStmt(s *ast.IfStmt, held lockSet, fresh bool) bool {
	if s.Init != nil {
		w.stmt(s.Init, "", held, fresh)
	}
	w.expr(s.Cond, held, fresh)
	key, op, negated := w.tryLock(s.Cond)
	var paths []lockSet
	body := maps.Clone(held)
	if op != opNone && !negated {
		applyLock(body, key, op)
	}
	if w.block(s.Body.List, body, fresh) {
		paths = append(paths, body)
	}
	els := maps.Clone(held)
	if op != opNone && negated {
		applyLock(els, key, op)
	}
	if s.Else == nil || w.stmt(s.Else, "", els, fresh) {
		paths = append(paths, els)
	}
	return join(held, paths)
}

// loop walks a for or range body. The body starts with what every way into
// it holds: the state before the loop, and the end of an iteration (its
// fall through and its continues, after post). When one pass shows an
// iteration ends with less than it started with, a second pass walks the
// body from that. After the loop, what the head holds (when a condition or
// range can end it: ends) meets what every break holds.
func (w *walker) loop(label string, cond ast.Expr, post ast.Stmt, body *ast.BlockStmt, ends bool, held lockSet, fresh bool) bool {
	entry := maps.Clone(held)
	var t *jumpTarget
	var head lockSet
	for pass := 0; pass < 2; pass++ {
		t = &jumpTarget{label: label, loop: true}
		if cond != nil {
			w.expr(cond, entry, fresh)
		}
		h := maps.Clone(entry)
		w.frame.targets = append(w.frame.targets, t)
		falls := w.block(body.List, h, fresh)
		w.frame.targets = w.frame.targets[:len(w.frame.targets)-1]
		back := t.continues
		if falls {
			back = append(back, h)
		}
		head = entry
		if len(back) > 0 {
			end := meet(back)
			if post != nil {
				w.stmt(post, "", end, fresh)
			}
			head = meet([]lockSet{entry, end})
		}
		if maps.EqualFunc(head, entry, func(a, b lockEntry) bool { return a == b }) {
			break
		}
		entry = head
	}
	paths := t.breaks
	if ends {
		paths = append(paths, head)
	}
	return join(held, paths)
}

// clauses walks the clauses of a switch, each from what the tag leaves
// held, and joins those that fall out of it, the breaks, and (without a
// default) the state before it.
func (w *walker) clauses(label string, body *ast.BlockStmt, held lockSet, fresh bool) bool {
	t := &jumpTarget{label: label}
	w.frame.targets = append(w.frame.targets, t)
	var paths []lockSet
	hasDefault := false
	for _, cl := range body.List {
		cc := cl.(*ast.CaseClause)
		if cc.List == nil {
			hasDefault = true
		}
		for _, e := range cc.List {
			w.expr(e, held, fresh)
		}
		h := maps.Clone(held)
		if w.block(cc.Body, h, fresh) {
			paths = append(paths, h)
		}
	}
	w.frame.targets = w.frame.targets[:len(w.frame.targets)-1]
	paths = append(paths, t.breaks...)
	if !hasDefault {
		paths = append(paths, maps.Clone(held))
	}
	return join(held, paths)
}

// terminating reports whether a call never returns: panic, os.Exit,
// runtime.Goexit, log.Fatal and log.Panic and their Logger methods.
func (w *walker) terminating(call *ast.CallExpr) bool {
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := w.c.pass.TypesInfo.Uses[id].(*types.Builtin); ok {
			return b.Name() == "panic"
		}
	}
	fn, _ := typeutil.Callee(w.c.pass.TypesInfo, call).(*types.Func)
	if fn == nil || fn.Pkg() == nil {
		return false
	}
	switch fn.Pkg().Path() {
	case "os":
		return fn.Name() == "Exit"
	case "runtime":
		return fn.Name() == "Goexit"
	case "log":
		return strings.HasPrefix(fn.Name(), "Fatal") || strings.HasPrefix(fn.Name(), "Panic")
	}
	return false
}

// deferStmt handles defer: a deferred unlock keeps the lock held to the end;
// a deferred call runs when the function returns, under the locks whose
// release was deferred before it.
func (w *walker) deferStmt(s *ast.DeferStmt, held lockSet, fresh bool) {
	deferRelease := func(key string) {
		if e, ok := held[key]; ok {
			e.deferred = true
			held[key] = e
		}
	}
	if key, op := w.lockOp(s.Call); op == opUnlock {
		deferRelease(key)
		return
	}
	if effects := w.lockEffects(s.Call); len(effects) > 0 && !slices.ContainsFunc(effects, func(e lockEffect) bool { return e.op != opUnlock }) {
		// defer s.unlock(), a helper of this package.
		for _, e := range effects {
			deferRelease(e.key)
		}
		w.args(s.Call, held, fresh)
		w.edge(s.Call, held.atReturn().max(), fresh)
		return
	}
	if inner, ok := ast.Unparen(s.Call.Fun).(*ast.CallExpr); ok {
		// defer s.lock()(): the helper locks now and returns the unlock.
		if sum, _ := w.calleeSummary(inner); sum != nil && sum.returnsFunc {
			effects := w.lockEffects(inner)
			if slices.ContainsFunc(effects, func(e lockEffect) bool { return e.op == opLock || e.op == opRLock }) {
				w.expr(inner, held, fresh)
				for _, e := range effects {
					applyLock(held, e.key, e.op)
					deferRelease(e.key)
				}
				return
			}
		}
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
						deferRelease(key)
					}
				}
			}
			if ch, dir := chanOp(n); dir != chanNone {
				k := "chan:" + types.ExprString(ch)
				if e, ok := held[k]; ok && e.acquire != dir {
					deferRelease(k)
				}
			}
			return true
		})
		w.litBody(lit, held.atReturn(), fresh)
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

// litBody walks the body of a func literal, with its own returns and jumps.
func (w *walker) litBody(lit *ast.FuncLit, held lockSet, fresh bool) {
	inner, fr := w.inner, w.frame
	w.inner, w.frame = w.c.byLit[lit], &frame{}
	w.block(lit.Body.List, held, fresh)
	w.inner, w.frame = inner, fr
}

// expr finds the calls and func literals in an expression (or declaration).
func (w *walker) expr(e ast.Node, held lockSet, fresh bool) {
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			if w.c.syncLits[n] {
				// f := func() { ... }, only ever called: walked where it
				// is called.
				return false
			}
			// A callback, a handler or a stored closure: it runs at another
			// time, under none of the locks held here.
			w.litBody(n, lockSet{}, true)
			return false
		case *ast.CallExpr:
			return w.call(n, held, fresh)
		}
		return true
	})
}

func (w *walker) call(call *ast.CallExpr, held lockSet, fresh bool) bool {
	if w.onCall != nil {
		w.onCall(call, held)
	}
	info := w.c.pass.TypesInfo
	fun := ast.Unparen(call.Fun)
	if lit, ok := fun.(*ast.FuncLit); ok {
		// func() { ... }() runs now, under the current locks.
		for _, a := range call.Args {
			w.expr(a, held, fresh)
		}
		w.litBody(lit, maps.Clone(held), fresh)
		return false
	}
	if id, ok := fun.(*ast.Ident); ok {
		if v, ok := info.Uses[id].(*types.Var); ok && w.c.syncLocals[v] != nil {
			// update := func() { ... }; update(): runs now.
			for _, a := range call.Args {
				w.expr(a, held, fresh)
			}
			w.litBody(w.c.syncLocals[v], maps.Clone(held), fresh)
			return false
		}
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
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	if isOnce(fn) {
		for _, a := range call.Args {
			if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok {
				w.litBody(lit, lockSet{"sync.Once": {kind: lockWrite}}, true)
			} else {
				w.expr(a, held, fresh)
			}
		}
		w.expr(call.Fun, held, fresh)
		return false
	}
	w.addrArgs(call, fn, held, fresh)
	if runs := w.syncArgs(call, fn); len(runs) > 0 {
		// sort.Slice(s, func(i, j int) bool { ... }), x.withLock(func() {
		// ... }): the callee runs the literal before it returns.
		w.expr(call.Fun, held, fresh)
		for i, a := range call.Args {
			lit, isLit := ast.Unparen(a).(*ast.FuncLit)
			k, runsNow := runs[i]
			if !isLit || !runsNow {
				w.expr(a, held, fresh)
				continue
			}
			h := maps.Clone(held)
			if k > lockNone {
				h["call:"+fn.Name()] = lockEntry{kind: k}
			}
			w.litBody(lit, h, fresh)
		}
		w.edge(call, held.max(), fresh)
		return false
	}
	w.edge(call, held.max(), fresh)
	return true
}

// syncArgs returns the indexes of the arguments that are func literals the
// callee calls before it returns, with the lock it holds around them: the
// callbacks of sort, slices, maps, strings, bytes, (*sync.Map).Range and
// the filepath walks, and the func parameters that a function of this
// package only calls directly (its summary).
func (w *walker) syncArgs(call *ast.CallExpr, fn *types.Func) map[int]lockKind {
	if fn == nil {
		return nil
	}
	var out map[int]lockKind
	if fi := w.c.decls[fn.Origin()]; fi != nil {
		for i, k := range w.c.summary(fi).calls {
			if i < len(call.Args) {
				if _, ok := ast.Unparen(call.Args[i]).(*ast.FuncLit); ok {
					if out == nil {
						out = make(map[int]lockKind)
					}
					out[i] = k
				}
			}
		}
		return out
	}
	if !syncCallback(fn) {
		return nil
	}
	for i, a := range call.Args {
		if _, ok := ast.Unparen(a).(*ast.FuncLit); ok {
			if out == nil {
				out = make(map[int]lockKind)
			}
			out[i] = lockNone
		}
	}
	return out
}

// syncCallback reports whether fn is a function of the standard library
// that calls its func arguments before it returns, and only then.
func syncCallback(fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	name := fn.Name()
	switch fn.Pkg().Path() {
	case "sort":
		switch name {
		case "Slice", "SliceStable", "SliceIsSorted", "Search", "Find":
			return fn.Signature().Recv() == nil
		}
	case "slices":
		return strings.HasSuffix(name, "Func")
	case "maps":
		return name == "DeleteFunc" || name == "EqualFunc"
	case "strings", "bytes":
		return name == "Map" || strings.HasSuffix(name, "Func")
	case "sync":
		if name == "Range" {
			if recv := fn.Signature().Recv(); recv != nil {
				p, ok := recv.Type().(*types.Pointer)
				return ok && isNamed(p.Elem(), "sync", "Map")
			}
		}
	case "path/filepath":
		return name == "Walk" || name == "WalkDir"
	case "io/fs":
		return name == "WalkDir"
	}
	return false
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

// write records a write to e when e is rooted at shared state.
func (w *walker) write(e ast.Expr, held lockSet, fresh bool) {
	if w.dry {
		return
	}
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
	if w.dry {
		return
	}
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

// addrArgs records &x passed to a function or method of another package
// when x is shared state: json.NewDecoder(r.Body).Decode(&s.cfg) and
// fmt.Sscan(v, &c.n) write what they are given, out of the analyzer's
// sight. It leaves out the callees that only read (fmt's and log's
// printing, the encoders, template execution), sync and sync/atomic, and
// values that hold their own sync or atomic state (&s.mu, &s.stats with a
// mutex inside), whose methods guard themselves.
func (w *walker) addrArgs(call *ast.CallExpr, fn *types.Func, held lockSet, fresh bool) {
	if w.dry || fn == nil || fn.Pkg() == nil || fn.Pkg() == w.c.pass.Pkg || readOnly(fn) {
		return
	}
	for _, a := range call.Args {
		u, ok := ast.Unparen(a).(*ast.UnaryExpr)
		if !ok || u.Op != token.AND {
			continue
		}
		typ := w.c.pass.TypesInfo.TypeOf(u.X)
		if typ == nil || hasSyncState(typ, nil) {
			continue
		}
		t := w.resolve(u.X)
		if t == nil || !t.storageShared() {
			continue
		}
		w.n.writes = append(w.n.writes, write{
			pos: a.Pos(), end: a.End(), t: t, typ: typ,
			held: held.max(), fresh: fresh, via: calleeName(fn),
		})
	}
}

// readOnly reports whether fn only reads what its pointer arguments point
// to, or guards it itself: sync, sync/atomic, context, log and log/slog;
// reflect.DeepEqual and TypeOf; and, in any package, the functions and
// methods named for printing, logging, encoding or executing a template
// (Print, Sprint, Fprint, Errorf, Marshal, Encode, Execute, Log, Debug,
// Info, Warn, Error, and fmt's Append).
func readOnly(fn *types.Func) bool {
	name := fn.Name()
	switch fn.Pkg().Path() {
	case "sync", "sync/atomic", "context", "log", "log/slog":
		return true
	case "reflect":
		return name == "DeepEqual" || name == "TypeOf"
	case "fmt":
		if strings.HasPrefix(name, "Append") {
			return true
		}
	}
	for _, p := range readPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

var readPrefixes = []string{"Print", "Sprint", "Fprint", "Errorf", "Marshal", "Encode", "Execute", "Log", "Debug", "Info", "Warn", "Error"}

// hasSyncState reports whether a value of type t holds a value of a sync
// or sync/atomic type (not through a pointer).
func hasSyncState(t types.Type, seen map[types.Type]bool) bool {
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
		if p := n.Obj().Pkg().Path(); p == "sync" || p == "sync/atomic" {
			return true
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		if seen[t] {
			return false
		}
		if seen == nil {
			seen = make(map[types.Type]bool)
		}
		seen[t] = true
		for i := range u.NumFields() {
			if hasSyncState(u.Field(i).Type(), seen) {
				return true
			}
		}
	case *types.Array:
		return hasSyncState(u.Elem(), seen)
	}
	return false
}

// calleeName names a function of another package as a reader writes it:
// "fmt.Sscan", "encoding/json.(*Decoder).Decode".
func calleeName(fn *types.Func) string {
	fn = fn.Origin()
	recv := fn.Signature().Recv()
	if recv == nil {
		return fn.Pkg().Path() + "." + fn.Name()
	}
	t, star := recv.Type(), ""
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t, star = p.Elem(), "*"
	}
	name := types.TypeString(t, func(*types.Package) string { return "" })
	if n, ok := types.Unalias(t).(*types.Named); ok {
		name = n.Obj().Name()
	}
	return fn.Pkg().Path() + ".(" + star + name + ")." + fn.Name()
}

// edge records a static call of a function declared in this package, with
// the parameters through which it receives shared state.
func (w *walker) edge(call *ast.CallExpr, held lockKind, fresh bool) {
	if w.dry {
		return
	}
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
