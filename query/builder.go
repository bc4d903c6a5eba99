package query

import (
	"context"

	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hatago/hatago/query/dialect"
)

// Query is a query on one table, built by chaining methods and run by its
// terminal methods (Get, First, Find, Count, Insert, Update, Delete, ...).
//
// A Query is an immutable value: every method returns a new Query and
// leaves its receiver as it was, so a base query can be kept in a variable
// and shared by concurrent handlers:
//
//	var worlds = query.Table[World](db, "world")
//	w, err := worlds.Find(ctx, id)
//	top, err := worlds.Where("random_number", ">", 9000).OrderByDesc("id").Limit(20).Get(ctx)
//
// Identifiers (tables, columns, aliases) are checked and quoted; values are
// always bound as parameters, never written into the SQL. An invalid
// identifier or operator is reported, as ErrInvalid, by the terminal
// method.
//
// Rows are read into T: a struct (its fields named by `db` tags or in
// snake_case, see structFields), a Row map, or a single value for
// one-column results.
type Query[T any] struct {
	x        Executor
	table    string
	key      string // the key column for Find
	sel      []string
	selRaw   *raw
	distinct bool
	joins    []join
	where    []cond
	group    []string
	having   []cond
	order    []order
	limit    int // -1: none
	offset   int
	lock     bool
	err      error
}

type join struct {
	kind            string // "JOIN", "LEFT JOIN", "RIGHT JOIN"
	table, alias    string
	left, op, right string
}

type order struct {
	col  string
	desc bool
}

type raw struct {
	sql  string
	args []any
}

type condKind uint8

const (
	condCmp condKind = iota
	condColumn
	condIn
	condNotIn
	condNull
	condNotNull
	condBetween
	condNotBetween
	condGroup
	condRaw
)

type cond struct {
	or   bool
	kind condKind
	col  string
	op   string
	arg  any // condCmp's value
	args []any
	sub  []cond
	raw  string
}

// Table starts a query on table (a name, "schema.name", or "name AS
// alias") run on x, reading rows into T.
func Table[T any](x Executor, table string) Query[T] {
	q := Query[T]{x: x, limit: -1}
	name, alias := splitAlias(table)
	q = q.check(name)
	if alias != "" {
		q = q.check(alias)
	}
	q.table = table
	q.key = "id"
	if p, err := typePlan(reflect.TypeFor[T]()); err != nil {
		q.err = err
	} else if p.key >= 0 {
		q.key = p.fields[p.key].name
	}
	return q
}

// Table starts a query on table that reads rows as Row maps.
func (db *DB) Table(table string) Query[Row] { return Table[Row](db, table) }

// Table starts a query on table in the transaction.
func (tx *Tx) Table(table string) Query[Row] { return Table[Row](tx, table) }

// Table starts a query on table on the held connection.
func (c *Conn) Table(table string) Query[Row] { return Table[Row](c, table) }

func (q Query[T]) check(idents ...string) Query[T] {
	if q.err != nil {
		return q
	}
	for _, id := range idents {
		if err := dialect.ValidIdent(id); err != nil {
			q.err = &Error{Kind: ErrInvalid, Err: err}
			return q
		}
	}
	return q
}

func (q Query[T]) fail(format string, args ...any) Query[T] {
	if q.err == nil {
		q.err = invalid(format, args...)
	}
	return q
}

// add returns s with v appended in a new array when s's is shared.
func add[S ~[]E, E any](s S, v ...E) S { return append(s[:len(s):len(s)], v...) }

// Key sets the column Find looks up (by default the struct's key, else
// "id").
func (q Query[T]) Key(column string) Query[T] {
	q = q.check(column)
	q.key = column
	return q
}

// Select sets the columns to read: names, "table.column", "*",
// "table.*", or "column AS alias". By default a struct's columns are read
// (all of them, with * for a Row).
func (q Query[T]) Select(columns ...string) Query[T] {
	for _, c := range columns {
		name, alias := splitAlias(c)
		if name == "*" && alias == "" {
			continue
		}
		name = strings.TrimSuffix(name, ".*")
		q = q.check(name)
		if alias != "" {
			q = q.check(alias)
		}
	}
	q.sel = add(q.sel, columns...)
	return q
}

// SelectRaw sets an SQL expression as the select list, with ? for its
// bound values (counted, COUNT(*), expressions): the one place besides
// WhereRaw and HavingRaw where SQL text is taken as given.
func (q Query[T]) SelectRaw(expr string, args ...any) Query[T] {
	q.selRaw = &raw{expr, args}
	return q
}

// Distinct selects distinct rows.
func (q Query[T]) Distinct() Query[T] { q.distinct = true; return q }

var ops = map[string]string{
	"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
	"like": "LIKE", "not like": "NOT LIKE", "ilike": "ILIKE", "not ilike": "NOT ILIKE",
}

func (q Query[T]) cmp(or bool, col, op string, v any) Query[T] {
	q = q.check(col)
	sqlOp, ok := ops[strings.ToLower(op)]
	if !ok {
		return q.fail("operator %q (want =, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike)", op)
	}
	if v == nil {
		// "= NULL" matches nothing in SQL: say what was meant.
		switch sqlOp {
		case "=":
			return q.null(or, condNull, col)
		case "<>":
			return q.null(or, condNotNull, col)
		}
		return q.fail("%s %s nil: only = and != take nil (IS NULL, IS NOT NULL)", col, op)
	}
	q.where = add(q.where, cond{or: or, kind: condCmp, col: col, op: sqlOp, arg: v})
	return q
}

// Where adds "column op value", joined to the conditions before it by AND.
// op is one of =, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike.
// A nil value with = or != means IS NULL or IS NOT NULL.
func (q Query[T]) Where(column, op string, value any) Query[T] {
	return q.cmp(false, column, op, value)
}

// OrWhere adds "column op value", joined by OR.
func (q Query[T]) OrWhere(column, op string, value any) Query[T] {
	return q.cmp(true, column, op, value)
}

// WhereColumn compares two columns: "a.x = b.y".
func (q Query[T]) WhereColumn(left, op, right string) Query[T] {
	q = q.check(left, right)
	sqlOp, ok := ops[strings.ToLower(op)]
	if !ok {
		return q.fail("operator %q", op)
	}
	q.where = add(q.where, cond{kind: condColumn, col: left, op: sqlOp, raw: right})
	return q
}

func (q Query[T]) in(or bool, kind condKind, col string, values []any) Query[T] {
	q = q.check(col)
	if len(values) == 1 {
		if rv := reflect.ValueOf(values[0]); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
			values = make([]any, rv.Len())
			for i := range values {
				values[i] = rv.Index(i).Interface()
			}
		}
	} else {
		values = append([]any(nil), values...) // the caller's slice may change later
	}
	q.where = add(q.where, cond{or: or, kind: kind, col: col, args: values})
	return q
}

// WhereIn adds "column IN (values)". The values may be given one by one
// or as a single slice. An empty list matches nothing.
func (q Query[T]) WhereIn(column string, values ...any) Query[T] {
	return q.in(false, condIn, column, values)
}

// OrWhereIn is WhereIn joined by OR.
func (q Query[T]) OrWhereIn(column string, values ...any) Query[T] {
	return q.in(true, condIn, column, values)
}

// WhereNotIn adds "column NOT IN (values)". An empty list matches all.
func (q Query[T]) WhereNotIn(column string, values ...any) Query[T] {
	return q.in(false, condNotIn, column, values)
}

func (q Query[T]) null(or bool, kind condKind, col string) Query[T] {
	q = q.check(col)
	q.where = add(q.where, cond{or: or, kind: kind, col: col})
	return q
}

// WhereNull adds "column IS NULL".
func (q Query[T]) WhereNull(column string) Query[T] { return q.null(false, condNull, column) }

// OrWhereNull is WhereNull joined by OR.
func (q Query[T]) OrWhereNull(column string) Query[T] { return q.null(true, condNull, column) }

// WhereNotNull adds "column IS NOT NULL".
func (q Query[T]) WhereNotNull(column string) Query[T] { return q.null(false, condNotNull, column) }

// OrWhereNotNull is WhereNotNull joined by OR.
func (q Query[T]) OrWhereNotNull(column string) Query[T] { return q.null(true, condNotNull, column) }

// WhereBetween adds "column BETWEEN low AND high".
func (q Query[T]) WhereBetween(column string, low, high any) Query[T] {
	q = q.check(column)
	q.where = add(q.where, cond{kind: condBetween, col: column, args: []any{low, high}})
	return q
}

// OrWhereBetween is WhereBetween joined by OR.
func (q Query[T]) OrWhereBetween(column string, low, high any) Query[T] {
	q = q.check(column)
	q.where = add(q.where, cond{or: true, kind: condBetween, col: column, args: []any{low, high}})
	return q
}

// WhereNotBetween adds "column NOT BETWEEN low AND high".
func (q Query[T]) WhereNotBetween(column string, low, high any) Query[T] {
	q = q.check(column)
	q.where = add(q.where, cond{kind: condNotBetween, col: column, args: []any{low, high}})
	return q
}

// Conds is a group of conditions built inside WhereGroup.
type Conds struct{ q Query[Row] }

// Where, OrWhere, WhereIn, WhereNull and WhereBetween add to the group as
// the Query methods of the same names do.
func (c Conds) Where(column, op string, value any) Conds {
	return Conds{c.q.Where(column, op, value)}
}
func (c Conds) OrWhere(column, op string, value any) Conds {
	return Conds{c.q.OrWhere(column, op, value)}
}
func (c Conds) WhereIn(column string, values ...any) Conds {
	return Conds{c.q.WhereIn(column, values...)}
}
func (c Conds) WhereNull(column string) Conds   { return Conds{c.q.WhereNull(column)} }
func (c Conds) OrWhereNull(column string) Conds { return Conds{c.q.OrWhereNull(column)} }
func (c Conds) WhereBetween(column string, low, high any) Conds {
	return Conds{c.q.WhereBetween(column, low, high)}
}

func (q Query[T]) group_(or bool, fn func(Conds) Conds) Query[T] {
	g := fn(Conds{Query[Row]{limit: -1}}).q
	if g.err != nil {
		q.err = g.err
		return q
	}
	if len(g.where) > 0 {
		q.where = add(q.where, cond{or: or, kind: condGroup, sub: g.where})
	}
	return q
}

// WhereGroup adds the conditions fn builds, in parentheses, joined by AND:
//
//	q.Where("a", "=", 1).WhereGroup(func(c query.Conds) query.Conds {
//		return c.Where("b", "=", 2).OrWhere("c", "=", 3)
//	}) // a = 1 AND (b = 2 OR c = 3)
func (q Query[T]) WhereGroup(fn func(Conds) Conds) Query[T] { return q.group_(false, fn) }

// OrWhereGroup is WhereGroup joined by OR.
func (q Query[T]) OrWhereGroup(fn func(Conds) Conds) Query[T] { return q.group_(true, fn) }

// WhereRaw adds an SQL condition as given, with ? for each bound value.
// Only values may vary at run time: the SQL text must be a constant of the
// program.
func (q Query[T]) WhereRaw(sql string, args ...any) Query[T] {
	q.where = add(q.where, cond{kind: condRaw, raw: sql, args: args})
	return q
}

func (q Query[T]) join(kind, table, left, op, right string) Query[T] {
	name, alias := splitAlias(table)
	q = q.check(name, left, right)
	if alias != "" {
		q = q.check(alias)
	}
	sqlOp, ok := ops[op]
	if !ok || strings.Contains(sqlOp, "LIKE") {
		return q.fail("join operator %q", op)
	}
	q.joins = add(q.joins, join{kind: kind, table: name, alias: alias, left: left, op: sqlOp, right: right})
	return q
}

// Join adds "JOIN table ON left op right"; table may be "name AS alias".
func (q Query[T]) Join(table, left, op, right string) Query[T] {
	return q.join("JOIN", table, left, op, right)
}

// LeftJoin adds "LEFT JOIN table ON left op right".
func (q Query[T]) LeftJoin(table, left, op, right string) Query[T] {
	return q.join("LEFT JOIN", table, left, op, right)
}

// RightJoin adds "RIGHT JOIN table ON left op right" (SQLite 3.39 and
// later).
func (q Query[T]) RightJoin(table, left, op, right string) Query[T] {
	return q.join("RIGHT JOIN", table, left, op, right)
}

// GroupBy groups by columns.
func (q Query[T]) GroupBy(columns ...string) Query[T] {
	q = q.check(columns...)
	q.group = add(q.group, columns...)
	return q
}

// Having adds "column op value" to HAVING; column is a grouped column
// (an alias from the select list works on SQLite only: PostgreSQL does
// not see aliases in HAVING). Use HavingRaw for aggregates.
func (q Query[T]) Having(column, op string, value any) Query[T] {
	q = q.check(column)
	sqlOp, ok := ops[strings.ToLower(op)]
	if !ok {
		return q.fail("operator %q", op)
	}
	q.having = add(q.having, cond{kind: condCmp, col: column, op: sqlOp, arg: value})
	return q
}

// HavingRaw adds an SQL condition to HAVING, such as "COUNT(*) > ?".
func (q Query[T]) HavingRaw(sql string, args ...any) Query[T] {
	q.having = add(q.having, cond{kind: condRaw, raw: sql, args: args})
	return q
}

// OrderBy sorts by column, ascending; OrderByDesc descending. Several
// calls sort by each in turn.
func (q Query[T]) OrderBy(column string) Query[T] {
	q = q.check(column)
	q.order = add(q.order, order{col: column})
	return q
}

// OrderByDesc sorts by column, descending.
func (q Query[T]) OrderByDesc(column string) Query[T] {
	q = q.check(column)
	q.order = add(q.order, order{col: column, desc: true})
	return q
}

// Limit reads at most n rows.
func (q Query[T]) Limit(n int) Query[T] {
	if n < 0 {
		return q.fail("limit %d", n)
	}
	q.limit = n
	return q
}

// Offset skips the first n rows.
func (q Query[T]) Offset(n int) Query[T] {
	if n < 0 {
		return q.fail("offset %d", n)
	}
	q.offset = n
	return q
}

// ForUpdate locks the selected rows until the transaction ends (SELECT
// ... FOR UPDATE) on PostgreSQL. SQLite has no row locks and needs none:
// its write transactions are serialised.
func (q Query[T]) ForUpdate() Query[T] { q.lock = true; return q }

// After continues a keyset pagination: rows whose column is greater than
// value, in ascending column order. Pass the last row's value of the page
// before; with Limit it reads the next page in time independent of depth.
func (q Query[T]) After(column string, value any) Query[T] {
	return q.Where(column, ">", value).OrderBy(column)
}

// Before is After in descending order: rows whose column is less than
// value, newest first.
func (q Query[T]) Before(column string, value any) Query[T] {
	return q.Where(column, "<", value).OrderByDesc(column)
}

// splitAlias splits "name AS alias" (any case, single spaces).
func splitAlias(s string) (name, alias string) {
	// Byte by byte: strings.ToLower may change the length of s (invalid
	// UTF-8, some non-ASCII letters), and its offsets would not fit s.
	for i := 0; i+4 <= len(s); i++ {
		if s[i] == ' ' && s[i+1]|0x20 == 'a' && s[i+2]|0x20 == 's' && s[i+3] == ' ' {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+4:])
		}
	}
	return s, ""
}

// SQL building.

// sqlBuf is a pooled buffer that a statement is built in.
type sqlBuf struct {
	b    []byte
	args []any
	d    dialect.Dialect
}

var bufPool = sync.Pool{New: func() any { return &sqlBuf{b: make([]byte, 0, 256)} }}

func getBuf(d dialect.Dialect) *sqlBuf {
	sb := bufPool.Get().(*sqlBuf)
	sb.b, sb.args, sb.d = sb.b[:0], nil, d
	return sb
}

func (sb *sqlBuf) free() {
	if cap(sb.b) <= 64<<10 {
		sb.args = nil
		bufPool.Put(sb)
	}
}

func (sb *sqlBuf) str(s string) { sb.b = append(sb.b, s...) }

func (sb *sqlBuf) ident(s string) {
	if s == "*" {
		sb.b = append(sb.b, '*')
		return
	}
	if name, ok := strings.CutSuffix(s, ".*"); ok {
		sb.b = append(dialect.AppendIdent(sb.b, name), ".*"...)
		return
	}
	sb.b = dialect.AppendIdent(sb.b, s)
}

// aliased writes "name AS alias" with both quoted.
func (sb *sqlBuf) aliased(s string) {
	name, alias := splitAlias(s)
	sb.ident(name)
	if alias != "" {
		sb.str(" AS ")
		sb.ident(alias)
	}
}

// arg binds v and writes its placeholder.
func (sb *sqlBuf) arg(v any) {
	sb.args = append(sb.args, v)
	sb.b = sb.d.AppendPlaceholder(sb.b, len(sb.args))
}

// rawSQL writes a raw fragment, binding its args to its ? marks (outside
// quoted strings and identifiers).
func (sb *sqlBuf) rawSQL(s string, args []any) error {
	n := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			if n >= len(args) {
				return invalid("raw SQL %q has more ? than its %d values", s, len(args))
			}
			sb.arg(args[n])
			n++
			continue
		}
		sb.b = append(sb.b, c)
	}
	if n != len(args) {
		return invalid("raw SQL %q has %d ? for %d values", s, n, len(args))
	}
	return nil
}

func (sb *sqlBuf) conds(cs []cond) error {
	for i, c := range cs {
		if i > 0 {
			if c.or {
				sb.str(" OR ")
			} else {
				sb.str(" AND ")
			}
		}
		switch c.kind {
		case condCmp:
			sb.ident(c.col)
			sb.b = append(append(append(sb.b, ' '), c.op...), ' ')
			sb.arg(c.arg)
		case condColumn:
			sb.ident(c.col)
			sb.b = append(append(append(sb.b, ' '), c.op...), ' ')
			sb.ident(c.raw)
		case condIn, condNotIn:
			if len(c.args) == 0 {
				if c.kind == condIn {
					sb.str("1 = 0")
				} else {
					sb.str("1 = 1")
				}
				continue
			}
			sb.ident(c.col)
			if c.kind == condIn {
				sb.str(" IN (")
			} else {
				sb.str(" NOT IN (")
			}
			for j, v := range c.args {
				if j > 0 {
					sb.str(", ")
				}
				sb.arg(v)
			}
			sb.str(")")
		case condNull:
			sb.ident(c.col)
			sb.str(" IS NULL")
		case condNotNull:
			sb.ident(c.col)
			sb.str(" IS NOT NULL")
		case condBetween, condNotBetween:
			sb.ident(c.col)
			if c.kind == condBetween {
				sb.str(" BETWEEN ")
			} else {
				sb.str(" NOT BETWEEN ")
			}
			sb.arg(c.args[0])
			sb.str(" AND ")
			sb.arg(c.args[1])
		case condGroup:
			sb.str("(")
			if err := sb.conds(c.sub); err != nil {
				return err
			}
			sb.str(")")
		case condRaw:
			sb.str("(")
			if err := sb.rawSQL(c.raw, c.args); err != nil {
				return err
			}
			sb.str(")")
		}
	}
	return nil
}

// from writes " FROM table JOIN ... WHERE ...".
func (q *Query[T]) from(sb *sqlBuf) error {
	sb.str(" FROM ")
	sb.aliased(q.table)
	for _, j := range q.joins {
		sb.b = append(append(append(sb.b, ' '), j.kind...), ' ')
		sb.ident(j.table)
		if j.alias != "" {
			sb.str(" AS ")
			sb.ident(j.alias)
		}
		sb.str(" ON ")
		sb.ident(j.left)
		sb.b = append(append(append(sb.b, ' '), j.op...), ' ')
		sb.ident(j.right)
	}
	return q.whereSQL(sb)
}

func (q *Query[T]) whereSQL(sb *sqlBuf) error {
	if len(q.where) == 0 {
		return nil
	}
	sb.str(" WHERE ")
	return sb.conds(q.where)
}

// selectSQL writes the whole SELECT; list is T's column list when the
// query selects no columns of its own.
func (q *Query[T]) selectSQL(sb *sqlBuf, list string) error {
	sb.str("SELECT ")
	if q.distinct {
		sb.str("DISTINCT ")
	}
	switch {
	case q.selRaw != nil:
		if err := sb.rawSQL(q.selRaw.sql, q.selRaw.args); err != nil {
			return err
		}
	case len(q.sel) > 0:
		for i, c := range q.sel {
			if i > 0 {
				sb.str(", ")
			}
			sb.aliased(c)
		}
	case list != "":
		sb.str(list)
	default:
		sb.str("*")
	}
	if err := q.from(sb); err != nil {
		return err
	}
	q.tail(sb)
	if err := q.havingSQL(sb); err != nil {
		return err
	}
	q.orderSQL(sb)
	return nil
}

func (q *Query[T]) tail(sb *sqlBuf) {
	if len(q.group) > 0 {
		sb.str(" GROUP BY ")
		for i, c := range q.group {
			if i > 0 {
				sb.str(", ")
			}
			sb.ident(c)
		}
	}
}

func (q *Query[T]) havingSQL(sb *sqlBuf) error {
	if len(q.having) == 0 {
		return nil
	}
	sb.str(" HAVING ")
	return sb.conds(q.having)
}

func (q *Query[T]) orderSQL(sb *sqlBuf) {
	for i, o := range q.order {
		if i == 0 {
			sb.str(" ORDER BY ")
		} else {
			sb.str(", ")
		}
		sb.ident(o.col)
		if o.desc {
			sb.str(" DESC")
		}
	}
	if q.limit >= 0 {
		sb.str(" LIMIT ")
		sb.b = strconv.AppendInt(sb.b, int64(q.limit), 10)
	}
	if q.offset > 0 {
		if q.limit < 0 && sb.d.Name() == "sqlite" {
			sb.str(" LIMIT -1")
		}
		sb.str(" OFFSET ")
		sb.b = strconv.AppendInt(sb.b, int64(q.offset), 10)
	}
	if q.lock && sb.d.Name() == "postgres" {
		sb.str(" FOR UPDATE")
	}
}

// ToSQL returns the SELECT the query runs and its bound values: for logs,
// tests and EXPLAIN.
func (q Query[T]) ToSQL() (string, []any, error) {
	if q.err != nil {
		return "", nil, q.err
	}
	db, _ := q.x.target()
	sb := getBuf(db.dialect)
	defer sb.free()
	p, err := typePlan(reflect.TypeFor[T]())
	if err != nil {
		return "", nil, err
	}
	if err := q.selectSQL(sb, p.list); err != nil {
		return "", nil, err
	}
	return string(sb.b), sb.args, nil
}

// run builds a statement with build and runs it as a query.
func (q *Query[T]) run(ctx context.Context, build func(sb *sqlBuf) error) (*Rows, error) {
	s, st, args, err := q.statement(build)
	if err != nil {
		return nil, err
	}
	r, err := runQuery(ctx, s, st, args)
	if err != nil {
		return nil, mapError(err)
	}
	return &Rows{r: r}, nil
}

func (q *Query[T]) execSQL(ctx context.Context, build func(sb *sqlBuf) error) (int64, error) {
	s, st, args, err := q.statement(build)
	if err != nil {
		return 0, err
	}
	n, err := runExec(ctx, s, st, args)
	return n, mapError(err)
}

// statement builds a statement with build and interns its text.
func (q *Query[T]) statement(build func(sb *sqlBuf) error) (session, *statement, []any, error) {
	if q.err != nil {
		return nil, nil, nil, q.err
	}
	db, s := q.x.target()
	sb := getBuf(db.dialect)
	defer sb.free()
	if err := build(sb); err != nil {
		return nil, nil, nil, err
	}
	return s, db.cache.intern(sb.b), sb.args, nil
}

// plan returns T's plan and whether the query selects exactly its columns.
func (q *Query[T]) plan() (*plan, bool, error) {
	p, err := typePlan(reflect.TypeFor[T]())
	if err != nil {
		return nil, false, err
	}
	return p, p.kind == kindStruct && len(q.sel) == 0 && q.selRaw == nil, nil
}

// Get runs the query and returns its rows.
func (q Query[T]) Get(ctx context.Context) ([]T, error) {
	var out []T
	err := q.each(ctx, func(v *T) bool { out = append(out, *v); return true })
	return out, err
}

// Each runs the query and calls fn for each row, in order, until fn
// returns false; *v is reused for the next row. It reads any number of
// rows in constant memory.
func (q Query[T]) Each(ctx context.Context, fn func(v *T) bool) error {
	return q.each(ctx, fn)
}

func (q *Query[T]) each(ctx context.Context, fn func(v *T) bool) error {
	p, own, err := q.plan()
	if err != nil {
		return err
	}
	list := ""
	if own {
		list = p.list
	}
	rows, err := q.run(ctx, func(sb *sqlBuf) error { return q.selectSQL(sb, list) })
	if err != nil {
		return err
	}
	defer rows.Close()
	if !own {
		p = nil
	}
	return scanRows(rows, p, fn)
}

// First returns the first row, or ErrNotFound.
func (q Query[T]) First(ctx context.Context) (T, error) {
	var v T
	found := false
	one := q.Limit(1)
	err := one.each(ctx, func(p *T) bool { v, found = *p, true; return false })
	if err == nil && !found {
		err = &Error{Kind: ErrNotFound, Err: errNoRows}
	}
	return v, err
}

// Find returns the row whose key column (see Key) equals id, or
// ErrNotFound.
func (q Query[T]) Find(ctx context.Context, id any) (T, error) {
	return q.Where(q.key, "=", id).First(ctx)
}

// Count returns the number of rows the query matches.
func (q Query[T]) Count(ctx context.Context) (int64, error) {
	var n int64
	err := q.scalar(ctx, "COUNT(*)", &n)
	return n, err
}

// Exists reports whether the query matches any row.
func (q Query[T]) Exists(ctx context.Context) (bool, error) {
	rows, err := q.run(ctx, func(sb *sqlBuf) error {
		sb.str("SELECT 1")
		if err := q.from(sb); err != nil {
			return err
		}
		q.tail(sb)
		if err := q.havingSQL(sb); err != nil {
			return err
		}
		sb.str(" LIMIT 1")
		return nil
	})
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// Min scans the smallest value of column into dest (a pointer), or fails
// with ErrNotFound when no row matches.
func (q Query[T]) Min(ctx context.Context, column string, dest any) error {
	return q.aggregate(ctx, "MIN", column, dest)
}

// Max scans the largest value of column into dest, or fails with
// ErrNotFound when no row matches.
func (q Query[T]) Max(ctx context.Context, column string, dest any) error {
	return q.aggregate(ctx, "MAX", column, dest)
}

// Sum returns the sum of column over the matching rows; 0 when none match.
func (q Query[T]) Sum(ctx context.Context, column string) (float64, error) {
	var f *float64
	err := q.aggregate(ctx, "SUM", column, &f)
	if err != nil || f == nil {
		return 0, err
	}
	return *f, nil
}

// Avg returns the average of column over the matching rows, or
// ErrNotFound when none match.
func (q Query[T]) Avg(ctx context.Context, column string) (float64, error) {
	var f float64
	err := q.aggregate(ctx, "AVG", column, &f)
	return f, err
}

func (q Query[T]) aggregate(ctx context.Context, fn, column string, dest any) error {
	q = q.check(column)
	if q.err != nil {
		return q.err
	}
	b := dialect.AppendIdent([]byte(fn+"("), column)
	expr := string(append(b, ')'))
	if fn == "SUM" {
		return q.scalar(ctx, expr, dest)
	}
	// NULL (no rows) is ErrNotFound: scan through a pointer to dest's
	// type, which the drivers set to nil for NULL.
	dv := reflect.ValueOf(dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() {
		return invalid("%s(%s) into %T: want a non-nil pointer", fn, column, dest)
	}
	if t, ok := dest.(*time.Time); ok {
		if db, _ := q.x.target(); db.dialect.Name() == "sqlite" {
			return q.sqliteTime(ctx, expr, t)
		}
	}
	pp := reflect.New(dv.Type())
	if err := q.scalar(ctx, expr, pp.Interface()); err != nil {
		return err
	}
	if pp.Elem().IsNil() {
		return &Error{Kind: ErrNotFound, Err: errNoRows}
	}
	dv.Elem().Set(pp.Elem().Elem())
	return nil
}

// sqliteTime reads MIN or MAX of a time column on SQLite, which returns
// the text it stores: the driver reads text as a time only from a column
// declared as one, and an aggregate has no declared type.
func (q Query[T]) sqliteTime(ctx context.Context, expr string, dest *time.Time) error {
	var s *string
	if err := q.scalar(ctx, expr, &s); err != nil {
		return err
	}
	if s == nil {
		return &Error{Kind: ErrNotFound, Err: errNoRows}
	}
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.Parse(layout, *s); err == nil {
			*dest = t.UTC()
			return nil
		}
	}
	return invalid("%s = %q: not a time", expr, *s)
}

// sqliteTimeLayouts are the forms of a time as SQLite text: the driver's
// (see Open), time.Time.String's, SQLite's own; those without a zone
// are UTC.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

func (q Query[T]) scalarRows(ctx context.Context, expr string) (*Rows, error) {
	return q.run(ctx, func(sb *sqlBuf) error {
		grouped := len(q.group) > 0 || q.distinct
		if grouped {
			sb.str("SELECT ")
			sb.str(expr)
			sb.str(" FROM (")
			inner := q
			inner.order, inner.limit, inner.offset, inner.lock = nil, -1, 0, false
			if len(q.group) > 0 && len(q.sel) == 0 && q.selRaw == nil {
				// One row per group: PostgreSQL refuses * with GROUP BY.
				inner.sel = q.group
			}
			if err := inner.selectSQL(sb, "*"); err != nil {
				return err
			}
			sb.str(") AS hatago_sub")
			return nil
		}
		sb.str("SELECT ")
		sb.str(expr)
		return q.from(sb)
	})
}

func (q Query[T]) scalar(ctx context.Context, expr string, dest any) error {
	rows, err := q.scalarRows(ctx, expr)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return &Error{Kind: ErrNotFound, Err: errNoRows}
	}
	if err := rows.Scan(dest); err != nil {
		return err
	}
	return rows.Err()
}

// Page is one page of an offset pagination.
type Page[T any] struct {
	Items    []T
	Page     int   // from 1
	PerPage  int   //
	Total    int64 // rows the query matches in all
	LastPage int   // the number of the last page (1 when there are none)
}

// Paginate returns page (counted from 1) of perPage rows, and the total.
// For deep pages of large tables prefer keyset pagination (After).
func (q Query[T]) Paginate(ctx context.Context, page, perPage int) (Page[T], error) {
	if page < 1 || perPage < 1 {
		return Page[T]{}, invalid("paginate page %d, per page %d: both must be at least 1", page, perPage)
	}
	total, err := q.Count(ctx)
	if err != nil {
		return Page[T]{}, err
	}
	items, err := q.Limit(perPage).Offset((page - 1) * perPage).Get(ctx)
	if err != nil {
		return Page[T]{}, err
	}
	last := int((total + int64(perPage) - 1) / int64(perPage))
	return Page[T]{Items: items, Page: page, PerPage: perPage, Total: total, LastPage: max(last, 1)}, nil
}

// Writing.

// values returns the columns and the per-row values of vs; omitKey leaves
// out the auto key when it is zero in every row.
func values[T any](vs []T) (cols []string, rows [][]any, key string, err error) {
	p, err := typePlan(reflect.TypeFor[T]())
	if err != nil {
		return nil, nil, "", err
	}
	switch p.kind {
	case kindMap:
		for i, v := range vs {
			m := any(v).(Row)
			if i == 0 {
				for c := range m {
					cols = append(cols, c)
				}
				sort.Strings(cols)
				if err := validIdents("", cols); err != nil {
					return nil, nil, "", err
				}
			} else if len(m) != len(cols) {
				return nil, nil, "", invalid("insert row %d has columns other than row 0's %v", i, cols)
			}
			r := make([]any, len(cols))
			for j, c := range cols {
				x, ok := m[c]
				if !ok {
					return nil, nil, "", invalid("insert row %d lacks column %q", i, c)
				}
				r[j] = x
			}
			rows = append(rows, r)
		}
		return cols, rows, "", nil
	case kindScalar:
		return nil, nil, "", invalid("insert %v: want a struct or a Row", reflect.TypeFor[T]())
	}
	skip := -1
	if p.key >= 0 && p.fields[p.key].auto {
		skip = p.key
		for i := range vs {
			if !reflect.ValueOf(&vs[i]).Elem().FieldByIndex(p.fields[p.key].index).IsZero() {
				skip = -1
				break
			}
		}
		key = p.fields[p.key].name
	}
	for i, c := range p.cols {
		if i != skip {
			cols = append(cols, c)
		}
	}
	for i := range vs {
		rv := reflect.ValueOf(&vs[i]).Elem()
		r := make([]any, 0, len(cols))
		for j, f := range p.fields {
			if j != skip {
				r = append(r, rv.FieldByIndex(f.index).Interface())
			}
		}
		rows = append(rows, r)
	}
	return cols, rows, key, nil
}

func validIdents(table string, cols []string) error {
	if table != "" {
		if err := dialect.ValidIdent(table); err != nil {
			return &Error{Kind: ErrInvalid, Err: err}
		}
	}
	for _, c := range cols {
		if err := dialect.ValidIdent(c); err != nil {
			return &Error{Kind: ErrInvalid, Err: err}
		}
	}
	return nil
}

// maxParams is how many values one statement binds at most: PostgreSQL's
// limit is 65535, SQLite's 32766.
const maxParams = 32766

func insertSQL(sb *sqlBuf, table string, cols []string, rows [][]any) {
	sb.str("INSERT INTO ")
	sb.ident(table)
	sb.str(" (")
	for i, c := range cols {
		if i > 0 {
			sb.str(", ")
		}
		sb.ident(c)
	}
	sb.str(") VALUES ")
	for i, r := range rows {
		if i > 0 {
			sb.str(", ")
		}
		sb.str("(")
		for j, v := range r {
			if j > 0 {
				sb.str(", ")
			}
			sb.arg(v)
		}
		sb.str(")")
	}
}

// insertRows inserts rows in statements of as many rows as the parameter
// limit allows.
func insertRows(ctx context.Context, x Executor, d dialect.Dialect, table string, cols []string, rows [][]any) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if len(cols) == 0 {
		return 0, invalid("insert into %s: no columns", table)
	}
	db, s := x.target()
	per := max(1, maxParams/len(cols))
	var total int64
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		sb := getBuf(d)
		insertSQL(sb, table, cols, chunk)
		st := &statement{text: string(sb.b)}
		if len(chunk) == per || start == 0 {
			st = db.cache.intern(sb.b)
		}
		args := sb.args
		sb.free()
		n, err := runExec(ctx, s, st, args)
		if err != nil {
			return total, mapError(err)
		}
		total += n
	}
	return total, nil
}

func (q Query[T]) tableName() (string, error) {
	name, alias := splitAlias(q.table)
	if alias != "" || len(q.joins) > 0 {
		return "", invalid("write to %q: writes take a plain table, without alias or joins", q.table)
	}
	return name, nil
}

// Insert inserts vs (structs or Rows) in as few statements as the
// database's parameter limit allows, and returns how many rows it
// inserted. A struct's auto key (see Table) is left to the database while
// it is zero in every value.
func (q Query[T]) Insert(ctx context.Context, vs ...T) (int64, error) {
	if q.err != nil {
		return 0, q.err
	}
	table, err := q.tableName()
	if err != nil {
		return 0, err
	}
	cols, rows, _, err := values(vs)
	if err != nil {
		return 0, err
	}
	db, _ := q.x.target()
	return insertRows(ctx, q.x, db.dialect, table, cols, rows)
}

// InsertID inserts v and returns the key the database gave it (the key
// column, see Key, through RETURNING).
func (q Query[T]) InsertID(ctx context.Context, v T) (int64, error) {
	if q.err != nil {
		return 0, q.err
	}
	table, err := q.tableName()
	if err != nil {
		return 0, err
	}
	cols, rows, _, err := values([]T{v})
	if err != nil {
		return 0, err
	}
	rs, err := q.run(ctx, func(sb *sqlBuf) error {
		insertSQL(sb, table, cols, rows)
		sb.str(" RETURNING ")
		sb.ident(q.key)
		return nil
	})
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	var id int64
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return 0, err
		}
		return 0, &Error{Kind: ErrNotFound, Err: errNoRows}
	}
	if err := rs.Scan(&id); err != nil {
		return 0, err
	}
	rs.Close()
	return id, rs.Err()
}

// Upsert inserts vs, and where a row conflicts with an existing one on the
// conflict columns (a unique key), updates the existing row's update
// columns to the new values instead; with no update columns it leaves the
// existing row alone. It returns how many rows it inserted or updated.
func (q Query[T]) Upsert(ctx context.Context, conflict, update []string, vs ...T) (int64, error) {
	if q.err != nil {
		return 0, q.err
	}
	table, err := q.tableName()
	if err != nil {
		return 0, err
	}
	if len(conflict) == 0 {
		return 0, invalid("upsert into %s: no conflict columns", table)
	}
	if err := validIdents("", append(add(conflict), update...)); err != nil {
		return 0, err
	}
	cols, rows, _, err := values(vs)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	per := max(1, maxParams/len(cols))
	var total int64
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		n, err := q.execSQL(ctx, func(sb *sqlBuf) error {
			insertSQL(sb, table, cols, chunk)
			sb.str(" ON CONFLICT (")
			for i, c := range conflict {
				if i > 0 {
					sb.str(", ")
				}
				sb.ident(c)
			}
			if len(update) == 0 {
				sb.str(") DO NOTHING")
				return nil
			}
			sb.str(") DO UPDATE SET ")
			for i, c := range update {
				if i > 0 {
					sb.str(", ")
				}
				sb.ident(c)
				sb.str(" = excluded.")
				sb.ident(c)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Set is the columns an Update changes, and their new values.
type Set = map[string]any

// Update sets columns of the matching rows and returns how many it
// changed.
func (q Query[T]) Update(ctx context.Context, set Set) (int64, error) {
	table, err := q.tableName()
	if err != nil && q.err == nil {
		q.err = err
	}
	if len(set) == 0 {
		return 0, invalid("update %s: nothing to set", q.table)
	}
	cols := make([]string, 0, len(set))
	for c := range set {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	q = q.check(cols...)
	return q.execSQL(ctx, func(sb *sqlBuf) error {
		sb.str("UPDATE ")
		sb.ident(table)
		sb.str(" SET ")
		for i, c := range cols {
			if i > 0 {
				sb.str(", ")
			}
			sb.ident(c)
			sb.str(" = ")
			sb.arg(set[c])
		}
		return q.whereSQL(sb)
	})
}

// Delete deletes the matching rows and returns how many it deleted.
func (q Query[T]) Delete(ctx context.Context) (int64, error) {
	table, err := q.tableName()
	if err != nil && q.err == nil {
		q.err = err
	}
	return q.execSQL(ctx, func(sb *sqlBuf) error {
		sb.str("DELETE FROM ")
		sb.ident(table)
		return q.whereSQL(sb)
	})
}
