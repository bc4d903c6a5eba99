package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// SQLite's ALTER TABLE adds, renames and drops columns, and that is all.
// Every other change (a column's type, nullability or default, a primary or
// foreign key, a column it cannot add) rebuilds the table as SQLite's
// documentation describes (https://www.sqlite.org/lang_altertable.html,
// "Making Other Kinds Of Table Schema Changes"): create the new table,
// copy the rows, drop the old table, rename the new one, and make the old
// one's indexes and triggers again, all in one transaction, with foreign
// keys off and checked before the commit.

// rebuildPrefix starts the name of the table a rebuild makes.
const rebuildPrefix = "hatago_rebuild_"

// nativeSQLite reports whether SQLite's ALTER TABLE can make step s itself.
// A DropColumn is decided when it runs (see dropColumn).
func nativeSQLite(s op) bool {
	switch s.kind {
	case opIndex, opRenameColumn, opDropIndex, opDropColumn:
		return true
	case opColumn:
		c := s.col
		if c.change || c.primary || c.spec.Type == dialect.Increments || c.spec.Type == dialect.BigIncrements {
			return false
		}
		// ADD COLUMN takes a constant default only, and NOT NULL only with
		// a default; a REFERENCES column only with a NULL default.
		valued := c.dflt.kind == dfltValue && c.dflt.value != nil
		switch {
		case c.dflt.kind == dfltNow, c.dflt.kind == dfltRaw:
			return false
		case !c.nullable && !valued:
			return false
		case c.fk != nil && valued:
			return false
		}
		return true
	}
	return false
}

// mayRebuild reports whether the alter may rebuild the table, and so may
// need foreign keys off.
func (p *plan) mayRebuild() bool {
	for _, s := range p.steps {
		if !nativeSQLite(s) || s.kind == opDropColumn {
			return true
		}
	}
	return false
}

// alterSQLite runs an Alter on SQLite. Foreign keys can be turned off only
// outside a transaction, so an alter that may rebuild the table takes a
// connection of its own for it when x is a *query.DB.
func (p *plan) alterSQLite(ctx context.Context, x query.Executor) error {
	if p.mayRebuild() {
		switch x := x.(type) {
		case *query.DB:
			return x.Conn(ctx, func(c *query.Conn) error { return p.alterWithoutForeignKeys(ctx, c) })
		case *query.Conn:
			return p.alterWithoutForeignKeys(ctx, x)
		}
	}
	return x.Transaction(ctx, func(tx *query.Tx) error { return p.sqliteAlter(ctx, tx, false) })
}

// alterWithoutForeignKeys runs the alter on c with foreign keys off, and
// turns them on again after, when they were on.
func (p *plan) alterWithoutForeignKeys(ctx context.Context, c *query.Conn) (err error) {
	on, err := pragmaOn(ctx, c, "", "foreign_keys")
	if err != nil {
		return p.wrap("PRAGMA foreign_keys", err)
	}
	if on {
		if _, err := c.Exec(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return p.wrap("PRAGMA foreign_keys = OFF", err)
		}
		defer func() {
			if _, rerr := c.Exec(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); rerr != nil {
				err = errors.Join(err, p.wrap("PRAGMA foreign_keys = ON", rerr))
			}
		}()
	}
	return c.Transaction(ctx, func(tx *query.Tx) error { return p.sqliteAlter(ctx, tx, on) })
}

// sqliteAlter makes the alter's changes in tx, in order: each that SQLite
// can make itself with its own statements, and each run of the others with
// one rebuild. fkOff says that foreign keys were turned off for it, and
// must be checked at the end.
func (p *plan) sqliteAlter(ctx context.Context, tx *query.Tx, fkOff bool) error {
	var batch []op
	rebuilt := false
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rebuilt = true
		err := p.rebuild(ctx, tx, batch, fkOff)
		batch = nil
		return err
	}
	for _, s := range p.steps {
		native := nativeSQLite(s)
		if native && s.kind == opDropColumn {
			if len(batch) > 0 {
				native = false // the rebuild drops it with the rest
			} else {
				var err error
				if native, err = p.dropColumn(ctx, tx, s.names[0]); err != nil {
					return err
				}
			}
		}
		if !native {
			batch = append(batch, s)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := p.exec(ctx, tx, p.sqliteNative(s)...); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if fkOff && rebuilt {
		return p.foreignKeyCheck(ctx, tx)
	}
	return nil
}

// sqliteNative returns the statements that make step s with SQLite's own
// ALTER TABLE.
func (p *plan) sqliteNative(s op) []string {
	switch s.kind {
	case opColumn:
		b := p.columnDef(nil, s.col)
		if fk := s.col.fk; fk != nil {
			b = append(b, " CONSTRAINT "...)
			b = dialect.AppendIdent(b, objectName("fk", p.table, fk.columns))
			b = references(b, fk)
		}
		return []string{p.alterTable("ADD COLUMN ", string(b))}
	case opIndex:
		return []string{p.createIndex(s.index)}
	case opRenameColumn:
		return []string{p.alterTable("RENAME COLUMN ", quoted(s.from), " TO ", quoted(s.to))}
	case opDropIndex:
		return []string{p.dropIndex(s.from)}
	case opDropColumn:
		return []string{p.alterTable("DROP COLUMN ", quoted(s.names[0]))}
	}
	return nil
}

// exec runs stmts in x, each error wrapped with the statement.
func (p *plan) exec(ctx context.Context, x query.Executor, stmts ...string) error {
	for _, s := range stmts {
		if _, err := x.Exec(ctx, s); err != nil {
			return p.wrap(s, err)
		}
	}
	return nil
}

// wrap wraps an error of statement stmt with the alter's table.
func (p *plan) wrap(stmt string, err error) error {
	return fmt.Errorf("hatago/schema: %s %s: %s: %w", p.verb(), p.table, stmt, err)
}

// master returns the name of the table's schema table, qualified.
func (p *plan) master() string {
	return string(p.table.within("sqlite_master").appendTo(nil))
}

// pragmaOn reads a boolean pragma.
func pragmaOn(ctx context.Context, x query.Executor, schema, name string) (bool, error) {
	q := "PRAGMA " + name
	if schema != "" {
		q = "PRAGMA " + quoted(schema) + "." + name
	}
	n, err := query.One[int64](ctx, x, q)
	return n != 0, err
}

// dropColumn prepares the drop of column name and reports whether SQLite's
// DROP COLUMN can make it: not when the column is part of the primary key,
// a foreign key or a UNIQUE constraint, which a rebuild drops. It drops the
// indexes on the column first, which SQLite would refuse to drop it with
// (PostgreSQL drops them with the column). It fails when another table's
// foreign key references the column.
func (p *plan) dropColumn(ctx context.Context, tx *query.Tx, name string) (bool, error) {
	m, err := p.readModel(ctx, tx)
	if err != nil {
		return false, err
	}
	c := m.column(name)
	if c == nil {
		return false, errorf("alter %s: drop column %s: no such column", p.table, name)
	}
	if err := m.checkUnreferenced(p, c.name); err != nil {
		return false, err
	}
	if c.inlinePK || containsFold(m.pk, name) {
		return false, nil
	}
	for _, fk := range m.fks {
		if containsFold(fk.columns, name) {
			return false, nil
		}
	}
	for _, u := range m.uniques {
		if containsFold(u.columns, name) {
			return false, nil
		}
	}
	for _, i := range m.indexes {
		if containsFold(i.columns, name) {
			if err := p.exec(ctx, tx, p.dropIndex(i.name)); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// foreignKeyCheck checks the foreign keys of the table and of the tables
// that reference it, which a rebuild made with foreign keys off.
func (p *plan) foreignKeyCheck(ctx context.Context, tx *query.Tx) error {
	tables := []string{p.table.name}
	refs, err := p.referencing(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if !containsFold(tables, r.table) {
			tables = append(tables, r.table)
		}
	}
	for _, t := range tables {
		q := "PRAGMA " + quoted(sqliteSchema(p.table)) + ".foreign_key_check(" + quoted(t) + ")"
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return p.wrap(q, err)
		}
		var child, parent string
		var rowid sql.NullInt64
		var fkid int64
		found := false
		if rows.Next() {
			found = true
			err = rows.Scan(&child, &rowid, &parent, &fkid)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		if err != nil {
			return p.wrap(q, err)
		}
		if found {
			return &query.Error{Kind: query.ErrForeignKey, Err: fmt.Errorf(
				"hatago/schema: alter %s: row %d of %s references a row of %s that does not exist", p.table, rowid.Int64, child, parent)}
		}
	}
	return nil
}

// ref is a foreign key of some table that references the plan's table.
type ref struct {
	table   string
	columns []string // the referenced columns; nil for the primary key
}

// referencing returns the foreign keys, of every table, that reference the
// plan's table, the table's own included.
func (p *plan) referencing(ctx context.Context, x query.Executor) ([]ref, error) {
	q := "SELECT m.name, f.id, f.\"to\" FROM " + p.master() + " AS m, pragma_foreign_key_list(m.name, ?) AS f" +
		" WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE ORDER BY m.name, f.id, f.seq"
	rows, err := x.Query(ctx, q, sqliteSchema(p.table), p.table.name)
	if err != nil {
		return nil, p.wrap(q, err)
	}
	defer rows.Close()
	var refs []ref
	last, lastID := "", int64(-1)
	for rows.Next() {
		var table string
		var id int64
		var to sql.NullString
		if err := rows.Scan(&table, &id, &to); err != nil {
			return nil, p.wrap(q, err)
		}
		if table != last || id != lastID {
			refs = append(refs, ref{table: table})
			last, lastID = table, id
		}
		if to.Valid {
			r := &refs[len(refs)-1]
			r.columns = append(r.columns, to.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, p.wrap(q, err)
	}
	return refs, nil
}

// model is an SQLite table's definition as a rebuild reads and changes it.
type model struct {
	name     string // as the schema has it
	cols     []*mcol
	pk       []string // a primary key not written with its column
	uniques  []munique
	fks      []mfk
	indexes  []mindex
	triggers []string
	autoinc  bool // the table has an AUTOINCREMENT column
	refs     []ref
}

type mcol struct {
	name     string
	typ      string // for an AUTOINCREMENT column, with PRIMARY KEY AUTOINCREMENT
	notNull  bool
	dflt     string // the DEFAULT clause's expression, or ""
	inlinePK bool   // typ makes the column the primary key
	copied   bool   // the column's values come from the old table
}

type munique struct {
	columns []string
	def     string // UNIQUE (...)
}

type mfk struct {
	columns  []string
	table    string
	refs     []string // nil for the referenced table's primary key
	onDelete string
	onUpdate string
}

type mindex struct {
	name    string
	sql     string
	columns []string
}

func (m *model) column(name string) *mcol {
	for _, c := range m.cols {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}

func (m *model) hasPK() bool {
	if len(m.pk) > 0 {
		return true
	}
	for _, c := range m.cols {
		if c.inlinePK {
			return true
		}
	}
	return false
}

// autoincrements reports whether the table has an AUTOINCREMENT column.
func (m *model) autoincrements() bool {
	for _, c := range m.cols {
		if c.inlinePK {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// unsupported are the words of a CREATE TABLE whose meaning a rebuild
// would lose: what SQLite's pragmas do not report.
var unsupported = []string{"CHECK", "COLLATE", "GENERATED", "WITHOUT", "STRICT", "DEFERRABLE", "CONFLICT"}

// readModel reads the table's definition from SQLite's schema and pragmas.
func (p *plan) readModel(ctx context.Context, x query.Executor) (*model, error) {
	schema := sqliteSchema(p.table)
	q := "SELECT name, sql FROM " + p.master() + " WHERE type = 'table' AND name = ? COLLATE NOCASE"
	rows, err := query.All[struct {
		Name string `db:"name"`
		SQL  string `db:"sql"`
	}](ctx, x, q, p.table.name)
	if err != nil {
		return nil, p.wrap(q, err)
	}
	if len(rows) == 0 {
		return nil, errorf("alter %s: no such table", p.table)
	}
	m := &model{name: rows[0].Name}
	words := sqlWords(rows[0].SQL)
	for _, w := range unsupported {
		if words[w] {
			return nil, errorf("alter %s: this change rebuilds the table on SQLite, and the table's definition has %s, which the rebuild would lose", p.table, w)
		}
	}
	m.autoinc = words["AUTOINCREMENT"]

	q = `SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid`
	crows, err := x.Query(ctx, q, m.name, schema)
	if err != nil {
		return nil, p.wrap(q, err)
	}
	var pk []string
	var pkType []string
	err = func() error {
		defer crows.Close()
		for crows.Next() {
			var c mcol
			var dflt sql.NullString
			var pos, hidden int64
			if err := crows.Scan(&c.name, &c.typ, &c.notNull, &dflt, &pos, &hidden); err != nil {
				return err
			}
			if hidden != 0 {
				return errorf("alter %s: this change rebuilds the table on SQLite, and column %s is generated or hidden, which the rebuild would lose", p.table, c.name)
			}
			if dflt.Valid {
				c.dflt = defaultExpr(dflt.String)
			}
			c.copied = true
			if pos > 0 {
				for len(pk) < int(pos) {
					pk, pkType = append(pk, ""), append(pkType, "")
				}
				pk[pos-1], pkType[pos-1] = c.name, c.typ
			}
			m.cols = append(m.cols, &c)
		}
		return crows.Err()
	}()
	if err != nil {
		return nil, p.wrap(q, err)
	}
	if len(pk) == 1 && m.autoinc && strings.EqualFold(pkType[0], "INTEGER") {
		c := m.column(pk[0])
		c.typ, c.inlinePK = c.typ+" PRIMARY KEY AUTOINCREMENT", true
	} else {
		m.pk = pk
	}

	q = `SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq`
	frows, err := x.Query(ctx, q, m.name, schema)
	if err != nil {
		return nil, p.wrap(q, err)
	}
	err = func() error {
		defer frows.Close()
		last := int64(-1)
		for frows.Next() {
			var id int64
			var table, from, onUpdate, onDelete string
			var to sql.NullString
			if err := frows.Scan(&id, &table, &from, &to, &onUpdate, &onDelete); err != nil {
				return err
			}
			if id != last {
				m.fks = append(m.fks, mfk{table: table, onDelete: onDelete, onUpdate: onUpdate})
				last = id
			}
			fk := &m.fks[len(m.fks)-1]
			fk.columns = append(fk.columns, from)
			if to.Valid {
				fk.refs = append(fk.refs, to.String)
			}
		}
		return frows.Err()
	}()
	if err != nil {
		return nil, p.wrap(q, err)
	}

	q = "SELECT l.name, l.origin, m.sql FROM pragma_index_list(?, ?) AS l LEFT JOIN " + p.master() +
		" AS m ON m.type = 'index' AND m.name = l.name ORDER BY l.seq DESC"
	type indexRow struct {
		Name   string  `db:"name"`
		Origin string  `db:"origin"`
		SQL    *string `db:"sql"`
	}
	irows, err := query.All[indexRow](ctx, x, q, m.name, schema)
	if err != nil {
		return nil, p.wrap(q, err)
	}
	for _, ir := range irows {
		if ir.Origin == "pk" {
			continue
		}
		q := `SELECT name, coll, "desc" FROM pragma_index_xinfo(?, ?) WHERE key = 1 ORDER BY seqno`
		type colRow struct {
			Name *string `db:"name"`
			Coll string  `db:"coll"`
			Desc bool    `db:"desc"`
		}
		cols, err := query.All[colRow](ctx, x, q, ir.Name, schema)
		if err != nil {
			return nil, p.wrap(q, err)
		}
		var names []string
		def := []byte("UNIQUE (")
		for i, c := range cols {
			if c.Name == nil { // an expression
				names = append(names, "")
				continue
			}
			names = append(names, *c.Name)
			if i > 0 {
				def = append(def, ", "...)
			}
			def = dialect.AppendIdent(def, *c.Name)
			if !strings.EqualFold(c.Coll, "BINARY") {
				def = append(def, " COLLATE "...)
				def = dialect.AppendIdent(def, c.Coll)
			}
			if c.Desc {
				def = append(def, " DESC"...)
			}
		}
		def = append(def, ')')
		switch {
		case ir.Origin == "u":
			m.uniques = append(m.uniques, munique{columns: names, def: string(def)})
		case ir.SQL != nil:
			m.indexes = append(m.indexes, mindex{name: ir.Name, sql: *ir.SQL, columns: names})
		}
	}

	q = "SELECT sql FROM " + p.master() + " WHERE type = 'trigger' AND tbl_name = ? COLLATE NOCASE ORDER BY rowid"
	if m.triggers, err = query.All[string](ctx, x, q, m.name); err != nil {
		return nil, p.wrap(q, err)
	}
	if m.refs, err = p.referencing(ctx, x); err != nil {
		return nil, err
	}
	return m, nil
}

// defaultExpr writes a default read from table_info back into a DEFAULT
// clause: as it is when it is a literal, else in parentheses, since
// table_info drops the parentheses of an expression.
func defaultExpr(s string) string {
	switch strings.ToUpper(s) {
	case "NULL", "TRUE", "FALSE", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME":
		return s
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' && !strings.Contains(strings.ReplaceAll(s[1:len(s)-1], "''", ""), "'") {
		return s
	}
	if isNumber(s) {
		return s
	}
	return "(" + s + ")"
}

// isNumber reports whether s is a signed decimal number.
func isNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// sqlWords returns the bare words of an SQL text, upper-cased: not those in
// strings, quoted identifiers or comments.
func sqlWords(s string) map[string]bool {
	words := map[string]bool{}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			i++
			for i < len(s) {
				if s[i] == end {
					if end != ']' && i+1 < len(s) && s[i+1] == end { // a doubled quote
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return words
			}
			i += j + 4
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z') || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			words[strings.ToUpper(s[i:j])] = true
			i = j
		default:
			i++
		}
	}
	return words
}

// checkUnreferenced fails when a foreign key references column name of the
// table.
func (m *model) checkUnreferenced(p *plan, name string) error {
	for _, r := range m.refs {
		cols := r.columns
		if cols == nil {
			cols = m.pk
			for _, c := range m.cols {
				if c.inlinePK {
					cols = []string{c.name}
				}
			}
		}
		if containsFold(cols, name) {
			return errorf("alter %s: drop column %s: a foreign key of table %s references it", p.table, name, r.table)
		}
	}
	return nil
}

// apply makes change s to the model.
func (m *model) apply(p *plan, s op) error {
	switch s.kind {
	case opColumn:
		c := s.col
		def, _ := p.defaultSQL(c) // checked by newPlan
		incr := c.spec.Type == dialect.Increments || c.spec.Type == dialect.BigIncrements
		mc := &mcol{name: c.name, typ: p.d.ColumnType(c.spec), notNull: !c.nullable && !incr, dflt: def, inlinePK: incr}
		if c.change {
			old := m.column(c.name)
			if old == nil {
				return fmt.Errorf("change column %s: no such column", c.name)
			}
			if old.inlinePK {
				return fmt.Errorf("change column %s: it is the auto-incrementing primary key, which SQLite cannot change", c.name)
			}
			if c.nullable && containsFold(m.pk, c.name) {
				return fmt.Errorf("change column %s: a primary key column cannot be Nullable", c.name)
			}
			mc.name, mc.copied = old.name, true
			*old = *mc
		} else {
			if m.column(c.name) != nil {
				return fmt.Errorf("add column %s: the table has a column of that name", c.name)
			}
			if incr && m.hasPK() {
				return fmt.Errorf("add column %s: the table has a primary key already", c.name)
			}
			m.cols = append(m.cols, mc)
		}
		if c.primary {
			if err := m.setPK([]string{c.name}); err != nil {
				return err
			}
		}
		if c.fk != nil {
			return m.addFK(c.fk)
		}
	case opForeign:
		return m.addFK(s.fk)
	case opPrimary:
		return m.setPK(s.names)
	case opDropColumn:
		name := s.names[0]
		i := -1
		for j, c := range m.cols {
			if strings.EqualFold(c.name, name) {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("drop column %s: no such column", name)
		}
		if err := m.checkUnreferenced(p, name); err != nil {
			return err
		}
		m.cols = append(m.cols[:i], m.cols[i+1:]...)
		if len(m.cols) == 0 {
			return fmt.Errorf("drop column %s: SQLite keeps at least one column of a table", name)
		}
		if containsFold(m.pk, name) {
			m.pk = nil
		}
		m.fks = deleteFunc(m.fks, func(fk mfk) bool { return containsFold(fk.columns, name) })
		m.uniques = deleteFunc(m.uniques, func(u munique) bool { return containsFold(u.columns, name) })
		m.indexes = deleteFunc(m.indexes, func(i mindex) bool { return containsFold(i.columns, name) })
	case opDropForeign:
		n := len(m.fks)
		m.fks = deleteFunc(m.fks, func(fk mfk) bool { return equalFold(fk.columns, s.names) })
		if len(m.fks) == n {
			return fmt.Errorf("drop foreign key (%s): no such key", strings.Join(s.names, ", "))
		}
	default:
		return fmt.Errorf("%v cannot be part of a rebuild", s.kind)
	}
	return nil
}

func deleteFunc[T any](s []T, del func(T) bool) []T {
	out := s[:0]
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	return out
}

func equalFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func (m *model) setPK(names []string) error {
	if m.hasPK() {
		return fmt.Errorf("primary key (%s): the table has a primary key already", strings.Join(names, ", "))
	}
	for _, n := range names {
		c := m.column(n)
		if c == nil {
			return fmt.Errorf("primary key (%s): no column %s", strings.Join(names, ", "), n)
		}
		c.notNull = true // as PostgreSQL's ADD PRIMARY KEY does
	}
	m.pk = names
	return nil
}

func (m *model) addFK(fk *ForeignKey) error {
	for _, n := range fk.columns {
		if m.column(n) == nil {
			return fmt.Errorf("foreign key (%s): no column %s", strings.Join(fk.columns, ", "), n)
		}
	}
	for _, old := range m.fks {
		if equalFold(old.columns, fk.columns) {
			return fmt.Errorf("foreign key (%s): the table has one on these columns already", strings.Join(fk.columns, ", "))
		}
	}
	m.fks = append(m.fks, mfk{columns: fk.columns, table: fk.table, refs: fk.refs, onDelete: fk.onDelete.sql(), onUpdate: fk.onUpdate.sql()})
	return nil
}

// createSQL returns the CREATE TABLE of the model under the name table.
func (m *model) createSQL(p *plan, table tname) string {
	b := table.appendTo([]byte("CREATE TABLE "))
	b = append(b, " ("...)
	for i, c := range m.cols {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = dialect.AppendIdent(b, c.name)
		if c.typ != "" {
			b = append(b, ' ')
			b = append(b, c.typ...)
		}
		if c.notNull {
			b = append(b, " NOT NULL"...)
		}
		if c.dflt != "" {
			b = append(b, " DEFAULT "...)
			b = append(b, c.dflt...)
		}
	}
	if len(m.pk) > 0 {
		b = append(b, ", PRIMARY KEY "...)
		b = idents(b, m.pk)
	}
	for _, u := range m.uniques {
		b = append(b, ", "...)
		b = append(b, u.def...)
	}
	for _, fk := range m.fks {
		b = append(b, ", CONSTRAINT "...)
		b = dialect.AppendIdent(b, objectName("fk", p.table, fk.columns))
		b = append(b, " FOREIGN KEY "...)
		b = idents(b, fk.columns)
		b = append(b, " REFERENCES "...)
		b = dialect.AppendIdent(b, fk.table)
		if fk.refs != nil {
			b = append(b, ' ')
			b = idents(b, fk.refs)
		}
		if fk.onDelete != "" && fk.onDelete != "NO ACTION" {
			b = append(b, " ON DELETE "...)
			b = append(b, fk.onDelete...)
		}
		if fk.onUpdate != "" && fk.onUpdate != "NO ACTION" {
			b = append(b, " ON UPDATE "...)
			b = append(b, fk.onUpdate...)
		}
	}
	return string(append(b, ')'))
}

// rebuild makes changes to the table by rebuilding it (see the top of this
// file). fkOff says that foreign keys are off for it. When they are on (a
// rebuild inside the caller's transaction), it fails if a foreign key
// references the table: dropping the old table would delete, or refuse to
// delete, the rows that reference it.
func (p *plan) rebuild(ctx context.Context, tx *query.Tx, changes []op, fkOff bool) (err error) {
	m, err := p.readModel(ctx, tx)
	if err != nil {
		return err
	}
	if !fkOff && len(m.refs) > 0 {
		on, err := pragmaOn(ctx, tx, "", "foreign_keys")
		if err != nil {
			return p.wrap("PRAGMA foreign_keys", err)
		}
		if on {
			return errorf("alter %s: this change rebuilds the table on SQLite, which needs foreign keys off while a foreign key references the table (one of table %s does), and they cannot be turned off inside a transaction: run Alter on a *query.DB or *query.Conn, not a *query.Tx",
				p.table, m.refs[0].table)
		}
	}
	for _, s := range changes {
		if err := m.apply(p, s); err != nil {
			return errorf("alter %s: %w", p.table, err)
		}
	}

	table := p.table.within(m.name)
	tmp := p.table.within(rebuildPrefix + m.name)
	seqTable := string(p.table.within("sqlite_sequence").appendTo(nil))
	var seq *int64
	if m.autoinc {
		q := "SELECT seq FROM " + seqTable + " WHERE name = ?"
		n, err := query.One[int64](ctx, tx, q, m.name)
		switch {
		case err == nil:
			seq = &n
		case !errors.Is(err, query.ErrNotFound):
			return p.wrap(q, err)
		}
	}

	var cols []string
	for _, c := range m.cols {
		if c.copied {
			cols = append(cols, c.name)
		}
	}
	stmts := []string{m.createSQL(p, tmp)}
	if len(cols) > 0 {
		b := tmp.appendTo([]byte("INSERT INTO "))
		b = append(b, ' ')
		b = idents(b, cols)
		b = append(b, " SELECT "...)
		b = identList(b, cols)
		b = append(b, " FROM "...)
		b = table.appendTo(b)
		stmts = append(stmts, string(b))
	}
	stmts = append(stmts, string(table.appendTo([]byte("DROP TABLE "))))
	if err := p.exec(ctx, tx, stmts...); err != nil {
		return err
	}

	// Renamed with legacy_alter_table on: else SQLite checks every view
	// and trigger against the schema as it is between the drop and the
	// rename, and fails on those that name the table.
	legacy, err := pragmaOn(ctx, tx, "", "legacy_alter_table")
	if err != nil {
		return p.wrap("PRAGMA legacy_alter_table", err)
	}
	if !legacy {
		if err := p.exec(ctx, tx, "PRAGMA legacy_alter_table = ON"); err != nil {
			return err
		}
	}
	rename := string(tmp.appendTo([]byte("ALTER TABLE "))) + " RENAME TO " + quoted(m.name)
	err = p.exec(ctx, tx, rename)
	if !legacy {
		if rerr := p.exec(context.WithoutCancel(ctx), tx, "PRAGMA legacy_alter_table = OFF"); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return err
	}

	stmts = stmts[:0]
	for _, i := range m.indexes {
		stmts = append(stmts, i.sql)
	}
	stmts = append(stmts, m.triggers...)
	if err := p.exec(ctx, tx, stmts...); err != nil {
		return err
	}
	if seq != nil && m.autoincrements() {
		// The copy set the table's sequence to its largest key; keep the
		// old one when it was larger, so that keys are not used again.
		q := "UPDATE " + seqTable + " SET seq = max(seq, ?) WHERE name = ?"
		n, err := tx.Exec(ctx, q, *seq, m.name)
		if err != nil {
			return p.wrap(q, err)
		}
		if n == 0 {
			q = "INSERT INTO " + seqTable + " (name, seq) VALUES (?, ?)"
			if _, err := tx.Exec(ctx, q, m.name, *seq); err != nil {
				return p.wrap(q, err)
			}
		}
	}
	return nil
}
