package query

import (
	"context"
	"errors"
	"sync"

	"github.com/hatago/hatago/query/dialect"
)

// ErrTxDone is what a Tx used after its function returned reports.
var ErrTxDone = errTxDone

// Statement is one statement a Recorder was asked to run.
type Statement struct {
	SQL  string
	Args []any
}

// Recorder is an Executor that sends nothing anywhere: it records the
// statements run on it and answers every query with no rows. Tests use it
// to see the SQL of writes, and to show that a refused query sent nothing.
type Recorder struct {
	db *DB

	mu    sync.Mutex // guards the field below
	stmts []Statement
}

var _ Executor = (*Recorder)(nil)

// NewRecorder returns a Recorder that builds SQL in dialect d.
func NewRecorder(d dialect.Dialect) *Recorder { return &Recorder{db: &DB{dialect: d}} }

// Statements returns what was run so far, oldest first.
func (r *Recorder) Statements() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Statement(nil), r.stmts...)
}

// Reset forgets the statements run so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.stmts = nil
	r.mu.Unlock()
}

func (r *Recorder) record(sql string, args []any) {
	r.mu.Lock()
	r.stmts = append(r.stmts, Statement{sql, append([]any(nil), args...)})
	r.mu.Unlock()
}

func (r *Recorder) target() (*DB, session)   { return r.db, recSession{r} }
func (r *Recorder) Dialect() dialect.Dialect { return r.db.dialect }
func (r *Recorder) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return exec(ctx, r, sql, args)
}
func (r *Recorder) Query(ctx context.Context, sql string, args ...any) (*Rows, error) {
	return queryRows(ctx, r, sql, args)
}
func (r *Recorder) Transaction(ctx context.Context, fn func(tx *Tx) error) error {
	return transaction(ctx, r, fn)
}

type recSession struct{ r *Recorder }

func (s recSession) query(_ context.Context, sql string, args []any) (driverRows, error) {
	s.r.record(sql, args)
	return noRows{}, nil
}

func (s recSession) exec(_ context.Context, sql string, args []any) (int64, error) {
	s.r.record(sql, args)
	return 0, nil
}

func (s recSession) begin(context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	done := func(context.Context) error { return nil }
	return s, done, done, nil
}

// noRows is an empty result set.
type noRows struct{}

func (noRows) Next() bool        { return false }
func (noRows) Scan(...any) error { return errors.New("query: scan of no rows") }
func (noRows) Err() error        { return nil }
func (noRows) Close()            {}
