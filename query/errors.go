package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The kinds of database errors. Errors from queries wrap one of these, so
// errors.Is works the same on every dialect, and wrap the driver's error
// too (errors.As reaches *pgconn.PgError or *sqlite.Error). They are
// mapped from the drivers' error codes, never from message text.
var (
	// ErrNotFound: a query for one row (First, Find, Min, ...) found none.
	ErrNotFound = errors.New("hatago/query: not found")
	// ErrConflict: a unique or primary-key constraint was violated.
	ErrConflict = errors.New("hatago/query: unique constraint violated")
	// ErrForeignKey: a foreign-key constraint was violated.
	ErrForeignKey = errors.New("hatago/query: foreign key constraint violated")
	// ErrNotNull: NULL went into a NOT NULL column.
	ErrNotNull = errors.New("hatago/query: not-null constraint violated")
	// ErrCheck: a CHECK constraint was violated.
	ErrCheck = errors.New("hatago/query: check constraint violated")
	// ErrBusy: a lock could not be had in time (SQLite's busy timeout,
	// PostgreSQL's lock_timeout).
	ErrBusy = errors.New("hatago/query: database busy")
	// ErrSerialization: the transaction lost a serialization conflict or
	// a deadlock and may be retried.
	ErrSerialization = errors.New("hatago/query: serialization failure; retry the transaction")
	// ErrInvalid: the query is malformed: an invalid identifier or
	// operator, a missing table, a wrong argument.
	ErrInvalid = errors.New("hatago/query: invalid query")
)

// errNoRows is what an ErrNotFound of the builder's own wraps.
var errNoRows = sql.ErrNoRows

// Error is a database error of a known kind.
type Error struct {
	Kind       error  // one of the Err* kinds above
	Constraint string // the violated constraint's name, when the database says
	Err        error  // the driver's error
}

func (e *Error) Error() string {
	if e.Constraint != "" {
		return fmt.Sprintf("%v (%s): %v", e.Kind, e.Constraint, e.Err)
	}
	return fmt.Sprintf("%v: %v", e.Kind, e.Err)
}

func (e *Error) Is(target error) bool { return target == e.Kind }
func (e *Error) Unwrap() error        { return e.Err }

// mapError wraps a driver error in an *Error of its kind, or returns it as
// it is when it has no kind.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var qe *Error
	if errors.As(err, &qe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows) {
		return &Error{Kind: ErrNotFound, Err: err}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if kind := pgKind(pe.Code); kind != nil {
			return &Error{Kind: kind, Constraint: pe.ConstraintName, Err: err}
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		if kind := sqliteKind(se); kind != nil {
			return &Error{Kind: kind, Err: err}
		}
	}
	return err
}

// pgKind maps SQLSTATE codes (PostgreSQL's appendix A).
func pgKind(code string) error {
	switch code {
	case "23505":
		return ErrConflict
	case "23503":
		return ErrForeignKey
	case "23502":
		return ErrNotNull
	case "23514":
		return ErrCheck
	case "55P03":
		return ErrBusy
	case "40001", "40P01":
		return ErrSerialization
	}
	switch code[:2] {
	case "42", "22": // syntax or access rule; data exception
		return ErrInvalid
	}
	return nil
}

// sqliteKind maps SQLite's extended result codes.
func sqliteKind(se *sqlite.Error) error {
	code := se.Code()
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
		// SQLite enforces ON DELETE RESTRICT with a built-in trigger
		// program, whose code a user trigger's RAISE(ABORT, ...) shares;
		// only the program's fixed message, a constant of SQLite's
		// source, tells them apart. The one exception to mapping by code.
		if strings.Contains(se.Error(), "FOREIGN KEY constraint failed") {
			return ErrForeignKey
		}
		return nil
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return ErrConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return ErrForeignKey
	case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return ErrNotNull
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		return ErrCheck
	}
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return ErrBusy
	case sqlite3.SQLITE_ERROR, sqlite3.SQLITE_RANGE, sqlite3.SQLITE_MISMATCH:
		return ErrInvalid
	}
	return nil
}

func invalid(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Err: fmt.Errorf(format, args...)}
}
