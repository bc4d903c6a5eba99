package sharedstate

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// escapes reports whether the value of the func literal fi escapes the
// function it is written in, so that it outlives the call that built it:
// it is returned (and the callers keep what they get), stored into memory
// declared outside the function, sent on a channel, given to http.Handle,
// or given to a method of a value that escapes (mux.HandleFunc("/", h);
// return mux). A literal that is only called, converted, wrapped, bound to
// locals, or served where it is built (m(h).ServeHTTP(w, r)) stays with
// its call.
func (c *checker) escapes(fi *funcInfo) bool {
	if e, ok := c.escaped[fi]; ok {
		return e
	}
	c.escaped[fi] = false // a cycle
	e := fi.parent != nil && c.flows(fi.cur, fi.parent, make(map[*types.Var]bool))
	c.escaped[fi] = e
	return e
}

// flows reports whether the value of the expression at cur, in function d,
// escapes d.
func (c *checker) flows(cur inspector.Cursor, d *funcInfo, seen map[*types.Var]bool) bool {
	info := c.pass.TypesInfo
	for {
		parent := cur.Parent()
		switch cur.ParentEdgeKind() {
		case edge.ParenExpr_X, edge.UnaryExpr_X, edge.StarExpr_X, edge.CompositeLit_Elts,
			edge.KeyValueExpr_Value, edge.TypeAssertExpr_X, edge.IndexExpr_X, edge.SliceExpr_X:
			cur = parent
		case edge.CallExpr_Fun:
			return false // called
		case edge.CallExpr_Args:
			call := parent.Node().(*ast.CallExpr)
			if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
				cur = parent // http.HandlerFunc(h)
				continue
			}
			fn, _ := typeutil.Callee(info, call).(*types.Func)
			if fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == httpPath && fn.Signature().Recv() == nil &&
				(fn.Name() == "Handle" || fn.Name() == "HandleFunc") {
				return true // the DefaultServeMux keeps it
			}
			if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && !c.servesCall(call) {
				if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal {
					// mux.HandleFunc("/", h): the receiver may keep it.
					if v := rootVar(info, sel.X); v != nil && c.memEscapes(v, d, seen) {
						return true
					}
				}
			}
			cur = parent // the result may carry it: alice.New(m).Then(h)
		case edge.SelectorExpr_X:
			if parent.ParentEdgeKind() == edge.CallExpr_Fun {
				return false // h.ServeHTTP(w, r)
			}
			cur = parent // a method value or a field carries it
		case edge.ReturnStmt_Results:
			if c.enclosingCursorFunc(parent) == d {
				return c.returnsEscape(d)
			}
			return true
		case edge.AssignStmt_Rhs:
			as := parent.Node().(*ast.AssignStmt)
			if len(as.Lhs) != len(as.Rhs) {
				return true
			}
			return c.storeEscapes(as.Lhs[cur.ParentEdgeIndex()], d, seen)
		case edge.ValueSpec_Values:
			vs := parent.Node().(*ast.ValueSpec)
			if len(vs.Names) != len(vs.Values) {
				return true
			}
			v, _ := info.Defs[vs.Names[cur.ParentEdgeIndex()]].(*types.Var)
			return v == nil || c.varEscapes(v, d, seen)
		case edge.SendStmt_Value:
			return true
		default:
			return false
		}
	}
}

// storeEscapes reports whether a value assigned to lhs escapes d.
func (c *checker) storeEscapes(lhs ast.Expr, d *funcInfo, seen map[*types.Var]bool) bool {
	lhs = ast.Unparen(lhs)
	if id, ok := lhs.(*ast.Ident); ok {
		if id.Name == "_" {
			return false
		}
		v, _ := c.pass.TypesInfo.ObjectOf(id).(*types.Var)
		return v == nil || c.varEscapes(v, d, seen)
	}
	v := rootVar(c.pass.TypesInfo, lhs)
	return v == nil || c.memEscapes(v, d, seen)
}

// varEscapes reports whether a value assigned to the variable v escapes
// d: v is declared outside d (a package-level variable, one of an
// enclosing function), is a result of d that escapes, or is a local or
// parameter of d whose value escapes where it is used.
func (c *checker) varEscapes(v *types.Var, d *funcInfo, seen map[*types.Var]bool) bool {
	for r := range d.sig.Results().Variables() {
		if r == v {
			return c.returnsEscape(d)
		}
	}
	if !contains(d.node, v.Pos()) {
		return true
	}
	return c.usesEscape(v, d, seen)
}

// memEscapes reports whether a value kept in memory reached from v
// (v.f = h, v[k] = h, v.Handle("/", h)) escapes d: v is declared outside
// d's body (the memory is the caller's, or shared), or is a local whose
// value escapes. The request and the response writer belong to the
// request.
func (c *checker) memEscapes(v *types.Var, d *funcInfo, seen map[*types.Var]bool) bool {
	if isRequestType(v.Type()) || implementsResponseWriter(v.Type()) {
		return false
	}
	if !contains(d.body, v.Pos()) {
		return true
	}
	return c.usesEscape(v, d, seen)
}

// usesEscape reports whether the value of the local v escapes d where v is
// read.
func (c *checker) usesEscape(v *types.Var, d *funcInfo, seen map[*types.Var]bool) bool {
	if seen[v] {
		return false
	}
	seen[v] = true
	for cur := range d.cur.Preorder((*ast.Ident)(nil)) {
		if c.pass.TypesInfo.Uses[cur.Node().(*ast.Ident)] != v || cur.ParentEdgeKind() == edge.AssignStmt_Lhs {
			continue
		}
		if c.flows(cur, d, seen) {
			return true
		}
	}
	return false
}

// servesCall reports whether a call serves a request rather than keeps
// what it is given: x.ServeHTTP(w, r), or any call passed both a request
// and a response writer.
func (c *checker) servesCall(call *ast.CallExpr) bool {
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && sel.Sel.Name == "ServeHTTP" {
		return true
	}
	var req, rw bool
	for _, a := range call.Args {
		if t := c.pass.TypesInfo.TypeOf(a); t != nil {
			req = req || isRequestType(t)
			rw = rw || implementsResponseWriter(t)
		}
	}
	return req && rw
}

// rootVar returns the variable an expression is rooted at: x in x.f[i],
// s in s.router().Get; nil for a call of a function, a literal.
func rootVar(info *types.Info, e ast.Expr) *types.Var {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.SelectorExpr:
			if sel := info.Selections[x]; sel != nil {
				e = x.X
				continue
			}
			v, _ := info.Uses[x.Sel].(*types.Var)
			return v
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.UnaryExpr:
			e = x.X
		case *ast.CallExpr:
			sel, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr)
			if !ok || info.Selections[sel] == nil {
				return nil
			}
			e = sel.X
		case *ast.Ident:
			v, _ := info.ObjectOf(x).(*types.Var)
			return v
		default:
			return nil
		}
	}
}

// returnsEscape reports whether what d returns outlives the request it is
// built in: d is a literal, exported, or used other than by direct calls,
// or one of its callers runs once (setup code) or lets the result escape.
// A constructor passed to middleware.PerRequest returns a value for one
// request.
func (c *checker) returnsEscape(d *funcInfo) bool {
	if e, ok := c.returned[d]; ok {
		return e
	}
	c.returned[d] = false // a cycle
	e := c.returnsEscape1(d)
	c.returned[d] = e
	return e
}

func (c *checker) returnsEscape1(d *funcInfo) bool {
	if d.perRequest {
		return false
	}
	if d.obj == nil || d.obj.Exported() {
		return true
	}
	if c.funcUses == nil {
		c.funcUses = make(map[*types.Func][]inspector.Cursor)
		for cur := range c.preorder((*ast.Ident)(nil)) {
			if fn, ok := c.pass.TypesInfo.Uses[cur.Node().(*ast.Ident)].(*types.Func); ok {
				fn = fn.Origin()
				c.funcUses[fn] = append(c.funcUses[fn], cur)
			}
		}
	}
	uses := c.funcUses[d.obj]
	if len(uses) == 0 {
		return true // called through an interface, or from elsewhere
	}
	for _, use := range uses {
		call, ok := callOf(use)
		if !ok {
			return true // a method value, a func value
		}
		e := c.enclosingCursorFunc(call)
		if e == nil || !e.requestScoped() || c.flows(call, e, make(map[*types.Var]bool)) {
			return true
		}
	}
	return false
}

// callOf returns the call whose function the identifier names.
func callOf(cur inspector.Cursor) (inspector.Cursor, bool) {
	for {
		switch cur.ParentEdgeKind() {
		case edge.SelectorExpr_Sel, edge.IndexExpr_X, edge.IndexListExpr_X, edge.ParenExpr_X:
			cur = cur.Parent()
		case edge.CallExpr_Fun:
			return cur.Parent(), true
		default:
			return cur, false
		}
	}
}

// findSyncLocals finds the func literals bound to a local variable
// (f := func() { ... }, var f = func() { ... }) that is only ever called,
// directly, in the function that declares it: the walk follows such a
// literal at its calls, under the locks held there.
func (c *checker) findSyncLocals() {
	info := c.pass.TypesInfo
	cands := make(map[*types.Var]*ast.FuncLit)
	note := func(id *ast.Ident, val ast.Expr) {
		lit, ok := ast.Unparen(val).(*ast.FuncLit)
		if !ok {
			return
		}
		if v, ok := info.Defs[id].(*types.Var); ok && v.Parent() != c.pass.Pkg.Scope() {
			cands[v] = lit
		}
	}
	for cur := range c.preorder((*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil)) {
		switch n := cur.Node().(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						note(id, n.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i, id := range n.Names {
					note(id, n.Values[i])
				}
			}
		}
	}
	if len(cands) == 0 {
		return
	}
	bad := make(map[*types.Var]bool)
	for cur := range c.preorder((*ast.Ident)(nil)) {
		v, _ := info.Uses[cur.Node().(*ast.Ident)].(*types.Var)
		if _, ok := cands[v]; !ok {
			continue
		}
		if !directCall(cur) || c.enclosingCursorFunc(cur) != c.enclosingFunc(v.Pos()) {
			bad[v] = true
		}
	}
	for v, lit := range cands {
		if !bad[v] {
			c.syncLocals[v] = lit
			c.syncLits[lit] = true
		}
	}
}

type useKind int

const (
	useOK    useKind = iota // neutral: a field or method of a fresh value
	useFresh                // a fresh value served where it is built
	useBad                  // anything else: the value may be shared
)

// findFreshHandlers finds the unexported handler types that the package
// only ever builds fresh for one request and serves at once:
// (&page{...}).ServeHTTP(w, r), or p := &page{...}; p.ServeHTTP(w, r), in
// a function that serves a request, where every other use of the value and
// of the receivers of its methods selects a field or calls a method. Any
// other use of a value of the type (passed, stored, returned, converted to
// an interface, a field of the type in a struct) makes the type shared.
// The types found serve one request each, like middleware.PerRequest's.
func (c *checker) findFreshHandlers() {
	info := c.pass.TypesInfo
	cands := make(map[*types.TypeName]bool)
	for _, fi := range c.funcs {
		if fi.obj == nil || fi.obj.Name() != "ServeHTTP" || !fi.handler || fi.sig.Recv() == nil {
			continue
		}
		if tn := namedOf(fi.sig.Recv().Type()); tn != nil && !tn.Exported() && tn.Pkg() == c.pass.Pkg {
			cands[tn] = true
		}
	}
	if len(cands) == 0 {
		return
	}
	recvs := make(map[*types.Var]*types.TypeName)
	for _, fi := range c.funcs {
		if fi.obj != nil && fi.sig.Recv() != nil {
			if tn := namedOf(fi.sig.Recv().Type()); cands[tn] {
				recvs[fi.sig.Recv()] = tn
			}
		}
	}
	bad := make(map[*types.TypeName]bool)
	for _, obj := range info.Defs {
		if v, ok := obj.(*types.Var); ok && v.IsField() {
			if tn := heldType(v.Type()); cands[tn] {
				bad[tn] = true
			}
		}
	}
	fresh := make(map[*types.TypeName]int)
	locals := make(map[*types.Var]*types.TypeName)
	for _, f := range c.files {
		for cur := range f.Preorder() {
			e, ok := cur.Node().(ast.Expr)
			if !ok {
				continue
			}
			if id, ok := e.(*ast.Ident); ok && info.Defs[id] != nil {
				continue
			}
			tv, ok := info.Types[e]
			if !ok || !tv.IsValue() {
				continue
			}
			tn := namedOf(tv.Type)
			if !cands[tn] {
				continue
			}
			switch c.freshUse(cur, tn, locals, recvs) {
			case useFresh:
				fresh[tn]++
			case useBad:
				bad[tn] = true
			}
		}
	}
	for tn := range cands {
		if fresh[tn] > 0 && !bad[tn] {
			c.perRequestTypes[tn] = true
		}
	}
}

// freshUse classifies an expression whose type is T or *T, for a candidate
// handler type T.
func (c *checker) freshUse(cur inspector.Cursor, tn *types.TypeName, locals, recvs map[*types.Var]*types.TypeName) useKind {
	info := c.pass.TypesInfo
	switch x := cur.Node().(type) {
	case *ast.ParenExpr:
		return useOK // judged inside
	case *ast.CompositeLit:
		p := cur
		for p.ParentEdgeKind() == edge.ParenExpr_X {
			p = p.Parent()
		}
		if u, ok := p.Parent().Node().(*ast.UnaryExpr); ok && p.ParentEdgeKind() == edge.UnaryExpr_X && u.Op == token.AND {
			return useOK // judged at the &
		}
		return c.construction(cur, tn, locals)
	case *ast.UnaryExpr:
		if _, ok := ast.Unparen(x.X).(*ast.CompositeLit); ok && x.Op == token.AND {
			return c.construction(cur, tn, locals)
		}
	case *ast.CallExpr:
		if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok {
			if b, ok := info.Uses[id].(*types.Builtin); ok && b.Name() == "new" {
				return c.construction(cur, tn, locals)
			}
		}
	case *ast.Ident:
		if v, ok := info.Uses[x].(*types.Var); ok && (locals[v] == tn || recvs[v] == tn) {
			p := cur
			for p.ParentEdgeKind() == edge.ParenExpr_X {
				p = p.Parent()
			}
			if p.ParentEdgeKind() != edge.SelectorExpr_X {
				return useBad
			}
			sel := info.Selections[p.Parent().Node().(*ast.SelectorExpr)]
			if sel != nil && (sel.Kind() == types.FieldVal || sel.Kind() == types.MethodVal && p.Parent().ParentEdgeKind() == edge.CallExpr_Fun) {
				return useOK
			}
		}
	}
	return useBad
}

// construction classifies a fresh value of a candidate type: served at
// once ((&page{}).ServeHTTP(w, r)) or bound to a new local, in a function
// that serves a request, or anything else.
func (c *checker) construction(cur inspector.Cursor, tn *types.TypeName, locals map[*types.Var]*types.TypeName) useKind {
	info := c.pass.TypesInfo
	if fi := c.enclosingCursorFunc(cur); fi == nil || !fi.requestScoped() {
		return useBad
	}
	p := cur
	for p.ParentEdgeKind() == edge.ParenExpr_X {
		p = p.Parent()
	}
	var id *ast.Ident
	switch p.ParentEdgeKind() {
	case edge.SelectorExpr_X:
		if p.Parent().Node().(*ast.SelectorExpr).Sel.Name == "ServeHTTP" && p.Parent().ParentEdgeKind() == edge.CallExpr_Fun {
			return useFresh
		}
	case edge.AssignStmt_Rhs:
		as := p.Parent().Node().(*ast.AssignStmt)
		if as.Tok == token.DEFINE && len(as.Lhs) == len(as.Rhs) {
			id, _ = as.Lhs[p.ParentEdgeIndex()].(*ast.Ident)
		}
	case edge.ValueSpec_Values:
		vs := p.Parent().Node().(*ast.ValueSpec)
		if len(vs.Names) == len(vs.Values) {
			id = vs.Names[p.ParentEdgeIndex()]
		}
	}
	if id != nil {
		if v, ok := info.Defs[id].(*types.Var); ok {
			locals[v] = tn
			return useFresh
		}
	}
	return useBad
}

// namedOf returns the type name of T or *T, for a named T.
func namedOf(t types.Type) *types.TypeName {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj()
	}
	return nil
}

// heldType returns the named type a field's type holds: T, *T, []T, [n]T,
// map[K]T, chan T.
func heldType(t types.Type) *types.TypeName {
	for {
		switch u := types.Unalias(t).(type) {
		case *types.Pointer:
			t = u.Elem()
		case *types.Slice:
			t = u.Elem()
		case *types.Array:
			t = u.Elem()
		case *types.Map:
			t = u.Elem()
		case *types.Chan:
			t = u.Elem()
		case *types.Named:
			return u.Origin().Obj()
		default:
			return nil
		}
	}
}
