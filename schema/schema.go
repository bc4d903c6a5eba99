package schema

import (
	"context"
	"fmt"

	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// Create creates table with the columns, indexes and keys that fn records
// on the Table it is given. The CREATE TABLE and the CREATE INDEX
// statements run in one transaction (a savepoint when x is a *query.Tx):
// either the table is made whole or nothing is. It is safe for concurrent
// use.
//
// An invalid name, a column declared twice, an index on a column the table
// does not have and other mistakes in fn fail with query.ErrInvalid before
// anything runs. A table that exists fails with the database's error.
func Create(ctx context.Context, x query.Executor, table string, fn func(t *Table)) error {
	p, err := newPlan(x.Dialect(), table, false, fn)
	if err != nil {
		return err
	}
	stmts := p.createSQL()
	return x.Transaction(ctx, func(tx *query.Tx) error { return p.exec(ctx, tx, stmts...) })
}

// CreateSQL returns the statements Create would run on a database of
// dialect d, without running them: CREATE TABLE, then one CREATE INDEX for
// each index. It fails as Create does on a mistake in fn.
func CreateSQL(d dialect.Dialect, table string, fn func(t *Table)) ([]string, error) {
	p, err := newPlan(d, table, false, fn)
	if err != nil {
		return nil, err
	}
	return p.createSQL(), nil
}

// Alter changes table as fn records on the Table it is given: columns
// added, changed (Column.Change), renamed and dropped; indexes, primary and
// foreign keys added and dropped. The changes are made in the order they
// were recorded, all in one transaction (a savepoint when x is a
// *query.Tx): either all are made or none is. It is safe for concurrent
// use.
//
// On SQLite, changes that its ALTER TABLE cannot make rebuild the table;
// see the package documentation. Mistakes in fn fail with query.ErrInvalid
// before anything runs.
func Alter(ctx context.Context, x query.Executor, table string, fn func(t *Table)) error {
	p, err := newPlan(x.Dialect(), table, true, fn)
	if err != nil {
		return err
	}
	if p.sqlite() {
		return p.alterSQLite(ctx, x)
	}
	stmts := p.postgresAlterSQL()
	return x.Transaction(ctx, func(tx *query.Tx) error { return p.exec(ctx, tx, stmts...) })
}

// Rename renames table from to to, which has no schema: a table stays in
// its schema. Indexes and keys keep their names, and foreign keys that
// reference the table follow it. It is safe for concurrent use. An invalid
// name fails with query.ErrInvalid.
func Rename(ctx context.Context, x query.Executor, from, to string) error {
	t, err := parseTable(from)
	if err != nil {
		return errorf("rename: table name: %w", err)
	}
	if err := column(to); err != nil {
		return errorf("rename %s: new name: %w", t, err)
	}
	return run(ctx, x, "rename "+t.String(), string(t.appendTo([]byte("ALTER TABLE ")))+" RENAME TO "+quoted(to))
}

// Drop drops table, with its indexes. It is safe for concurrent use. A
// table that does not exist fails with the database's error; on
// PostgreSQL, so does a table that another table's foreign key references.
// On SQLite, the drop deletes the table's rows first, which foreign keys
// that reference them act on: it fails with query.ErrForeignKey when
// they restrict it, and deletes or updates the rows that reference them
// when they cascade.
func Drop(ctx context.Context, x query.Executor, table string) error {
	return drop(ctx, x, table, "DROP TABLE ")
}

// DropIfExists drops table as Drop does, if it exists.
func DropIfExists(ctx context.Context, x query.Executor, table string) error {
	return drop(ctx, x, table, "DROP TABLE IF EXISTS ")
}

func drop(ctx context.Context, x query.Executor, table, stmt string) error {
	t, err := parseTable(table)
	if err != nil {
		return errorf("drop: table name: %w", err)
	}
	return run(ctx, x, "drop "+t.String(), string(t.appendTo([]byte(stmt))))
}

// run runs one statement, its error wrapped with what it is for.
func run(ctx context.Context, x query.Executor, what, stmt string) error {
	if _, err := x.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("hatago/schema: %s: %w", what, err)
	}
	return nil
}

// HasTable reports whether table exists: on PostgreSQL, in the schema the
// name resolves to (the search_path's first that has it, when the name has
// none); on SQLite, in the main database, its name matched without regard
// to case as SQLite matches names. Views do not count. It is safe for
// concurrent use. An invalid name fails with query.ErrInvalid.
func HasTable(ctx context.Context, x query.Executor, table string) (bool, error) {
	t, err := parseTable(table)
	if err != nil {
		return false, errorf("has table: table name: %w", err)
	}
	var q string
	var args []any
	if x.Dialect().Name() == "sqlite" {
		q = "SELECT count(*) FROM pragma_table_list WHERE schema = ? COLLATE NOCASE AND name = ? COLLATE NOCASE AND type = 'table'"
		args = []any{sqliteSchema(t), t.name}
	} else {
		q = "SELECT count(*) FROM pg_catalog.pg_class WHERE oid = to_regclass($1) AND relkind IN ('r', 'p')"
		args = []any{string(t.appendTo(nil))}
	}
	return count(ctx, x, "has table "+t.String(), q, args...)
}

// HasColumn reports whether table exists and has column; a view's columns
// count. Names resolve as HasTable's do. It is safe for concurrent use. An invalid name fails with query.ErrInvalid.
func HasColumn(ctx context.Context, x query.Executor, table, col string) (bool, error) {
	t, err := parseTable(table)
	if err != nil {
		return false, errorf("has column: table name: %w", err)
	}
	if err := column(col); err != nil {
		return false, errorf("has column: %s: %w", t, err)
	}
	var q string
	var args []any
	if x.Dialect().Name() == "sqlite" {
		q = "SELECT count(*) FROM pragma_table_list AS t, pragma_table_info(t.name, t.schema) AS c" +
			" WHERE t.schema = ? COLLATE NOCASE AND t.name = ? COLLATE NOCASE AND c.name = ? COLLATE NOCASE"
		args = []any{sqliteSchema(t), t.name, col}
	} else {
		q = "SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped"
		args = []any{string(t.appendTo(nil)), col}
	}
	return count(ctx, x, "has column "+t.String()+"."+col, q, args...)
}

// sqliteSchema is the SQLite database of t: main unless t names one.
func sqliteSchema(t tname) string {
	if t.schema == "" {
		return "main"
	}
	return t.schema
}

func count(ctx context.Context, x query.Executor, what, q string, args ...any) (bool, error) {
	n, err := query.One[int64](ctx, x, q, args...)
	if err != nil {
		return false, fmt.Errorf("hatago/schema: %s: %w", what, err)
	}
	return n > 0, nil
}
