package query_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

type note struct {
	ID   int64 `db:"id,pk"`
	Text string
}

// notesDB opens tg with an empty notes table.
func notesDB(t *testing.T, tg dbtest.Target) *query.DB {
	t.Helper()
	db := openDB(t, tg)
	mustExec(t, db, `CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)`)
	return db
}

// noteIDs returns the ids in the notes table, in order.
func noteIDs(t *testing.T, x query.Executor) []int64 {
	t.Helper()
	ns, err := query.Table[note](x, "notes").OrderBy("id").Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}

func insertNote(ctx context.Context, x query.Executor, id int64) error {
	_, err := query.Table[note](x, "notes").Insert(ctx, note{id, fmt.Sprint("note ", id)})
	return err
}

var errBoom = errors.New("boom")

func TestTransaction(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := notesDB(t, tg)

		// Committed when fn returns nil; invisible outside until then.
		err := db.Transaction(ctx, func(tx *query.Tx) error {
			if err := insertNote(ctx, tx, 1); err != nil {
				return err
			}
			if ids := noteIDs(t, tx); !slices.Equal(ids, []int64{1}) {
				t.Errorf("inside: %v, want [1]", ids)
			}
			if ids := noteIDs(t, db); len(ids) != 0 {
				t.Errorf("outside before commit: %v, want none", ids)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1}) {
			t.Errorf("after commit: %v, want [1]", ids)
		}

		// Rolled back when fn returns an error, which Transaction returns.
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			if err := insertNote(ctx, tx, 2); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", errBoom)
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("Transaction returned %v, want errBoom", err)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1}) {
			t.Errorf("after an error: %v, want [1]", ids)
		}

		// Rolled back when fn panics, and the panic goes on.
		got := catch(func() {
			db.Transaction(ctx, func(tx *query.Tx) error {
				if err := insertNote(ctx, tx, 3); err != nil {
					return err
				}
				panic(errBoom)
			})
		})
		if got != errBoom {
			t.Errorf("panic value %v, want errBoom", got)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1}) {
			t.Errorf("after a panic: %v, want [1]", ids)
		}
		// The rolled-back transaction let go of its connection and locks:
		// another writes at once.
		if err := db.Transaction(ctx, func(tx *query.Tx) error { return insertNote(ctx, tx, 4) }); err != nil {
			t.Fatalf("transaction after a panic: %v", err)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1, 4}) {
			t.Errorf("after the panic: %v, want [1 4]", ids)
		}
	})
}

func TestNestedTransaction(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := notesDB(t, tg)
		err := db.Transaction(ctx, func(tx *query.Tx) error {
			if err := insertNote(ctx, tx, 1); err != nil {
				return err
			}
			// An inner error rolls back the inner work only.
			err := tx.Transaction(ctx, func(tx *query.Tx) error {
				if err := insertNote(ctx, tx, 2); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("inner Transaction returned %v, want errBoom", err)
			}
			// A failed statement inside (PostgreSQL aborts the whole
			// transaction on one) is rolled back with its savepoint.
			err = tx.Transaction(ctx, func(tx *query.Tx) error {
				if err := insertNote(ctx, tx, 3); err != nil {
					return err
				}
				return insertNote(ctx, tx, 1) // a duplicate
			})
			if !errors.Is(err, query.ErrConflict) {
				t.Errorf("inner Transaction with a duplicate returned %v, want ErrConflict", err)
			}
			// A committed inner transaction, with one of its own inside
			// that fails.
			err = tx.Transaction(ctx, func(tx *query.Tx) error {
				if err := insertNote(ctx, tx, 4); err != nil {
					return err
				}
				if err := tx.Transaction(ctx, func(tx *query.Tx) error {
					if err := insertNote(ctx, tx, 5); err != nil {
						return err
					}
					return errBoom
				}); !errors.Is(err, errBoom) {
					t.Errorf("innermost returned %v, want errBoom", err)
				}
				return tx.Transaction(ctx, func(tx *query.Tx) error { return insertNote(ctx, tx, 6) })
			})
			if err != nil {
				return err
			}
			if ids := noteIDs(t, tx); !slices.Equal(ids, []int64{1, 4, 6}) {
				t.Errorf("inside the outer transaction: %v, want [1 4 6]", ids)
			}
			return insertNote(ctx, tx, 7)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1, 4, 6, 7}) {
			t.Errorf("committed %v, want [1 4 6 7]", ids)
		}

		// An outer error rolls back committed inner work too.
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			if err := tx.Transaction(ctx, func(tx *query.Tx) error { return insertNote(ctx, tx, 8) }); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("outer returned %v, want errBoom", err)
		}
		// A panic inside rolls back everything and reaches the caller.
		got := catch(func() {
			db.Transaction(ctx, func(tx *query.Tx) error {
				if err := insertNote(ctx, tx, 9); err != nil {
					return err
				}
				return tx.Transaction(ctx, func(tx *query.Tx) error {
					if err := insertNote(ctx, tx, 10); err != nil {
						return err
					}
					panic("inner panic")
				})
			})
		})
		if got != "inner panic" {
			t.Errorf("panic value %v, want inner panic", got)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1, 4, 6, 7}) {
			t.Errorf("after outer error and panic: %v, want [1 4 6 7]", ids)
		}
	})
}

// TestTxDone uses a Tx after its function returned.
func TestTxDone(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := notesDB(t, tg)
		check := func(when string, tx *query.Tx, id int64) {
			t.Helper()
			if _, err := tx.Exec(ctx, "DELETE FROM notes"); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: Exec: %v, want ErrTxDone", when, err)
			}
			if _, err := tx.Query(ctx, "SELECT 1"); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: Query: %v, want ErrTxDone", when, err)
			}
			if err := tx.Transaction(ctx, func(*query.Tx) error { return nil }); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: Transaction: %v, want ErrTxDone", when, err)
			}
			if err := insertNote(ctx, tx, id); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: Insert: %v, want ErrTxDone", when, err)
			}
			if _, err := tx.Table("notes").Get(ctx); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: Get: %v, want ErrTxDone", when, err)
			}
			if _, err := tx.Table("notes").Where("id", ">", 0).Delete(ctx); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: Delete: %v, want ErrTxDone", when, err)
			}
			if _, err := query.CopyFrom(ctx, tx, "notes", []string{"id", "text"}, [][]any{{id, "copied"}}); !errors.Is(err, query.ErrTxDone) {
				t.Errorf("%s: CopyFrom: %v, want ErrTxDone", when, err)
			}
		}
		for _, commit := range []bool{true, false} {
			var kept *query.Tx
			db.Transaction(ctx, func(tx *query.Tx) error {
				kept = tx
				if err := insertNote(ctx, tx, 1); err != nil {
					return err
				}
				if !commit {
					return errBoom
				}
				return nil
			})
			check(fmt.Sprintf("after commit %v", commit), kept, 2)
		}

		// An inner Tx kept past its function, while the outer one runs
		// on: nothing it is asked to do reaches the outer transaction.
		err := db.Transaction(ctx, func(tx *query.Tx) error {
			var inner *query.Tx
			if err := tx.Transaction(ctx, func(tx *query.Tx) error { inner = tx; return nil }); err != nil {
				return err
			}
			check("after the inner function", inner, 3)
			return insertNote(ctx, tx, 4)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{1, 4}) {
			t.Errorf("notes %v, want [1 4]", ids)
		}
	})
}

func TestTransactionContext(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		db := notesDB(t, tg)

		// Canceled before: fn never runs.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		ran := false
		err := db.Transaction(ctx, func(*query.Tx) error { ran = true; return nil })
		if !errors.Is(err, context.Canceled) || ran {
			t.Errorf("canceled before: err %v, fn ran %v; want context.Canceled, false", err, ran)
		}

		// Canceled while fn runs: nothing is committed.
		ctx, cancel = context.WithCancel(t.Context())
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			if err := insertNote(ctx, tx, 1); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled during: %v, want context.Canceled", err)
		}
		// Canceled while fn runs, and fn carries on with statements.
		ctx, cancel = context.WithCancel(t.Context())
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			if err := insertNote(ctx, tx, 2); err != nil {
				return err
			}
			cancel()
			return insertNote(ctx, tx, 3)
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("statement after cancel: %v, want context.Canceled", err)
		}
		// Canceled inside a nested transaction.
		ctx, cancel = context.WithCancel(t.Context())
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			return tx.Transaction(ctx, func(tx *query.Tx) error {
				if err := insertNote(ctx, tx, 4); err != nil {
					return err
				}
				cancel()
				return insertNote(ctx, tx, 5)
			})
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled in a savepoint: %v, want context.Canceled", err)
		}
		if ids := noteIDs(t, db); len(ids) != 0 {
			t.Errorf("committed %v, want nothing", ids)
		}
		// The database is fine afterwards.
		if err := db.Transaction(t.Context(), func(tx *query.Tx) error { return insertNote(t.Context(), tx, 6) }); err != nil {
			t.Fatal(err)
		}
		if ids := noteIDs(t, db); !slices.Equal(ids, []int64{6}) {
			t.Errorf("after: %v, want [6]", ids)
		}
	})
}

// TestConcurrentTransactions runs read-modify-write transactions at once:
// none may lose another's update, and none may fail (SQLite's writers
// take the lock when they begin, PostgreSQL's rows are locked FOR UPDATE).
func TestConcurrentTransactions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		concurrentTransactions(t, openDB(t, tg))
	})
	// An in-memory database's connections share it, locks included.
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		concurrentTransactions(t, openDB(t, dbtest.Target{Name: "sqlite", URL: "sqlite::memory:"}))
	})
}

func concurrentTransactions(t *testing.T, db *query.DB) {
	ctx := t.Context()
	mustExec(t, db, `CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`,
		`INSERT INTO counters (id, n) VALUES (1, 0)`)
	type counter struct {
		ID int64 `db:"id,pk"`
		N  int64
	}
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errc := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				errc <- db.Transaction(ctx, func(tx *query.Tx) error {
					c, err := query.Table[counter](tx, "counters").ForUpdate().Find(ctx, 1)
					if err != nil {
						return err
					}
					_, err = query.Table[counter](tx, "counters").Where("id", "=", 1).Update(ctx, query.Set{"n": c.N + 1})
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	c, err := query.Table[counter](db, "counters").Find(ctx, 1)
	if err != nil || c.N != workers*each {
		t.Errorf("counter = %d, %v; want %d", c.N, err, workers*each)
	}
}

// catch runs fn and returns what it panicked with.
func catch(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}
