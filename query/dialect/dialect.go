// Package dialect holds what differs between the SQL databases Hatago's
// data layer speaks: placeholders, identifier quoting, column types, and
// the statements that have no common form. It has no drivers and does no
// I/O; package query drives a database through it, and package schema
// writes DDL with it.
//
// Both dialects share most of their SQL: double-quoted identifiers,
// INSERT ... ON CONFLICT ... DO UPDATE for upserts (SQLite 3.24 and later)
// and RETURNING (SQLite 3.35 and later).
package dialect

import (
	"fmt"
	"strconv"
)

// Type is a portable column type.
type Type int

// The column types. Each dialect maps them to its own (see ColumnType).
const (
	Increments    Type = iota + 1 // auto-incrementing integer primary key
	BigIncrements                 // auto-incrementing 64-bit primary key
	Integer                       // 32-bit integer (64-bit storage on SQLite)
	BigInt                        // 64-bit integer
	String                        // text of at most Size characters
	Text                          // unbounded text
	Boolean
	Float     // double precision
	Decimal   // exact, Precision digits with Scale after the point
	Timestamp // instant in time, with time zone on PostgreSQL
	Date
	JSON
	UUID
	Bytes
)

var typeNames = [...]string{"", "increments", "bigIncrements", "integer", "bigint", "string", "text",
	"boolean", "float", "decimal", "timestamp", "date", "json", "uuid", "bytes"}

func (t Type) String() string {
	if t > 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Column is what a dialect needs to name a column's type.
type Column struct {
	Type      Type
	Size      int // String: maximum length (255 when 0)
	Precision int // Decimal: total digits (10 when 0)
	Scale     int // Decimal: digits after the point
}

// Dialect is one SQL database's flavour.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// AppendPlaceholder appends the placeholder of the n-th bound value,
	// counted from 1: "?" on SQLite, "$n" on PostgreSQL.
	AppendPlaceholder(b []byte, n int) []byte
	// ColumnType returns the column's type in DDL. For Increments and
	// BigIncrements it includes PRIMARY KEY and the auto-increment.
	ColumnType(c Column) string
	// AdvisoryLock and AdvisoryUnlock are the statements that take and
	// release a process-wide lock named by key, or "" where the database
	// locks otherwise (SQLite serialises writers on its own).
	AdvisoryLock(key int64) string
	AdvisoryUnlock(key int64) string
}

// AppendIdent appends name quoted as an SQL identifier, each part of a
// dotted name on its own ("a"."b"). name must have passed ValidIdent: the
// quoting does not escape.
func AppendIdent(b []byte, name string) []byte {
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			b = append(b, '"', '.', '"')
			continue
		}
		b = append(b, name[i])
	}
	return append(b, '"')
}

// QuoteIdent returns name quoted, or an error naming it when it is not a
// valid identifier.
func QuoteIdent(name string) (string, error) {
	if err := ValidIdent(name); err != nil {
		return "", err
	}
	return string(AppendIdent(nil, name)), nil
}

// ValidIdent reports whether name is an identifier Hatago will put in SQL:
// one to three dot-separated parts, each a letter or underscore followed by
// letters, digits or underscores, at most 63 bytes each (PostgreSQL's
// limit). Anything else is refused rather than escaped, so no value can
// reach the SQL text through a name.
func ValidIdent(name string) error {
	parts, start := 0, 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			letter := c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
			if !letter && (i == start || c < '0' || c > '9') {
				return &IdentError{Name: name}
			}
			continue
		}
		if i == start || i-start > 63 {
			return &IdentError{Name: name}
		}
		parts++
		start = i + 1
	}
	if parts > 3 {
		return &IdentError{Name: name}
	}
	return nil
}

// IdentError reports a name that is not a valid SQL identifier.
type IdentError struct {
	Name string
}

func (e *IdentError) Error() string {
	return fmt.Sprintf("hatago/query: %q is not a valid SQL identifier (letters, digits and _, not starting with a digit, at most 63 bytes, dot-separated)", e.Name)
}

// For returns the dialect named name ("sqlite" or "postgres").
func For(name string) (Dialect, error) {
	switch name {
	case "sqlite":
		return SQLite{}, nil
	case "postgres":
		return Postgres{}, nil
	}
	return nil, fmt.Errorf("hatago/query: unknown dialect %q", name)
}

func decimal(c Column) string {
	p := c.Precision
	if p == 0 {
		p = 10
	}
	return fmt.Sprintf("NUMERIC(%d,%d)", p, c.Scale)
}

func size(c Column) int {
	if c.Size <= 0 {
		return 255
	}
	return c.Size
}

// SQLite is the dialect of SQLite 3.35 and later.
type SQLite struct{}

func (SQLite) Name() string { return "sqlite" }

func (SQLite) AppendPlaceholder(b []byte, _ int) []byte { return append(b, '?') }

// ColumnType maps types onto SQLite's declared types. The names are chosen
// for their affinity: JSON and UUID are TEXT (a JSON column would get
// NUMERIC affinity and turn "123" into a number), and TIMESTAMP and DATE
// are what the driver reads back as time.Time.
func (SQLite) ColumnType(c Column) string {
	switch c.Type {
	case Increments, BigIncrements:
		return "INTEGER PRIMARY KEY AUTOINCREMENT"
	case Integer:
		return "INTEGER"
	case BigInt:
		return "BIGINT"
	case String:
		return "VARCHAR(" + strconv.Itoa(size(c)) + ")"
	case Text, JSON, UUID:
		return "TEXT"
	case Boolean:
		return "BOOLEAN"
	case Float:
		return "REAL"
	case Decimal:
		return decimal(c)
	case Timestamp:
		return "TIMESTAMP"
	case Date:
		return "DATE"
	case Bytes:
		return "BLOB"
	}
	return ""
}

func (SQLite) AdvisoryLock(int64) string   { return "" }
func (SQLite) AdvisoryUnlock(int64) string { return "" }

// Postgres is the dialect of PostgreSQL 12 and later.
type Postgres struct{}

func (Postgres) Name() string { return "postgres" }

func (Postgres) AppendPlaceholder(b []byte, n int) []byte {
	return strconv.AppendInt(append(b, '$'), int64(n), 10)
}

func (Postgres) ColumnType(c Column) string {
	switch c.Type {
	case Increments:
		return "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	case BigIncrements:
		return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	case Integer:
		return "INTEGER"
	case BigInt:
		return "BIGINT"
	case String:
		return "VARCHAR(" + strconv.Itoa(size(c)) + ")"
	case Text:
		return "TEXT"
	case Boolean:
		return "BOOLEAN"
	case Float:
		return "DOUBLE PRECISION"
	case Decimal:
		return decimal(c)
	case Timestamp:
		return "TIMESTAMPTZ"
	case Date:
		return "DATE"
	case JSON:
		return "JSONB"
	case UUID:
		return "UUID"
	case Bytes:
		return "BYTEA"
	}
	return ""
}

func (Postgres) AdvisoryLock(key int64) string {
	return "SELECT pg_advisory_lock(" + strconv.FormatInt(key, 10) + ")"
}

func (Postgres) AdvisoryUnlock(key int64) string {
	return "SELECT pg_advisory_unlock(" + strconv.FormatInt(key, 10) + ")"
}
