package query

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hatago/hatago/query/dialect"
)

// Tx is a transaction begun by Transaction. It is an Executor: builders
// given it run inside the transaction. A Tx belongs to the function it was
// passed to; it must not be used after that function returns.
type Tx struct {
	db    *DB
	s     session
	depth int // 0 for the transaction, n for the n-th nested savepoint
	done  bool
}

func (tx *Tx) target() (*DB, session) {
	if tx.done {
		// Builders and CopyFrom reach the session here: a savepoint's
		// session is its enclosing transaction's, still open.
		return tx.db, doneSession{}
	}
	return tx.db, tx.s
}

func (tx *Tx) Dialect() dialect.Dialect { return tx.db.dialect }

// doneSession is the session of a Tx whose function has returned.
type doneSession struct{}

func (doneSession) query(context.Context, string, []any) (driverRows, error) { return nil, errTxDone }
func (doneSession) exec(context.Context, string, []any) (int64, error)       { return 0, errTxDone }
func (doneSession) begin(context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	return nil, nil, nil, errTxDone
}

func (tx *Tx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	if tx.done {
		return 0, errTxDone
	}
	return exec(ctx, tx, sql, args)
}

func (tx *Tx) Query(ctx context.Context, sql string, args ...any) (*Rows, error) {
	if tx.done {
		return nil, errTxDone
	}
	return queryRows(ctx, tx, sql, args)
}

// Transaction runs fn inside a savepoint: an error or panic from fn rolls
// back what fn did and leaves the enclosing transaction usable.
func (tx *Tx) Transaction(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if tx.done {
		return errTxDone
	}
	sp := "hatago_sp_" + strconv.Itoa(tx.depth+1)
	if _, err := tx.s.exec(ctx, "SAVEPOINT "+sp, nil); err != nil {
		return mapError(err)
	}
	inner := &Tx{db: tx.db, s: tx.s, depth: tx.depth + 1}
	committed := false
	defer func() {
		inner.done = true
		if committed {
			return
		}
		// The rollback must run even when ctx is done, or the savepoint
		// would stay open in the enclosing transaction.
		rctx := context.WithoutCancel(ctx)
		if _, rerr := tx.s.exec(rctx, "ROLLBACK TO SAVEPOINT "+sp, nil); rerr == nil {
			_, _ = tx.s.exec(rctx, "RELEASE SAVEPOINT "+sp, nil)
		} else if err != nil {
			err = errors.Join(err, fmt.Errorf("hatago/query: rollback to savepoint: %w", mapError(rerr)))
		}
	}()
	if err = fn(inner); err != nil {
		return err
	}
	if _, err = tx.s.exec(ctx, "RELEASE SAVEPOINT "+sp, nil); err != nil {
		return mapError(err)
	}
	committed = true
	return nil
}

var errTxDone = errors.New("hatago/query: transaction used after its function returned")

// transaction runs fn in a new transaction on x's database.
func transaction(ctx context.Context, x Executor, fn func(tx *Tx) error) (err error) {
	db, s := x.target()
	ts, commit, rollback, err := s.begin(ctx)
	if err != nil {
		return mapError(err)
	}
	tx := &Tx{db: db, s: ts}
	committed := false
	defer func() {
		tx.done = true
		if committed {
			return
		}
		if rerr := rollback(context.WithoutCancel(ctx)); rerr != nil && err != nil {
			err = errors.Join(err, fmt.Errorf("hatago/query: rollback: %w", mapError(rerr)))
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = commit(ctx); err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			// database/sql rolls back a transaction whose context ends
			// and then reports ErrTxDone: say why.
			return errors.Join(cerr, mapError(err))
		}
		return mapError(err)
	}
	committed = true
	return nil
}
