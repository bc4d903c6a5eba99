package sharedstate

import (
	"go/ast"
	"go/token"
	"go/types"
	"iter"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer reports writes to state that every request goroutine shares
// (handler receivers, package-level variables, variables captured by handler
// closures), done from HTTP handlers, or from functions they call in the same
// package, without a lock. The package documentation lists the rules.
//
// Analyzer is a value for the analysis framework: its Run is safe for
// concurrent use on different packages, and it reports problems as
// diagnostics, never as errors. Its flag -tests is read when a pass starts.
var Analyzer = &analysis.Analyzer{
	Name:     "sharedstate",
	Doc:      "report unguarded writes to shared state from HTTP handlers\n\nA handler serves every request goroutine at once; its receiver, package-level variables and variables its closure captures are shared by all of them. The analyzer reports writes to them that no sync.Mutex, sync.Once, channel semaphore or //hatagovet:ignore directive guards.",
	URL:      "https://pkg.go.dev/github.com/hatago/hatago/analysis/sharedstate",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// analyzeTests is the -tests flag.
var analyzeTests bool

func init() {
	Analyzer.Flags.BoolVar(&analyzeTests, "tests", false,
		"also analyse _test.go files (off by default: tests often record into a handler closure from one goroutine)")
}

const (
	httpPath       = "net/http"
	middlewarePath = "github.com/hatago/hatago/middleware"
)

// A funcInfo is a function declaration or literal in an analysed file.
type funcInfo struct {
	node   ast.Node // *ast.FuncDecl or *ast.FuncLit
	cur    inspector.Cursor
	obj    *types.Func
	sig    *types.Signature
	body   *ast.BlockStmt
	parent *funcInfo // the function the literal is nested in; nil for declarations
	name   string    // "(*Counter).ServeHTTP", "handleIndex", "a func literal in Count"

	handler    bool // has the signature func(http.ResponseWriter, *http.Request)
	serves     bool // takes a request or response writer, or passes both on (next.ServeHTTP(w, r))
	called     bool // a handler declaration called directly in the package
	valueUse   bool // a handler declaration used as a value (mux.HandleFunc("/", s.handleIndex))
	perRequest bool // a constructor passed to middleware.PerRequest
	reachable  bool // a declaration called, transitively, from a handler
	callees    []*funcInfo
	children   []*funcInfo
}

// requestScoped reports whether fi runs once per request (or is nested in
// something that does), so that variables it declares belong to one request.
func (fi *funcInfo) requestScoped() bool {
	for f := fi; f != nil; f = f.parent {
		if f.handler || f.perRequest || f.reachable || f.serves {
			return true
		}
	}
	return false
}

// A checker holds the state of one pass.
type checker struct {
	pass  *analysis.Pass
	files []inspector.Cursor // the files analysed: all, or all but tests
	funcs []*funcInfo        // source order
	byLit map[*ast.FuncLit]*funcInfo
	decls map[*types.Func]*funcInfo

	perRequestTypes map[*types.TypeName]bool
	chanCaps        map[types.Object]chanCap
	syncLocals      map[*types.Var]*ast.FuncLit // f := func() { ... }, only ever called
	syncLits        map[*ast.FuncLit]bool       // the literals of syncLocals
	summaries       map[*funcInfo]*summary
	escaped         map[*funcInfo]bool // a func literal escapes its function
	returned        map[*funcInfo]bool // what a function returns escapes its callers
	funcUses        map[*types.Func][]inspector.Cursor
	enclosing       map[token.Pos]*funcInfo

	nodes map[nodeKey]*node
	order []*node
	queue []*node
}

func run(pass *analysis.Pass) (any, error) {
	c := &checker{
		pass:            pass,
		byLit:           make(map[*ast.FuncLit]*funcInfo),
		decls:           make(map[*types.Func]*funcInfo),
		perRequestTypes: make(map[*types.TypeName]bool),
		chanCaps:        make(map[types.Object]chanCap),
		syncLocals:      make(map[*types.Var]*ast.FuncLit),
		syncLits:        make(map[*ast.FuncLit]bool),
		summaries:       make(map[*funcInfo]*summary),
		escaped:         make(map[*funcInfo]bool),
		returned:        make(map[*funcInfo]bool),
		enclosing:       make(map[token.Pos]*funcInfo),
		nodes:           make(map[nodeKey]*node),
	}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	var files []*ast.File
	for cur := range insp.Root().Children() {
		f := cur.Node().(*ast.File)
		if !analyzeTests && strings.HasSuffix(pass.Fset.File(f.FileStart).Name(), "_test.go") {
			continue
		}
		files = append(files, f)
		c.files = append(c.files, cur)
	}
	c.collect()
	for _, fi := range c.funcs {
		fi.serves = c.servesRequest(fi)
	}
	c.findUses()
	c.findPerRequest()
	c.markReachable()
	c.findFreshHandlers()
	c.findChanCaps()
	c.findSyncLocals()
	c.analyse()
	c.report(files)
	return nil, nil
}

// preorder visits the nodes of the given types in the analysed files.
func (c *checker) preorder(kinds ...ast.Node) iter.Seq[inspector.Cursor] {
	return func(yield func(inspector.Cursor) bool) {
		for _, f := range c.files {
			for cur := range f.Preorder(kinds...) {
				if !yield(cur) {
					return
				}
			}
		}
	}
}

// collect records every function declaration and literal in the files.
func (c *checker) collect() {
	for cur := range c.preorder((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		switch n := cur.Node().(type) {
		case *ast.FuncDecl:
			if n.Body == nil {
				continue
			}
			obj, _ := c.pass.TypesInfo.Defs[n.Name].(*types.Func)
			if obj == nil {
				continue
			}
			fi := &funcInfo{node: n, cur: cur, obj: obj, sig: obj.Signature(), body: n.Body, name: declName(n)}
			fi.handler = isHandlerSig(fi.sig)
			c.funcs = append(c.funcs, fi)
			c.decls[obj] = fi
		case *ast.FuncLit:
			sig, _ := c.pass.TypesInfo.TypeOf(n).(*types.Signature)
			if sig == nil {
				continue
			}
			fi := &funcInfo{node: n, cur: cur, sig: sig, body: n.Body, parent: c.enclosingInfo(cur)}
			fi.name = "a func literal at package level"
			if d := outermost(fi); d.obj != nil {
				fi.name = "a func literal in " + d.name
			}
			fi.handler = isHandlerSig(sig)
			if fi.parent != nil {
				fi.parent.children = append(fi.parent.children, fi)
			}
			c.funcs = append(c.funcs, fi)
			c.byLit[n] = fi
		}
	}
}

// findUses notes how handler declarations are used: called directly, or
// taken as a value (and so served by a server).
func (c *checker) findUses() {
	for cur := range c.preorder((*ast.Ident)(nil)) {
		fn, ok := c.pass.TypesInfo.Uses[cur.Node().(*ast.Ident)].(*types.Func)
		if !ok {
			continue
		}
		fi := c.decls[fn.Origin()]
		if fi == nil || !fi.handler {
			continue
		}
		if isCalled(cur) {
			fi.called = true
		} else {
			fi.valueUse = true
		}
	}
}

// isCalled reports whether the identifier names the function of a call:
// f(), x.f(), f[T]().
func isCalled(cur inspector.Cursor) bool {
	for {
		switch cur.ParentEdgeKind() {
		case edge.SelectorExpr_Sel, edge.IndexExpr_X, edge.IndexListExpr_X, edge.ParenExpr_X:
			cur = cur.Parent()
		case edge.CallExpr_Fun:
			return true
		default:
			return false
		}
	}
}

// isRoot reports whether a handler declaration is served on its own: it is
// named ServeHTTP, is exported, is used as a value, or is not called in the
// package (it may be used elsewhere). An unexported handler-shaped helper
// that is only called directly (the Rack dup idiom: d := *m; d.serve(w, r))
// is analysed from its call sites instead, with their receivers.
func (fi *funcInfo) isRoot() bool {
	return fi.obj.Name() == "ServeHTTP" || fi.obj.Exported() || fi.valueUse || !fi.called
}

// enclosingInfo returns the function a literal is nested in.
func (c *checker) enclosingInfo(cur inspector.Cursor) *funcInfo {
	for enc := range cur.Parent().Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		if lit, ok := enc.Node().(*ast.FuncLit); ok {
			return c.byLit[lit]
		}
		return c.decls[c.declObj(enc.Node().(*ast.FuncDecl))]
	}
	return nil
}

func (c *checker) declObj(d *ast.FuncDecl) *types.Func {
	obj, _ := c.pass.TypesInfo.Defs[d.Name].(*types.Func)
	return obj
}

func outermost(fi *funcInfo) *funcInfo {
	for fi != nil && fi.parent != nil {
		fi = fi.parent
	}
	return fi
}

// declName names a declared function as a reader writes it:
// "(*Counter).ServeHTTP", "(Hits).ServeHTTP" or "handleIndex".
func declName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = "*", s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	name := "?"
	if id, ok := t.(*ast.Ident); ok {
		name = id.Name
	}
	return "(" + star + name + ")." + d.Name.Name
}

// isHandlerSig reports whether sig is func(http.ResponseWriter, *http.Request).
func isHandlerSig(sig *types.Signature) bool {
	if sig.Params().Len() != 2 || sig.Results().Len() != 0 || sig.Variadic() {
		return false
	}
	if !isNamed(sig.Params().At(0).Type(), httpPath, "ResponseWriter") {
		return false
	}
	p, ok := types.Unalias(sig.Params().At(1).Type()).(*types.Pointer)
	return ok && isNamed(p.Elem(), httpPath, "Request")
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == pkg && obj.Name() == name
}

// findPerRequest finds calls of middleware.PerRequest: the types they build
// serve one request each, and their constructors run once per request. It
// also finds the types kept in a sync.Pool (put into one, or asserted from
// its Get): a pool hands each value to one goroutine at a time.
func (c *checker) findPerRequest() {
	info := c.pass.TypesInfo
	for cur := range c.preorder((*ast.CallExpr)(nil), (*ast.TypeAssertExpr)(nil)) {
		if ta, ok := cur.Node().(*ast.TypeAssertExpr); ok {
			if call, ok := ast.Unparen(ta.X).(*ast.CallExpr); ok && ta.Type != nil && isPoolMethod(typeutil.Callee(info, call), "Get") {
				c.addPerRequestType(info.TypeOf(ta.Type))
			}
			continue
		}
		call := cur.Node().(*ast.CallExpr)
		if isPoolMethod(typeutil.Callee(info, call), "Put") && len(call.Args) == 1 {
			c.addPerRequestType(info.TypeOf(call.Args[0]))
			continue
		}
		fn, _ := typeutil.Callee(info, call).(*types.Func)
		if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != middlewarePath || fn.Name() != "PerRequest" || len(call.Args) != 1 {
			continue
		}
		if id := funIdent(call.Fun); id != nil {
			if inst, ok := info.Instances[id]; ok && inst.TypeArgs.Len() == 1 {
				c.addPerRequestType(inst.TypeArgs.At(0))
			}
		}
		var ctor *funcInfo
		switch arg := ast.Unparen(call.Args[0]).(type) {
		case *ast.FuncLit:
			ctor = c.byLit[arg]
		case *ast.Ident, *ast.SelectorExpr:
			if f, ok := info.Uses[funIdent(arg)].(*types.Func); ok {
				ctor = c.decls[f]
			}
		}
		if ctor == nil {
			continue
		}
		ctor.perRequest = true
		ast.Inspect(ctor.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				for _, r := range n.Results {
					c.addPerRequestType(info.TypeOf(r))
				}
			}
			return true
		})
	}
}

// isPoolMethod reports whether obj is the method (*sync.Pool).name.
func isPoolMethod(obj types.Object, name string) bool {
	fn, ok := obj.(*types.Func)
	if !ok || fn.Name() != name || fn.Pkg() == nil || fn.Pkg().Path() != "sync" {
		return false
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return false
	}
	p, ok := recv.Type().(*types.Pointer)
	return ok && isNamed(p.Elem(), "sync", "Pool")
}

func (c *checker) addPerRequestType(t types.Type) {
	if t == nil {
		return
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if _, isIface := n.Underlying().(*types.Interface); !isIface {
			c.perRequestTypes[n.Origin().Obj()] = true
		}
	}
}

// funIdent returns the identifier naming the function in a call's Fun:
// f, pkg.f, f[T] or pkg.f[T].
func funIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return x
		case *ast.SelectorExpr:
			return x.Sel
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// markReachable marks the declarations that handlers call, transitively, and
// so run once per request. Variables they declare are not shared, even when a
// closure captures them.
func (c *checker) markReachable() {
	for _, fi := range c.funcs {
		ast.Inspect(fi.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.CallExpr:
				if fn := typeutil.StaticCallee(c.pass.TypesInfo, n); fn != nil {
					if callee := c.decls[fn.Origin()]; callee != nil {
						fi.callees = append(fi.callees, callee)
					}
				}
			}
			return true
		})
	}
	seen := make(map[*funcInfo]bool)
	var visit func(fi *funcInfo)
	visit = func(fi *funcInfo) {
		if seen[fi] {
			return
		}
		seen[fi] = true
		if fi.obj != nil && !fi.handler {
			fi.reachable = true
		}
		for _, g := range fi.callees {
			visit(g)
		}
		for _, g := range fi.children {
			visit(g)
		}
	}
	for _, fi := range c.funcs {
		if fi.handler {
			visit(fi)
		}
	}
}

// enclosingFunc returns the innermost analysed function whose source contains pos.
func (c *checker) enclosingFunc(pos token.Pos) *funcInfo {
	if fi, ok := c.enclosing[pos]; ok {
		return fi
	}
	var best *funcInfo
	for _, fi := range c.funcs {
		if fi.node.Pos() <= pos && pos < fi.node.End() {
			if best == nil || fi.node.Pos() >= best.node.Pos() {
				best = fi
			}
		}
	}
	c.enclosing[pos] = best
	return best
}

// enclosingCursorFunc returns the innermost analysed function around cur.
func (c *checker) enclosingCursorFunc(cur inspector.Cursor) *funcInfo {
	for enc := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		if lit, ok := enc.Node().(*ast.FuncLit); ok {
			return c.byLit[lit]
		}
		return c.decls[c.declObj(enc.Node().(*ast.FuncDecl))]
	}
	return nil
}

// contains reports whether pos lies within n.
func contains(n ast.Node, pos token.Pos) bool {
	return n.Pos() <= pos && pos < n.End()
}

// isRootLit reports whether a literal handler must be analysed on its own:
// it is not nested in a handler or in a function reachable from one, whose
// analysis already covers it.
func isRootLit(fi *funcInfo) bool {
	for f := fi.parent; f != nil; f = f.parent {
		if f.handler || f.reachable {
			return false
		}
	}
	return true
}

// servesRequest reports whether a function serves a request: it has a
// request or a response writer as a parameter, or its own body (not a
// nested literal) passes a request and a response writer to a call, as in
// next.ServeHTTP(w, r). Such a function runs per request, so what it
// declares belongs to one request.
func (c *checker) servesRequest(fi *funcInfo) bool {
	for v := range fi.sig.Params().Variables() {
		if isRequestType(v.Type()) || isNamed(v.Type(), httpPath, "ResponseWriter") {
			return true
		}
	}
	found := false
	ast.Inspect(fi.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			var req, rw bool
			for _, a := range n.Args {
				t := c.pass.TypesInfo.TypeOf(a)
				if t == nil {
					continue
				}
				req = req || isRequestType(t)
				rw = rw || implementsResponseWriter(t)
			}
			found = found || req && rw
		}
		return !found
	})
	return found
}

func isRequestType(t types.Type) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	return ok && isNamed(p.Elem(), httpPath, "Request")
}

// implementsResponseWriter reports whether t has the methods of
// http.ResponseWriter: Header, Write and WriteHeader.
func implementsResponseWriter(t types.Type) bool {
	ms := types.NewMethodSet(t)
	if _, ok := t.Underlying().(*types.Interface); !ok {
		if _, isPtr := types.Unalias(t).(*types.Pointer); !isPtr {
			ms = types.NewMethodSet(types.NewPointer(t))
		}
	}
	return ms.Lookup(nil, "Header") != nil && ms.Lookup(nil, "Write") != nil && ms.Lookup(nil, "WriteHeader") != nil
}
