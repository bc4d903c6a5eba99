package migrate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/hatago/hatago/query"
)

// WithLock runs fn while holding the lock named name on db's database, so
// that runs of WithLock with the same name, in this process or any other,
// take turns. fn gets the Executor to work on: it should open a
// transaction on it for each unit of work, and check inside that
// transaction whether the work is still to do.
//
// On PostgreSQL the lock is a session advisory lock (pg_advisory_lock),
// keyed by a hash of name and, unless name is qualified ("schema.name"),
// the current schema, so that each schema has its own; it is taken on one
// connection
// held for the whole run; fn gets that connection. It waits for the lock
// as long as ctx allows, and releases it when fn returns, even when ctx
// is done by then. A process that dies releases its lock with its
// connection.
//
// On SQLite there is no lock across the run and fn gets db: SQLite lets
// one write transaction run at a time and Hatago begins them with BEGIN
// IMMEDIATE, so each of fn's transactions excludes the others' from its
// start; the check inside it is what keeps two runs from doing the same
// work.
//
// It returns fn's error, or the error of taking or releasing the lock.
func WithLock(ctx context.Context, db *query.DB, name string, fn func(x query.Executor) error) error {
	d := db.Dialect()
	if d.AdvisoryLock(0) == "" {
		return fn(db)
	}
	return db.Conn(ctx, func(c *query.Conn) (err error) {
		key, err := lockKey(ctx, c, name)
		if err != nil {
			return err
		}
		defer func() {
			// Release also after a failed or interrupted lock statement:
			// the lock may have been granted as ctx ended. Unlocking a lock
			// not held only warns.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, uerr := c.Exec(uctx, d.AdvisoryUnlock(key)); uerr != nil && err == nil {
				err = fmt.Errorf("hatago/migrate: release lock %s: %w", name, uerr)
			}
		}()
		if _, err := c.Exec(ctx, d.AdvisoryLock(key)); err != nil {
			return fmt.Errorf("hatago/migrate: take lock %s: %w", name, err)
		}
		return fn(c)
	})
}

// lockKey derives the advisory lock's key from name and, for an
// unqualified name on PostgreSQL, the schema that such names resolve to,
// so that the same history table in two schemas of one database has two
// locks.
func lockKey(ctx context.Context, x query.Executor, name string) (int64, error) {
	h := fnv.New64a()
	if x.Dialect().Name() == "postgres" && !strings.Contains(name, ".") {
		schema, err := query.One[*string](ctx, x, "SELECT current_schema()")
		if err != nil {
			return 0, fmt.Errorf("hatago/migrate: lock %s: %w", name, err)
		}
		if schema == nil {
			return 0, errors.New("hatago/migrate: lock " + name + ": no schema in search_path")
		}
		h.Write([]byte(*schema))
		h.Write([]byte{0})
	}
	h.Write([]byte(name))
	return int64(h.Sum64()), nil
}
