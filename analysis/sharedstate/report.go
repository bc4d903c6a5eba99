package sharedstate

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

type finding struct {
	pos token.Pos
	end token.Pos
	msg string
}

// report emits a diagnostic for every unguarded write, once per position,
// and checks the directives.
func (c *checker) report(files []*ast.File) {
	var out []finding
	seen := make(map[token.Pos]bool)
	for _, n := range c.order {
		for _, wr := range n.writes {
			held := wr.held
			if !wr.fresh {
				held = max(held, n.entry)
			}
			if held == lockWrite || seen[wr.pos] {
				continue
			}
			seen[wr.pos] = true
			var recv types.Type
			if r := n.fn.sig.Recv(); r != nil {
				recv = r.Type()
			}
			subject := n.subject()
			if wr.t.kind == rootCaptured {
				// A handler closure, walked as a root or within the
				// function that builds it.
				subject = "handler closure"
			}
			out = append(out, finding{wr.pos, wr.end, wr.message(subject, held, recv, types.RelativeTo(c.pass.Pkg))})
		}
	}
	ignored, bad := c.directives(files)
	out = append(out, bad...)
	slices.SortFunc(out, func(a, b finding) int { return int(a.pos - b.pos) })
	for _, f := range out {
		p := c.pass.Fset.Position(f.pos)
		if ignored[lineKey{p.Filename, p.Line}] {
			continue
		}
		c.pass.Report(analysis.Diagnostic{Pos: f.pos, End: f.end, Message: f.msg})
	}
}

type lineKey struct {
	file string
	line int
}

const directivePrefix = "//hatagovet:"

// directives returns the lines that //hatagovet:ignore directives cover
// (their own and the next), and findings for malformed directives.
func (c *checker) directives(files []*ast.File) (map[lineKey]bool, []finding) {
	ignored := make(map[lineKey]bool)
	var bad []finding
	for _, f := range files {
		for _, g := range f.Comments {
			for _, cm := range g.List {
				rest, ok := strings.CutPrefix(cm.Text, directivePrefix)
				if !ok {
					continue
				}
				verb, reason, _ := strings.Cut(rest, " ")
				reason, _, _ = strings.Cut(reason, "//") // a trailing comment is no reason
				switch {
				case verb != "ignore":
					bad = append(bad, finding{cm.Pos(), cm.End(), "unknown directive " + directivePrefix + verb + ": the only one is //hatagovet:ignore <reason>"})
				case strings.TrimSpace(reason) == "":
					bad = append(bad, finding{cm.Pos(), cm.End(), "//hatagovet:ignore needs a reason: say why this write is safe, as in //hatagovet:ignore <reason>"})
				default:
					p := c.pass.Fset.Position(cm.Pos())
					ignored[lineKey{p.Filename, p.Line}] = true
					ignored[lineKey{p.Filename, p.Line + 1}] = true
				}
			}
		}
	}
	return ignored, bad
}
