package schema

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// errorf returns an error of kind query.ErrInvalid.
func errorf(format string, args ...any) error {
	return &query.Error{Kind: query.ErrInvalid, Err: fmt.Errorf("hatago/schema: "+format, args...)}
}

func itoa(n int) string { return strconv.Itoa(n) }

// tname is a table's name: an optional schema (an attached database on
// SQLite) and the table.
type tname struct {
	schema, name string
}

// parseTable checks a table's name: a valid identifier of one part, or two
// (schema.table).
func parseTable(s string) (tname, error) {
	if err := dialect.ValidIdent(s); err != nil {
		return tname{}, err
	}
	parts := strings.Split(s, ".")
	switch len(parts) {
	case 1:
		return tname{name: s}, nil
	case 2:
		return tname{schema: parts[0], name: parts[1]}, nil
	}
	return tname{}, fmt.Errorf("%q: a table name has at most two parts, schema.table", s)
}

// appendTo appends the name, quoted and qualified.
func (n tname) appendTo(b []byte) []byte {
	if n.schema != "" {
		b = dialect.AppendIdent(b, n.schema)
		b = append(b, '.')
	}
	return dialect.AppendIdent(b, n.name)
}

func (n tname) String() string {
	if n.schema != "" {
		return n.schema + "." + n.name
	}
	return n.name
}

// within returns the name of object name in n's schema.
func (n tname) within(name string) tname { return tname{schema: n.schema, name: name} }

// column checks a column's name: a valid identifier of one part.
func column(name string) error {
	if err := dialect.ValidIdent(name); err != nil {
		return err
	}
	if strings.Contains(name, ".") {
		return fmt.Errorf("%q: a column name has one part, without dots", name)
	}
	return nil
}

// maxIdent is PostgreSQL's limit on identifiers, in bytes.
const maxIdent = 63

// objectName is the deterministic name of an index or key:
// prefix_table_col1_col2. A name longer than PostgreSQL's 63 bytes is cut
// and given a hash of the whole, so that different long names stay
// different.
func objectName(prefix string, table tname, columns []string) string {
	n := prefix + "_" + table.name + "_" + strings.Join(columns, "_")
	if len(n) <= maxIdent {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(n))
	return fmt.Sprintf("%s_%08x", n[:maxIdent-9], h.Sum32())
}

// plan is a Table checked against a dialect, with every name resolved:
// what Create and Alter run.
type plan struct {
	d     dialect.Dialect
	table tname
	alter bool
	steps []op // the table's ops, with the columns' indexes as ops of their own
}

// verb is what the plan does, for messages.
func (p *plan) verb() string {
	if p.alter {
		return "alter"
	}
	return "create"
}

// newPlan checks t and resolves its names. Any error is of kind
// query.ErrInvalid and names what is wrong.
func newPlan(d dialect.Dialect, name string, alter bool, fn func(*Table)) (*plan, error) {
	verb := "create"
	if alter {
		verb = "alter"
	}
	if d == nil || (d.Name() != "sqlite" && d.Name() != "postgres") {
		return nil, errorf("%s %s: unsupported dialect", verb, name)
	}
	tn, err := parseTable(name)
	if err != nil {
		return nil, errorf("%s: table name: %w", verb, err)
	}
	t := &Table{name: name, alter: alter}
	if fn != nil {
		fn(t)
	}
	p := &plan{d: d, table: tn, alter: alter}
	if err := p.build(t); err != nil {
		return nil, errorf("%s %s: %w", verb, tn, err)
	}
	return p, nil
}

func (p *plan) build(t *Table) error {
	var (
		cols      = map[string]*Column{} // create: the columns, by lower-case name
		primaries int
		indexes   = map[string]bool{}
	)
	addIndex := func(i *Index) error {
		if len(i.columns) == 0 {
			return errors.New("index without columns")
		}
		for _, c := range i.columns {
			if err := column(c); err != nil {
				return fmt.Errorf("index: %w", err)
			}
		}
		r := *i
		if r.name == "" {
			prefix := "idx"
			if r.unique {
				prefix = "uniq"
			}
			r.name = objectName(prefix, p.table, r.columns)
		} else if err := column(r.name); err != nil {
			return fmt.Errorf("index name: %w", err)
		}
		key := strings.ToLower(r.name)
		if indexes[key] {
			return fmt.Errorf("index %s declared twice", r.name)
		}
		indexes[key] = true
		p.steps = append(p.steps, op{kind: opIndex, index: &r})
		return nil
	}
	for _, o := range t.ops {
		if !p.alter {
			switch o.kind {
			case opDropColumn, opRenameColumn, opDropIndex, opDropForeign:
				return fmt.Errorf("%s is for Alter, not Create", o.kind)
			}
		}
		switch o.kind {
		case opColumn:
			c := o.col
			if err := column(c.name); err != nil {
				return fmt.Errorf("column: %w", err)
			}
			if err := p.checkColumn(c); err != nil {
				return fmt.Errorf("column %s: %w", c.name, err)
			}
			if !p.alter {
				key := strings.ToLower(c.name)
				if cols[key] != nil {
					return fmt.Errorf("column %s declared twice", c.name)
				}
				cols[key] = c
			}
			if c.primary || c.spec.Type == dialect.Increments || c.spec.Type == dialect.BigIncrements {
				primaries++
			}
			p.steps = append(p.steps, op{kind: opColumn, col: c})
			if c.unique {
				if err := addIndex(&Index{columns: []string{c.name}, unique: true}); err != nil {
					return err
				}
			}
			if c.index {
				if err := addIndex(&Index{columns: []string{c.name}}); err != nil {
					return err
				}
			}
		case opIndex:
			if err := addIndex(o.index); err != nil {
				return err
			}
		case opForeign:
			if err := p.checkForeign(o.fk); err != nil {
				return err
			}
			p.steps = append(p.steps, *o)
		case opPrimary:
			if len(o.names) == 0 {
				return errors.New("Primary without columns")
			}
			for _, c := range o.names {
				if err := column(c); err != nil {
					return fmt.Errorf("primary key: %w", err)
				}
			}
			primaries++
			p.steps = append(p.steps, *o)
		case opDropColumn:
			if len(o.names) == 0 {
				return errors.New("DropColumn without columns")
			}
			if err := column(o.names[0]); err != nil {
				return fmt.Errorf("drop column: %w", err)
			}
			p.steps = append(p.steps, *o)
		case opRenameColumn:
			if err := column(o.from); err != nil {
				return fmt.Errorf("rename column: %w", err)
			}
			if err := column(o.to); err != nil {
				return fmt.Errorf("rename column %s: %w", o.from, err)
			}
			p.steps = append(p.steps, *o)
		case opDropIndex:
			r := *o
			if r.from == "" {
				if len(r.names) == 0 {
					return errors.New("DropIndex without columns")
				}
				for _, c := range r.names {
					if err := column(c); err != nil {
						return fmt.Errorf("drop index: %w", err)
					}
				}
				prefix := "idx"
				if r.to == "uniq" {
					prefix = "uniq"
				}
				r.from = objectName(prefix, p.table, r.names)
			} else if err := column(r.from); err != nil {
				return fmt.Errorf("drop index: %w", err)
			}
			p.steps = append(p.steps, r)
		case opDropForeign:
			if len(o.names) == 0 {
				return errors.New("DropForeign without columns")
			}
			for _, c := range o.names {
				if err := column(c); err != nil {
					return fmt.Errorf("drop foreign key: %w", err)
				}
			}
			p.steps = append(p.steps, *o)
		}
	}
	if primaries > 1 {
		return errors.New("more than one primary key (Increments, Column.Primary and Table.Primary each make one)")
	}
	if p.alter {
		if len(p.steps) == 0 {
			return errors.New("nothing to change")
		}
		return nil
	}
	if len(cols) == 0 {
		return errors.New("a table needs at least one column")
	}
	// Create: every column named by an index or key is one of the table's.
	has := func(what string, names []string) error {
		for _, n := range names {
			if cols[strings.ToLower(n)] == nil {
				return fmt.Errorf("%s names column %s, which the table does not have", what, n)
			}
		}
		return nil
	}
	for _, s := range p.steps {
		var err error
		switch s.kind {
		case opIndex:
			err = has("index "+s.index.name, s.index.columns)
		case opForeign:
			err = has("foreign key", s.fk.columns)
		case opPrimary:
			if err = has("primary key", s.names); err == nil {
				for _, n := range s.names {
					if cols[strings.ToLower(n)].nullable {
						err = fmt.Errorf("primary key column %s is Nullable", n)
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkColumn checks what a column's modifiers set.
func (p *plan) checkColumn(c *Column) error {
	if c.err != nil {
		return c.err
	}
	if c.change && !p.alter {
		return errors.New("Change is for Alter, not Create")
	}
	if p.d.ColumnType(c.spec) == "" {
		return fmt.Errorf("unknown type %v", c.spec.Type)
	}
	if c.spec.Type == dialect.Increments || c.spec.Type == dialect.BigIncrements {
		switch {
		case c.change:
			return errors.New("an auto-incrementing column cannot be changed")
		case c.nullable:
			return errors.New("an auto-incrementing primary key cannot be Nullable")
		case c.dflt.kind != dfltNone:
			return errors.New("an auto-incrementing primary key has no default")
		case c.primary:
			return errors.New("Primary on an auto-incrementing column, which is the primary key already")
		}
	}
	if c.primary && c.nullable {
		return errors.New("a primary key cannot be Nullable")
	}
	if _, err := p.defaultSQL(c); err != nil {
		return err
	}
	if c.fk != nil {
		return p.checkForeign(c.fk)
	}
	return nil
}

// checkForeign checks a foreign key's columns and what it references.
func (p *plan) checkForeign(fk *ForeignKey) error {
	if len(fk.columns) == 0 {
		return errors.New("foreign key without columns")
	}
	for _, c := range fk.columns {
		if err := column(c); err != nil {
			return fmt.Errorf("foreign key: %w", err)
		}
	}
	what := "foreign key (" + strings.Join(fk.columns, ", ") + ")"
	if fk.table == "" {
		return fmt.Errorf("%s references no table (call References)", what)
	}
	ref, err := parseTable(fk.table)
	if err != nil {
		return fmt.Errorf("%s: referenced table: %w", what, err)
	}
	if ref.schema != "" && p.d.Name() == "sqlite" {
		return fmt.Errorf("%s references %s: SQLite's foreign keys reference tables of their own database, unqualified", what, ref)
	}
	if len(fk.refs) != len(fk.columns) {
		return fmt.Errorf("%s references %d columns of %s: want one for each of its %d", what, len(fk.refs), ref, len(fk.columns))
	}
	for _, c := range fk.refs {
		if err := column(c); err != nil {
			return fmt.Errorf("%s: referenced column: %w", what, err)
		}
	}
	for _, a := range []Action{fk.onDelete, fk.onUpdate} {
		if a != 0 && a.sql() == "" {
			return fmt.Errorf("%s: unknown %v", what, a)
		}
	}
	return nil
}

func (k opKind) String() string {
	switch k {
	case opColumn:
		return "a column"
	case opIndex:
		return "Index"
	case opForeign:
		return "Foreign"
	case opPrimary:
		return "Primary"
	case opDropColumn:
		return "DropColumn"
	case opRenameColumn:
		return "RenameColumn"
	case opDropIndex:
		return "DropIndex"
	case opDropForeign:
		return "DropForeign"
	}
	return "op(" + itoa(int(k)) + ")"
}
