package schema

import (
	"github.com/hatago/hatago/query/dialect"
)

// Table records a table's columns, indexes and keys for Create, or the
// changes to make to a table for Alter. Its methods only record: nothing
// is checked or run until the function given to Create or Alter returns,
// and then either every statement runs or none does. A Table lives only
// during that call and is not safe for concurrent use.
type Table struct {
	name  string
	alter bool
	ops   []*op
}

// opKind is what one recorded change does.
type opKind uint8

const (
	opColumn       opKind = iota + 1 // add (or, with Change, change) a column
	opIndex                          // create an index
	opForeign                        // add a foreign key
	opPrimary                        // set the primary key
	opDropColumn                     // drop a column
	opRenameColumn                   // rename a column
	opDropIndex                      // drop an index by name
	opDropForeign                    // drop the foreign key on columns
)

// op is one recorded change, in the order the methods were called.
type op struct {
	kind     opKind
	col      *Column     // opColumn
	index    *Index      // opIndex
	fk       *ForeignKey // opForeign
	names    []string    // opPrimary, opDropForeign: columns; opDropColumn: one column
	from, to string      // opRenameColumn; opDropIndex: from is the index's name
}

func (t *Table) add(o *op) *op {
	t.ops = append(t.ops, o)
	return o
}

func (t *Table) column(name string, c dialect.Column) *Column {
	col := &Column{name: name, spec: c}
	t.add(&op{kind: opColumn, col: col})
	return col
}

// Increments adds an auto-incrementing integer primary key: INTEGER PRIMARY
// KEY AUTOINCREMENT on SQLite (a 64-bit rowid), an INTEGER identity column
// on PostgreSQL.
func (t *Table) Increments(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Increments})
}

// BigIncrements adds an auto-incrementing 64-bit integer primary key.
func (t *Table) BigIncrements(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.BigIncrements})
}

// Integer adds a 32-bit integer column (SQLite stores 64 bits).
func (t *Table) Integer(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Integer})
}

// BigInt adds a 64-bit integer column.
func (t *Table) BigInt(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.BigInt})
}

// String adds a VARCHAR(size) column; size must be at least 1. SQLite
// does not enforce the size.
func (t *Table) String(name string, size int) *Column {
	c := t.column(name, dialect.Column{Type: dialect.String, Size: size})
	if size < 1 {
		c.errf("size %d: want at least 1", size)
	}
	return c
}

// Text adds a text column without a length limit.
func (t *Table) Text(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Text})
}

// Boolean adds a boolean column (declared BOOLEAN on SQLite too, which
// stores 1 and 0).
func (t *Table) Boolean(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Boolean})
}

// Float adds a double-precision floating-point column.
func (t *Table) Float(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Float})
}

// Decimal adds an exact NUMERIC(precision, scale) column: precision
// digits in all (1 to 1000), scale of them after the point (0 to
// precision). SQLite stores it with NUMERIC affinity, as an integer or a
// double, so only PostgreSQL keeps it exact.
func (t *Table) Decimal(name string, precision, scale int) *Column {
	c := t.column(name, dialect.Column{Type: dialect.Decimal, Precision: precision, Scale: scale})
	if precision < 1 || precision > 1000 || scale < 0 || scale > precision {
		c.errf("decimal(%d, %d): want a precision of 1 to 1000 and a scale of 0 to the precision", precision, scale)
	}
	return c
}

// Timestamp adds an instant-in-time column: TIMESTAMPTZ on PostgreSQL,
// TIMESTAMP on SQLite (read back as time.Time).
func (t *Table) Timestamp(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Timestamp})
}

// Date adds a calendar-date column.
func (t *Table) Date(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Date})
}

// JSON adds a JSON column: JSONB on PostgreSQL, TEXT on SQLite.
func (t *Table) JSON(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.JSON})
}

// UUID adds a UUID column: UUID on PostgreSQL, TEXT on SQLite.
func (t *Table) UUID(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.UUID})
}

// Bytes adds a binary column: BYTEA on PostgreSQL, BLOB on SQLite.
func (t *Table) Bytes(name string) *Column {
	return t.column(name, dialect.Column{Type: dialect.Bytes})
}

// Index adds an index on columns, named idx_<table>_<columns> unless
// renamed with Index.Name. Create makes it after the table, in the same
// transaction.
func (t *Table) Index(columns ...string) *Index {
	i := &Index{columns: columns}
	t.add(&op{kind: opIndex, index: i})
	return i
}

// Unique adds a unique index on columns, named uniq_<table>_<columns>
// unless renamed with Index.Name. Inserting a row whose columns equal
// another's fails with query.ErrConflict.
func (t *Table) Unique(columns ...string) *Index {
	i := &Index{columns: columns, unique: true}
	t.add(&op{kind: opIndex, index: i})
	return i
}

// Primary makes columns the table's primary key, for a key of several
// columns or one that is not an Increments column. A table has at most one
// primary key; its columns are NOT NULL.
func (t *Table) Primary(columns ...string) {
	t.add(&op{kind: opPrimary, names: columns})
}

// Foreign adds a foreign key on columns; name the columns it references
// with ForeignKey.References. For a key of one column, Column.References
// is shorter. The key is named fk_<table>_<columns>.
func (t *Table) Foreign(columns ...string) *ForeignKey {
	fk := &ForeignKey{columns: columns}
	t.add(&op{kind: opForeign, fk: fk})
	return fk
}

// DropColumn drops columns (Alter only). Indexes on a dropped column go
// with it, as do the primary key and foreign keys it is part of; a column
// that another table's foreign key references cannot be dropped.
func (t *Table) DropColumn(names ...string) {
	for _, n := range names {
		t.add(&op{kind: opDropColumn, names: []string{n}})
	}
	if len(names) == 0 {
		t.add(&op{kind: opDropColumn})
	}
}

// RenameColumn renames column from to to (Alter only). Indexes and
// foreign keys follow it, but keep their names.
func (t *Table) RenameColumn(from, to string) {
	t.add(&op{kind: opRenameColumn, from: from, to: to})
}

// DropIndex drops the index that Index(columns...) made, the one named
// idx_<table>_<columns> (Alter only).
func (t *Table) DropIndex(columns ...string) {
	t.add(&op{kind: opDropIndex, names: columns})
}

// DropUnique drops the unique index that Unique(columns...) made, the one
// named uniq_<table>_<columns> (Alter only).
func (t *Table) DropUnique(columns ...string) {
	t.add(&op{kind: opDropIndex, names: columns, to: "uniq"})
}

// DropIndexNamed drops the index called name, unique or not (Alter only).
func (t *Table) DropIndexNamed(name string) {
	t.add(&op{kind: opDropIndex, from: name})
}

// DropForeign drops the foreign key on columns, the one named
// fk_<table>_<columns> (Alter only).
func (t *Table) DropForeign(columns ...string) {
	t.add(&op{kind: opDropForeign, names: columns})
}

// Column is a column being added (or, after Change, changed). Its methods
// set its properties and return it, to be chained. A column is NOT NULL
// unless made Nullable, and has no default unless given one.
type Column struct {
	name     string
	spec     dialect.Column
	nullable bool
	dflt     dflt
	primary  bool
	unique   bool
	index    bool
	change   bool
	fk       *ForeignKey
	err      error // the first misuse, reported with the column's name
}

// dflt is a column's default, written into the DDL when the dialect is
// known.
type dflt struct {
	kind  dfltKind
	value any    // dfltValue
	raw   string // dfltRaw
}

type dfltKind uint8

const (
	dfltNone dfltKind = iota
	dfltValue
	dfltNow
	dfltRaw
)

func (c *Column) errf(format string, args ...any) {
	if c.err == nil {
		c.err = errorf(format, args...)
	}
}

// Nullable lets the column hold NULL.
func (c *Column) Nullable() *Column { c.nullable = true; return c }

// Default sets the column's default to v, written into the DDL as an SQL
// literal: nil (NULL), a bool (TRUE/FALSE on PostgreSQL, 1/0 on SQLite),
// an integer, a finite float, a string (quoted, valid UTF-8 without NUL),
// a []byte, or a time.Time (a date for a Date column). Another type fails
// Create or Alter with query.ErrInvalid.
func (c *Column) Default(v any) *Column {
	c.dflt = dflt{kind: dfltValue, value: v}
	return c
}

// DefaultNow makes the column default to the time of the insert:
// CURRENT_TIMESTAMP, or CURRENT_DATE for a Date column. It is for
// Timestamp and Date columns.
func (c *Column) DefaultNow() *Column {
	c.dflt = dflt{kind: dfltNow}
	return c
}

// DefaultRaw sets the column's default to the SQL expression expr, written
// into the DDL as it is. It is the way out for defaults Default cannot
// write (a function call, say), and must be a constant written by the
// program, never text that came from input: it is not checked or escaped.
func (c *Column) DefaultRaw(expr string) *Column {
	c.dflt = dflt{kind: dfltRaw, raw: expr}
	return c
}

// Unique adds a unique index on the column alone, named
// uniq_<table>_<column>.
func (c *Column) Unique() *Column { c.unique = true; return c }

// Index adds an index on the column alone, named idx_<table>_<column>.
func (c *Column) Index() *Column { c.index = true; return c }

// Primary makes the column the table's primary key.
func (c *Column) Primary() *Column { c.primary = true; return c }

// Change makes Alter change the existing column of this name into this
// definition: its type, its nullability and its default (none unless
// given). Indexes and keys set on it are added. Change is for Alter only.
func (c *Column) Change() *Column { c.change = true; return c }

// References adds a foreign key from the column to column of table, named
// fk_<table>_<column>. Set what happens when the referenced row goes with
// ForeignKey.OnDelete.
func (c *Column) References(table, column string) *ForeignKey {
	c.fk = &ForeignKey{columns: []string{c.name}}
	return c.fk.References(table, column)
}

// Index is an index being added by Table.Index or Table.Unique.
type Index struct {
	columns []string
	unique  bool
	name    string // "" for the default name
}

// Name names the index name instead of idx_<table>_<columns> or
// uniq_<table>_<columns>.
func (i *Index) Name(name string) *Index { i.name = name; return i }

// ForeignKey is a foreign key being added by Column.References or
// Table.Foreign.
type ForeignKey struct {
	columns  []string
	table    string
	refs     []string
	onDelete Action
	onUpdate Action
}

// References names the table and the columns, one for each of the key's,
// that the key references. They must be the table's primary key or have a
// unique index.
func (f *ForeignKey) References(table string, columns ...string) *ForeignKey {
	f.table, f.refs = table, columns
	return f
}

// OnDelete sets what happens to this row when the row it references is
// deleted. Without it the delete fails (NO ACTION).
func (f *ForeignKey) OnDelete(a Action) *ForeignKey { f.onDelete = a; return f }

// OnUpdate sets what happens to this row when the key of the row it
// references changes. Without it the update fails (NO ACTION).
func (f *ForeignKey) OnUpdate(a Action) *ForeignKey { f.onUpdate = a; return f }

// Action is what a foreign key does to a row when the row it references is
// deleted or its key updated.
type Action uint8

// The actions. A deleted or updated parent whose key a row still holds
// fails with query.ErrForeignKey under NoAction and Restrict (Restrict
// checks at once, NoAction at the end of the statement, or of the
// transaction for a deferred key).
const (
	NoAction Action = iota + 1 // fail, unless the row is gone by the end of the statement
	Restrict                   // fail at once
	Cascade                    // delete the row, or update its key to match
	SetNull                    // set the row's key columns to NULL
)

func (a Action) sql() string {
	switch a {
	case NoAction:
		return "NO ACTION"
	case Restrict:
		return "RESTRICT"
	case Cascade:
		return "CASCADE"
	case SetNull:
		return "SET NULL"
	}
	return ""
}

// String returns the action as SQL writes it, such as "SET NULL".
func (a Action) String() string {
	if s := a.sql(); s != "" {
		return s
	}
	return "Action(" + itoa(int(a)) + ")"
}
