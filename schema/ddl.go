package schema

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hatago/hatago/query/dialect"
)

func (p *plan) sqlite() bool { return p.d.Name() == "sqlite" }

// defaultSQL returns the DEFAULT clause's expression for c, or "" when c
// has no default.
func (p *plan) defaultSQL(c *Column) (string, error) {
	switch c.dflt.kind {
	case dfltValue:
		if c.dflt.value == nil && !c.nullable {
			return "", errors.New("default NULL on a column that is not Nullable")
		}
		return literal(p.d, c.spec.Type, c.dflt.value)
	case dfltNow:
		switch c.spec.Type {
		case dialect.Timestamp:
			return "CURRENT_TIMESTAMP", nil
		case dialect.Date:
			return "CURRENT_DATE", nil
		}
		return "", fmt.Errorf("DefaultNow on a %v column: want timestamp or date", c.spec.Type)
	case dfltRaw:
		if strings.TrimSpace(c.dflt.raw) == "" {
			return "", errors.New("empty DefaultRaw")
		}
		return c.dflt.raw, nil
	}
	return "", nil
}

// timeLayout writes a time.Time default the way the SQLite driver writes
// times, which PostgreSQL reads too.
const timeLayout = "2006-01-02 15:04:05.999999999-07:00"

// literal writes v as an SQL literal of d, for a column of type typ.
func literal(d dialect.Dialect, typ dialect.Type, v any) (string, error) {
	pg := d.Name() == "postgres"
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case time.Time:
		if typ == dialect.Date {
			return quote(pg, v.Format(time.DateOnly))
		}
		return quote(pg, v.Format(timeLayout))
	case []byte:
		if pg {
			return `E'\\x` + hex.EncodeToString(v) + `'::BYTEA`, nil
		}
		return "X'" + hex.EncodeToString(v) + "'", nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		switch {
		case pg && rv.Bool():
			return "TRUE", nil
		case pg:
			return "FALSE", nil
		case rv.Bool():
			return "1", nil
		}
		return "0", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("default %v: not a finite number", f)
		}
		return strconv.FormatFloat(f, 'g', -1, rv.Type().Bits()), nil
	case reflect.String:
		return quote(pg, rv.String())
	}
	return "", fmt.Errorf("default of type %T: want nil, a bool, a number, a string, []byte or time.Time", v)
}

// quote writes s as a string literal: in single quotes, each quote
// doubled. On PostgreSQL a string with a backslash is an escape string
// (E'...', each backslash doubled), which means the same whatever
// standard_conforming_strings says.
func quote(pg bool, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("default %q: not valid UTF-8", s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("default %q: has a NUL byte", s)
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	if pg && strings.IndexByte(s, '\\') >= 0 {
		b.WriteByte('E')
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
	return b.String(), nil
}

// idents appends names quoted, comma-separated, in parentheses.
func idents(b []byte, names []string) []byte {
	b = append(b, '(')
	b = identList(b, names)
	return append(b, ')')
}

// identList appends names quoted and comma-separated.
func identList(b []byte, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = dialect.AppendIdent(b, n)
	}
	return b
}

// columnDef appends c's definition: name, type, NOT NULL and DEFAULT.
func (p *plan) columnDef(b []byte, c *Column) []byte {
	b = dialect.AppendIdent(b, c.name)
	b = append(b, ' ')
	b = append(b, p.d.ColumnType(c.spec)...)
	incr := c.spec.Type == dialect.Increments || c.spec.Type == dialect.BigIncrements
	if !c.nullable && !incr {
		b = append(b, " NOT NULL"...)
	}
	if s, _ := p.defaultSQL(c); s != "" { // checked by newPlan
		b = append(b, " DEFAULT "...)
		b = append(b, s...)
	}
	return b
}

// foreignKey appends fk as a table constraint.
func (p *plan) foreignKey(b []byte, fk *ForeignKey) []byte {
	b = append(b, "CONSTRAINT "...)
	b = dialect.AppendIdent(b, objectName("fk", p.table, fk.columns))
	b = append(b, " FOREIGN KEY "...)
	b = idents(b, fk.columns)
	return references(b, fk)
}

// references appends fk's REFERENCES clause.
func references(b []byte, fk *ForeignKey) []byte {
	b = append(b, " REFERENCES "...)
	b = dialect.AppendIdent(b, fk.table)
	b = append(b, ' ')
	b = idents(b, fk.refs)
	if fk.onDelete != 0 {
		b = append(b, " ON DELETE "...)
		b = append(b, fk.onDelete.sql()...)
	}
	if fk.onUpdate != 0 {
		b = append(b, " ON UPDATE "...)
		b = append(b, fk.onUpdate.sql()...)
	}
	return b
}

// createIndex returns the statement that creates i. SQLite qualifies the
// index's name with the schema, PostgreSQL the table's.
func (p *plan) createIndex(i *Index) string {
	b := []byte("CREATE ")
	if i.unique {
		b = append(b, "UNIQUE "...)
	}
	b = append(b, "INDEX "...)
	if p.sqlite() {
		b = p.table.within(i.name).appendTo(b)
		b = append(b, " ON "...)
		b = dialect.AppendIdent(b, p.table.name)
	} else {
		b = dialect.AppendIdent(b, i.name)
		b = append(b, " ON "...)
		b = p.table.appendTo(b)
	}
	b = append(b, ' ')
	return string(idents(b, i.columns))
}

// dropIndex returns the statement that drops the index called name.
func (p *plan) dropIndex(name string) string {
	return string(p.table.within(name).appendTo([]byte("DROP INDEX ")))
}

// alterTable returns "ALTER TABLE <table> " followed by rest.
func (p *plan) alterTable(rest ...string) string {
	b := p.table.appendTo([]byte("ALTER TABLE "))
	b = append(b, ' ')
	for _, s := range rest {
		b = append(b, s...)
	}
	return string(b)
}

func quoted(name string) string { return string(dialect.AppendIdent(nil, name)) }

// createSQL returns the statements of a Create: CREATE TABLE, then its
// indexes in the order they were declared.
func (p *plan) createSQL() []string {
	var pk []string
	var fks []*ForeignKey
	for _, s := range p.steps {
		switch s.kind {
		case opColumn:
			if s.col.primary {
				pk = []string{s.col.name}
			}
			if s.col.fk != nil {
				fks = append(fks, s.col.fk)
			}
		case opPrimary:
			pk = s.names
		case opForeign:
			fks = append(fks, s.fk)
		}
	}
	b := p.table.appendTo([]byte("CREATE TABLE "))
	b = append(b, " ("...)
	first := true
	sep := func() {
		if !first {
			b = append(b, ", "...)
		}
		first = false
	}
	for _, s := range p.steps {
		if s.kind == opColumn {
			sep()
			b = p.columnDef(b, s.col)
		}
	}
	if pk != nil {
		sep()
		b = append(b, "PRIMARY KEY "...)
		b = idents(b, pk)
	}
	for _, fk := range fks {
		sep()
		b = p.foreignKey(b, fk)
	}
	b = append(b, ')')
	stmts := []string{string(b)}
	for _, s := range p.steps {
		if s.kind == opIndex {
			stmts = append(stmts, p.createIndex(s.index))
		}
	}
	return stmts
}

// postgresAlterSQL returns the statements of an Alter on PostgreSQL, one
// or more for each change, in the order they were declared.
func (p *plan) postgresAlterSQL() []string {
	var stmts []string
	for _, s := range p.steps {
		switch s.kind {
		case opColumn:
			c := s.col
			if c.change {
				stmts = append(stmts, p.postgresChange(c)...)
			} else {
				stmts = append(stmts, p.alterTable("ADD COLUMN ", string(p.columnDef(nil, c))))
			}
			if c.primary {
				stmts = append(stmts, p.alterTable("ADD PRIMARY KEY ", string(idents(nil, []string{c.name}))))
			}
			if c.fk != nil {
				stmts = append(stmts, p.alterTable("ADD ", string(p.foreignKey(nil, c.fk))))
			}
		case opIndex:
			stmts = append(stmts, p.createIndex(s.index))
		case opForeign:
			stmts = append(stmts, p.alterTable("ADD ", string(p.foreignKey(nil, s.fk))))
		case opPrimary:
			stmts = append(stmts, p.alterTable("ADD PRIMARY KEY ", string(idents(nil, s.names))))
		case opDropColumn:
			stmts = append(stmts, p.alterTable("DROP COLUMN ", quoted(s.names[0])))
		case opRenameColumn:
			stmts = append(stmts, p.alterTable("RENAME COLUMN ", quoted(s.from), " TO ", quoted(s.to)))
		case opDropIndex:
			stmts = append(stmts, p.dropIndex(s.from))
		case opDropForeign:
			stmts = append(stmts, p.alterTable("DROP CONSTRAINT ", quoted(objectName("fk", p.table, s.names))))
		}
	}
	return stmts
}

// postgresChange returns the statements that change column c on
// PostgreSQL. The old default goes first, so that it need not convert to
// the new type. The type changes by PostgreSQL's assignment casts (no
// USING clause): a change that needs an explicit cast, or would cut a
// string, fails rather than guess.
func (p *plan) postgresChange(c *Column) []string {
	col := "ALTER COLUMN " + quoted(c.name)
	stmts := []string{
		p.alterTable(col, " DROP DEFAULT"),
		p.alterTable(col, " TYPE ", p.d.ColumnType(c.spec)),
	}
	if c.nullable {
		stmts = append(stmts, p.alterTable(col, " DROP NOT NULL"))
	} else {
		stmts = append(stmts, p.alterTable(col, " SET NOT NULL"))
	}
	if s, _ := p.defaultSQL(c); s != "" {
		stmts = append(stmts, p.alterTable(col, " SET DEFAULT ", s))
	}
	return stmts
}
