package seed

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
)

// Seeder fills tables with data. It must be idempotent: run again, it
// leaves the data as the first run did (skipping rows that are there
// already, say, or upserting them), so that seeding at every start, from
// every worker of a cluster, is safe.
type Seeder struct {
	// Name names the seeder in progress lines, errors and on the command
	// line: world, fortune.
	Name string
	// Run writes the data through x, the seeder's transaction when Run
	// calls it, and reports on p: SetTotal when it knows how many rows it
	// will write, Add as it writes them (in chunks: see Chunks), Note to
	// say why it writes nothing. p may be nil.
	Run func(ctx context.Context, x query.Executor, p *Progress) error
}

// LockName is the name of the lock Run holds (see migrate.WithLock).
const LockName = "hatago_seed"

// Run runs seeders on db in order, each in a transaction of its own, and
// stops at the first that fails or panics, returning its error wrapped
// as "seed NAME: ..."; that seeder's writes are rolled back, the ones
// before it stay. It holds the lock named LockName meanwhile (see
// migrate.WithLock), so that runs from several processes take turns, and
// a seeder that checks what is there inside its transaction never writes
// the same rows twice. p may be nil. It returns an error at once, running
// nothing, if a seeder has no name or no Run function.
func Run(ctx context.Context, db *query.DB, p *Progress, seeders ...Seeder) error {
	for i, s := range seeders {
		if s.Name == "" || s.Run == nil {
			return fmt.Errorf("hatago/seed: seeder %d (%q) lacks a name or a Run function", i, s.Name)
		}
	}
	return migrate.WithLock(ctx, db, LockName, func(x query.Executor) error {
		for _, s := range seeders {
			p.Start("seed "+s.Name, 0)
			err := x.Transaction(ctx, func(tx *query.Tx) error { return call(ctx, tx, p, s.Run) })
			if err != nil {
				p.fail()
				return fmt.Errorf("seed %s: %w", s.Name, err)
			}
			p.Finish()
		}
		return nil
	})
}

// call runs a seeder, turning a panic into an error.
func call(ctx context.Context, x query.Executor, p *Progress, fn func(context.Context, query.Executor, *Progress) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, x, p)
}

// ChunkSize is how many rows Copy writes in one statement between two
// progress reports.
const ChunkSize = 1000

// Copy inserts rows into table's columns in chunks of ChunkSize, through
// query.CopyFrom (COPY on PostgreSQL, multi-row INSERTs on SQLite),
// adding each chunk to p. It returns how many rows it inserted and the
// first error; rows that conflict with existing ones fail it
// (query.ErrConflict), so call it for rows known to be missing.
func Copy(ctx context.Context, x query.Executor, p *Progress, table string, columns []string, rows [][]any) (int64, error) {
	var total int64
	for start := 0; start < len(rows); start += ChunkSize {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := query.CopyFrom(ctx, x, table, columns, rows[start:min(start+ChunkSize, len(rows))])
		total += n
		if err != nil {
			return total, err
		}
		p.Add(n)
	}
	return total, nil
}
