// Package query is Hatago's data layer: one API over SQLite (embedded,
// nothing to install) and PostgreSQL, with a fluent, immutable query
// builder in the spirit of Nim's allographer and Laravel, transactions
// with savepoints, and errors that mean the same on both databases.
//
// # Opening a database
//
//	db, err := query.Open(ctx, "sqlite:app.db")            // or sqlite::memory:
//	db, err := query.Open(ctx, "postgres://u:p@host/app")
//
// SQLite runs through modernc.org/sqlite, SQLite itself translated to
// pure Go: no cgo, so a fresh machine with only Go builds and runs it. It
// is opened with WAL journaling, foreign keys on, a busy timeout, and
// write transactions that take the write lock as they begin. PostgreSQL
// runs through pgx's native interface and pool (not database/sql), with
// statements prepared and cached per connection.
//
// # Building queries
//
// Table starts a query on a table and names the type its rows are read
// into; each method returns a new Query, so a base query can be kept and
// shared by concurrent handlers:
//
//	type World struct {
//		ID           int32 `db:"id"`
//		RandomNumber int32 `db:"randomnumber"`
//	}
//	worlds := query.Table[World](db, "world")
//	w, err := worlds.Find(ctx, 42)
//	page, err := worlds.Where("randomnumber", ">", 5000).OrderBy("id").Limit(20).Get(ctx)
//	n, err := worlds.WhereIn("id", ids).Update(ctx, query.Set{"randomnumber": 7})
//
// DB.Table reads rows as Row maps for ad-hoc queries; All and One run raw
// SQL with bound arguments. Struct fields map to columns by their `db`
// tag, else by their name in snake_case.
//
// # Safety
//
// Values are always bound as parameters. Identifiers (tables, columns,
// aliases) must be plain names (letters, digits, underscores; dotted for
// a schema or table prefix): anything else is refused with ErrInvalid, not
// escaped, and the query is not sent. The only SQL text taken as given is
// the argument of SelectRaw, WhereRaw and HavingRaw, which must be a
// constant of the program, with ? for its values.
//
// # Errors
//
// Errors wrap one of ErrNotFound, ErrConflict, ErrForeignKey, ErrNotNull,
// ErrCheck, ErrBusy, ErrSerialization and ErrInvalid, mapped from the
// drivers' error codes, so errors.Is works alike on both databases; the
// driver's own error stays reachable with errors.As.
//
// # Speed
//
// Generated SQL is interned per shape, so building a query allocates little
// beyond its values, and on SQLite each shape's statement is prepared once
// and reused (database/sql would compile it for every query). Rows scan
// straight into struct fields through a plan cached per type. The
// benchmarks in bench_test.go compare find-by-id and a 20-row select with
// raw pgx and raw database/sql.
package query
