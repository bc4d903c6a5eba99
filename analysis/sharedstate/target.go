package sharedstate

import (
	"go/ast"
	"go/types"
	"slices"
	"strings"
)

// A rootKind says why a variable's state is shared by every request.
type rootKind int

const (
	rootNone     rootKind = iota
	rootPkg               // a package-level variable
	rootParam             // a receiver or parameter that refers to shared state
	rootCaptured          // a variable a handler closure captures from setup code
)

type stepKind int

const (
	stepField stepKind = iota
	stepEntry          // m[k] on a map
	stepElem           // s[i] on a slice or array
	stepDeref          // *p
	stepOther          // s[i:j], x.(T): no change of name
)

// A step is one selector, index or dereference on the way from a root
// variable to the memory written.
type step struct {
	kind     stepKind
	expr     ast.Expr
	indirect bool // goes through a pointer, map or slice: reaches memory outside the variable
}

// A target is an assignable expression resolved to its root variable.
type target struct {
	root     *types.Var
	rootExpr ast.Expr
	kind     rootKind
	steps    []step // from the root outwards
	isRecv   bool
	from     string // rootCaptured: the function that declares root
}

func (t *target) indirect() bool {
	return slices.ContainsFunc(t.steps, func(s step) bool { return s.indirect })
}

// storageShared reports whether the memory the target names is shared, so
// that writing it is a write to shared state.
func (t *target) storageShared() bool {
	switch t.kind {
	case rootPkg, rootCaptured:
		return true
	case rootParam:
		return t.indirect()
	}
	return false
}

// resolve follows selectors, indexes and dereferences from e down to a
// variable. It returns nil when e is not rooted at a variable (a call's
// result, a composite literal).
func (w *walker) resolve(e ast.Expr) *target {
	info := w.c.pass.TypesInfo
	var steps []step
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.SelectorExpr:
			sel := info.Selections[x]
			if sel == nil { // a qualified identifier: pkg.Var
				v, _ := info.Uses[x.Sel].(*types.Var)
				return w.finish(v, x, steps)
			}
			if sel.Kind() != types.FieldVal {
				return nil
			}
			steps = append(steps, step{kind: stepField, expr: x, indirect: sel.Indirect()})
			e = x.X
		case *ast.IndexExpr:
			tv, ok := info.Types[x.X]
			if !ok || !tv.IsValue() {
				return nil
			}
			switch tv.Type.Underlying().(type) {
			case *types.Map:
				steps = append(steps, step{kind: stepEntry, expr: x, indirect: true})
			case *types.Slice:
				steps = append(steps, step{kind: stepElem, expr: x, indirect: true})
			case *types.Pointer:
				steps = append(steps, step{kind: stepElem, expr: x, indirect: true})
			case *types.Array:
				steps = append(steps, step{kind: stepElem, expr: x})
			default:
				return nil
			}
			e = x.X
		case *ast.StarExpr:
			steps = append(steps, step{kind: stepDeref, expr: x, indirect: true})
			e = x.X
		case *ast.SliceExpr:
			_, isArray := info.TypeOf(x.X).Underlying().(*types.Array)
			steps = append(steps, step{kind: stepOther, expr: x, indirect: !isArray})
			e = x.X
		case *ast.TypeAssertExpr:
			steps = append(steps, step{kind: stepOther, expr: x})
			e = x.X
		case *ast.Ident:
			v, _ := info.Uses[x].(*types.Var)
			return w.finish(v, x, steps)
		default:
			return nil
		}
	}
}

func (w *walker) finish(v *types.Var, rootExpr ast.Expr, steps []step) *target {
	if v == nil || v.IsField() {
		return nil
	}
	slices.Reverse(steps)
	t := &target{root: v, rootExpr: rootExpr, steps: steps}
	switch {
	case v.Pkg() != nil && v.Parent() == v.Pkg().Scope():
		t.kind = rootPkg
	case w.shared[v]:
		t.kind = rootParam
		t.isRecv = v == w.n.fn.sig.Recv()
	case w.captured(v):
		t.kind = rootCaptured
		t.from = w.c.enclosingFunc(v.Pos()).name
	}
	return t
}

// captured reports whether v, used in a func literal being walked, is
// declared outside it and shared by every request. That is so when
//
//   - the walk started from a handler literal (a root), v is declared
//     outside it, and the function that declares v runs once for every
//     request: setup code, not a handler, not a function a handler calls,
//     not a constructor passed to middleware.PerRequest; or
//   - the literal, or one it is nested in, is a handler, and the outermost
//     of them within the function that declares v escapes that function
//     (returned, stored outside it, registered on a mux that is), however
//     that function was reached: the handler it builds outlives the call
//     and serves many requests.
func (w *walker) captured(v *types.Var) bool {
	in := w.inner
	if in == nil || v.Pkg() != w.c.pass.Pkg || contains(in.node, v.Pos()) {
		return false
	}
	d := w.c.enclosingFunc(v.Pos())
	if d == nil {
		return false
	}
	if w.lit != nil && !contains(w.lit.node, v.Pos()) && !d.requestScoped() {
		return true
	}
	handler := false
	l := in
	for ; l != nil && l.parent != d; l = l.parent {
		handler = handler || l.handler
	}
	if l == nil {
		return false
	}
	return (handler || l.handler) && w.c.escapes(l)
}

// describe names the written memory: "field total of its receiver", "an
// entry of package-level variable hits", "n, captured from Count,".
func (t *target) describe(steps []step) string {
	if len(steps) == 0 {
		switch t.kind {
		case rootPkg:
			name := t.root.Name()
			if sel, ok := t.rootExpr.(*ast.SelectorExpr); ok {
				name = types.ExprString(sel)
			}
			return "package-level variable " + name
		case rootCaptured:
			return t.root.Name() + ", captured from " + t.from + ","
		}
		if t.isRecv {
			return "its receiver"
		}
		return "parameter " + t.root.Name()
	}
	last := steps[len(steps)-1]
	rest := steps[:len(steps)-1]
	switch last.kind {
	case stepField:
		return "field " + t.relative(last.expr) + " of " + t.describe(nil)
	case stepEntry:
		return "an entry of " + t.describe(rest)
	case stepElem:
		return "an element of " + t.describe(rest)
	case stepDeref:
		return "the pointee of " + t.describe(rest)
	}
	return t.describe(rest)
}

// relative renders a field path without its root: "c.stats.hits" becomes
// "stats.hits".
func (t *target) relative(e ast.Expr) string {
	s := types.ExprString(e)
	root := types.ExprString(t.rootExpr)
	if r, ok := strings.CutPrefix(s, root+"."); ok {
		return r
	}
	if r, ok := strings.CutPrefix(s, "(*"+root+")."); ok {
		return r
	}
	return e.(*ast.SelectorExpr).Sel.Name
}

// message is the diagnostic for an unguarded write.
func (wr write) message(subject string, held lockKind, recvType types.Type, qual types.Qualifier) string {
	t := wr.t
	what := t.describe(t.steps)
	verb := "writes " + what
	if wr.via != "" {
		verb = "passes the address of " + what + " to " + wr.via + ", which may write it,"
	}
	if held == lockRead {
		sep := ","
		if t.kind == rootCaptured || wr.via != "" {
			sep = ""
		}
		written := " written"
		if wr.via != "" {
			written = ""
		}
		return subject + " " + verb + sep + written + " under RLock: a read lock lets other readers run at once; use Lock"
	}
	guard := "guard it with a sync.Mutex"
	if hint := wr.atomicHint(); hint != "" {
		guard += ", use an atomic (" + hint + "),"
	}
	switch t.kind {
	case rootPkg:
		return subject + " " + verb + " without a lock: every request goroutine shares it; " + guard + " or keep per-request state in locals"
	case rootCaptured:
		if wr.via != "" {
			return subject + " " + verb + " and every request shares it: " + guard + " or declare it inside the handler so each request gets its own"
		}
		return subject + " " + verb + " which every request shares: " + guard + " or declare it inside the handler so each request gets its own"
	}
	why := "the caller passes it state that every request goroutine shares"
	if t.isRecv {
		if _, ok := types.Unalias(recvType).(*types.Pointer); ok {
			why = "one " + types.TypeString(recvType, qual) + " serves every request goroutine at once"
		} else {
			why = "copies of " + types.TypeString(recvType, qual) + " share it with every request goroutine"
		}
	}
	return subject + " " + verb + " without a lock: " + why + "; " + guard + " or keep per-request state in locals or middleware.PerRequest"
}

// atomicHint names the sync/atomic type that replaces a written variable of
// this type, when there is one.
func (wr write) atomicHint() string {
	if wr.typ == nil || wr.via != "" {
		return ""
	}
	if n := len(wr.t.steps); n > 0 && wr.t.steps[n-1].kind != stepField && wr.t.steps[n-1].kind != stepDeref {
		return "" // a map entry cannot be atomic; a slice element should not be
	}
	switch u := wr.typ.Underlying().(type) {
	case *types.Basic:
		switch u.Kind() {
		case types.Int, types.Int64:
			return "sync/atomic.Int64"
		case types.Int32:
			return "sync/atomic.Int32"
		case types.Uint, types.Uint64:
			return "sync/atomic.Uint64"
		case types.Uint32:
			return "sync/atomic.Uint32"
		case types.Uintptr:
			return "sync/atomic.Uintptr"
		case types.Bool:
			return "sync/atomic.Bool"
		}
	case *types.Pointer:
		return "sync/atomic.Pointer"
	}
	return ""
}
