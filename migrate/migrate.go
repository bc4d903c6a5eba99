package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// Migration is one versioned change to a database. Up makes the change and
// Down undoes it; each runs in a transaction of its own, which also
// records the migration in the history table or removes it from there, so
// a migration is applied entirely or not at all.
type Migration struct {
	// Version orders the migrations and identifies them in the history
	// table: a positive number, such as 20261122150405 or 3.
	Version int64
	// Name says what the migration does, such as create_users.
	Name string
	// Up applies the migration. It must not commit or roll back tx.
	Up func(ctx context.Context, tx *query.Tx) error
	// Down reverts Up. A nil Down makes the migration irreversible: Down
	// and DownTo refuse to go past it (ErrIrreversible).
	Down func(ctx context.Context, tx *query.Tx) error
}

// String is the migration's version and name as in a file name:
// "20261122150405_create_users".
func (m Migration) String() string { return fmt.Sprintf("%d_%s", m.Version, m.Name) }

// The errors of a Migrator; test for them with errors.Is.
var (
	// ErrInvalid: New was given migrations it cannot run (a duplicate or
	// non-positive version, a missing name or Up), or FromFS found a
	// misnamed or unpaired file.
	ErrInvalid = errors.New("hatago/migrate: invalid migrations")
	// ErrUnknownVersion: UpTo or DownTo named a version that no migration
	// has, or Down or DownTo would have to revert a version that the
	// history table records but no migration has.
	ErrUnknownVersion = errors.New("hatago/migrate: no migration has this version")
	// ErrIrreversible: Down or DownTo would have to revert a migration
	// without a Down function.
	ErrIrreversible = errors.New("hatago/migrate: migration cannot be reverted")
)

// Error is the failure of one migration, returned by Up, UpTo, Down and
// DownTo. The migration's transaction was rolled back: neither its changes
// nor its history row remain.
type Error struct {
	Migration Migration
	Op        string // "up" or "down"
	Err       error  // what Up or Down (or recording it) returned
}

func (e *Error) Error() string {
	return fmt.Sprintf("migrate %s %s: %v", e.Op, e.Migration, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// DefaultTable is the name of the history table unless HistoryTable gives
// another.
const DefaultTable = "hatago_migrations"

// Option configures a Migrator in New.
type Option func(*Migrator)

// HistoryTable makes the Migrator record applied migrations in table (a
// name or schema.name) instead of DefaultTable.
func HistoryTable(table string) Option {
	return func(m *Migrator) { m.table = table }
}

// Log makes the Migrator write a line to w for each migration it applies
// or reverts, as it does so: "applied 3_add_email (12ms)".
func Log(w io.Writer) Option {
	return func(m *Migrator) { m.log = w }
}

// Clock makes the Migrator read the time, for the history table's
// applied_at column and for Log's durations, from now instead of
// time.Now.
func Clock(now func() time.Time) Option {
	return func(m *Migrator) { m.now = now }
}

// Migrator applies and reverts a set of migrations on one database. It
// keeps no state between calls and is safe for concurrent use; several
// Migrators, in one process or many, may run on the same database at
// once (see the package documentation on locking).
type Migrator struct {
	db         *query.DB
	migrations []Migration // sorted by version
	table      string
	log        io.Writer
	now        func() time.Time
}

// New returns a Migrator for migrations on db. It does no I/O; it checks
// the migrations and returns an error wrapping ErrInvalid if two share a
// version (naming both), a version is not positive, or a migration lacks
// a name or an Up function.
func New(db *query.DB, migrations []Migration, opts ...Option) (*Migrator, error) {
	if db == nil {
		return nil, errors.New("hatago/migrate: New: nil *query.DB")
	}
	m := &Migrator{db: db, table: DefaultTable, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	if err := dialect.ValidIdent(m.table); err != nil {
		return nil, fmt.Errorf("%w: history table: %v", ErrInvalid, err)
	}
	m.migrations = slices.Clone(migrations)
	slices.SortStableFunc(m.migrations, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i, mg := range m.migrations {
		switch {
		case mg.Version < 1:
			return nil, fmt.Errorf("%w: %s: version must be positive", ErrInvalid, mg)
		case strings.TrimSpace(mg.Name) == "":
			return nil, fmt.Errorf("%w: version %d has no name", ErrInvalid, mg.Version)
		case mg.Up == nil:
			return nil, fmt.Errorf("%w: %s has no Up function", ErrInvalid, mg)
		case i > 0 && m.migrations[i-1].Version == mg.Version:
			return nil, fmt.Errorf("%w: duplicate version %d: %s and %s", ErrInvalid, mg.Version, m.migrations[i-1], mg)
		}
	}
	return m, nil
}

// Migrations returns the Migrator's migrations, sorted by version.
func (m *Migrator) Migrations() []Migration { return slices.Clone(m.migrations) }

// Up applies every pending migration in version order, each in its own
// transaction, and returns those it applied. It stops at the first that
// fails, returning an *Error for it along with the migrations applied
// before, which stay applied. Migrations that another process applies
// meanwhile are skipped, never applied twice. Pending migrations with a
// version below the newest applied one (merged from another branch, say)
// are applied too.
func (m *Migrator) Up(ctx context.Context) ([]Migration, error) {
	return m.up(ctx, math.MaxInt64)
}

// UpTo is Up for the migrations up to and including version, which must
// be one of the Migrator's (else ErrUnknownVersion). It reverts nothing:
// migrations after version that are applied stay applied.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]Migration, error) {
	if _, ok := m.find(version); !ok {
		return nil, fmt.Errorf("%w: UpTo %d", ErrUnknownVersion, version)
	}
	return m.up(ctx, version)
}

// Down reverts the newest steps applied migrations, newest first, each in
// its own transaction, and returns those it reverted. steps must be at
// least 1. Before it reverts anything it checks that each of them is
// known and has a Down function (else ErrUnknownVersion or
// ErrIrreversible). It stops at the first that fails with an *Error.
func (m *Migrator) Down(ctx context.Context, steps int) ([]Migration, error) {
	if steps < 1 {
		return nil, fmt.Errorf("hatago/migrate: Down(%d): steps must be at least 1", steps)
	}
	return m.down(ctx, func(applied []record) []record {
		return applied[max(0, len(applied)-steps):]
	})
}

// DownTo reverts every applied migration with a version above version,
// newest first, as Down does; DownTo(ctx, 0) reverts them all. version
// must be 0 or one of the Migrator's (else ErrUnknownVersion).
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]Migration, error) {
	if _, ok := m.find(version); !ok && version != 0 {
		return nil, fmt.Errorf("%w: DownTo %d", ErrUnknownVersion, version)
	}
	return m.down(ctx, func(applied []record) []record {
		i, _ := slices.BinarySearchFunc(applied, version+1, func(r record, v int64) int { return cmp.Compare(r.Version, v) })
		return applied[i:]
	})
}

// State is one migration's state, as Status reports it.
type State struct {
	Version int64
	Name    string
	// Applied reports whether the history table records the migration,
	// and AppliedAt when it was applied (UTC).
	Applied   bool
	AppliedAt time.Time
	// Unknown marks a version the history table records but no migration
	// has (its file was deleted, or it comes from another program): it
	// cannot be reverted. Name is then the recorded name.
	Unknown bool
}

// Status returns the state of every migration and of every applied
// version without one, in version order. It changes nothing: on a
// database that has never been migrated all migrations are pending.
func (m *Migrator) Status(ctx context.Context) ([]State, error) {
	applied, err := m.history(ctx, m.db)
	if err != nil {
		return nil, err
	}
	var states []State
	i := 0
	for _, mg := range m.migrations {
		for ; i < len(applied) && applied[i].Version < mg.Version; i++ {
			states = append(states, applied[i].unknown())
		}
		s := State{Version: mg.Version, Name: mg.Name}
		if i < len(applied) && applied[i].Version == mg.Version {
			s.Applied, s.AppliedAt = true, applied[i].AppliedAt.UTC()
			i++
		}
		states = append(states, s)
	}
	for ; i < len(applied); i++ {
		states = append(states, applied[i].unknown())
	}
	return states, nil
}

func (m *Migrator) find(version int64) (Migration, bool) {
	i, ok := slices.BinarySearchFunc(m.migrations, version, func(mg Migration, v int64) int { return cmp.Compare(mg.Version, v) })
	if !ok {
		return Migration{}, false
	}
	return m.migrations[i], true
}

// record is a row of the history table.
type record struct {
	Version   int64     `db:"version,pk"`
	Name      string    `db:"name"`
	AppliedAt time.Time `db:"applied_at"`
}

func (r record) unknown() State {
	return State{Version: r.Version, Name: r.Name, Applied: true, AppliedAt: r.AppliedAt.UTC(), Unknown: true}
}

func (m *Migrator) up(ctx context.Context, limit int64) (applied []Migration, err error) {
	err = WithLock(ctx, m.db, m.table, func(x query.Executor) error {
		if err := m.createTable(ctx, x); err != nil {
			return err
		}
		done, err := m.history(ctx, x)
		if err != nil {
			return err
		}
		for _, mg := range m.migrations {
			if mg.Version > limit {
				break
			}
			if _, ok := slices.BinarySearchFunc(done, mg.Version, func(r record, v int64) int { return cmp.Compare(r.Version, v) }); ok {
				continue
			}
			did, err := m.run(ctx, x, mg, "up")
			if err != nil {
				return err
			}
			if did {
				applied = append(applied, mg)
			}
		}
		return nil
	})
	return applied, err
}

func (m *Migrator) down(ctx context.Context, pick func(applied []record) []record) (reverted []Migration, err error) {
	err = WithLock(ctx, m.db, m.table, func(x query.Executor) error {
		done, err := m.history(ctx, x)
		if err != nil {
			return err
		}
		plan := pick(done)
		todo := make([]Migration, 0, len(plan))
		for i := len(plan) - 1; i >= 0; i-- {
			mg, ok := m.find(plan[i].Version)
			switch {
			case !ok:
				return fmt.Errorf("%w: version %d (%s) is applied; cannot revert it", ErrUnknownVersion, plan[i].Version, plan[i].Name)
			case mg.Down == nil:
				return fmt.Errorf("%w: %s has no Down", ErrIrreversible, mg)
			}
			todo = append(todo, mg)
		}
		for _, mg := range todo {
			did, err := m.run(ctx, x, mg, "down")
			if err != nil {
				return err
			}
			if did {
				reverted = append(reverted, mg)
			}
		}
		return nil
	})
	return reverted, err
}

// run applies (op "up") or reverts ("down") mg in a transaction of its
// own on x, unless the history, read again inside that transaction, shows
// that another runner has done so already. It reports whether it did.
func (m *Migrator) run(ctx context.Context, x query.Executor, mg Migration, op string) (bool, error) {
	start := m.now()
	var did bool
	err := transact(ctx, x, func(tx *query.Tx) error {
		did = false
		h := query.Table[record](tx, m.table).Where("version", "=", mg.Version)
		applied, err := h.Exists(ctx)
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		if applied == (op == "down") {
			if op == "up" {
				err = call(ctx, tx, mg.Up)
				if err == nil {
					_, err = query.Table[record](tx, m.table).Insert(ctx, record{Version: mg.Version, Name: mg.Name, AppliedAt: m.now().UTC()})
				}
			} else {
				err = call(ctx, tx, mg.Down)
				if err == nil {
					_, err = h.Delete(ctx)
				}
			}
			did = err == nil
		}
		return err
	})
	if err != nil {
		return false, &Error{Migration: mg, Op: op, Err: err}
	}
	if did && m.log != nil {
		verb := "applied"
		if op == "down" {
			verb = "reverted"
		}
		fmt.Fprintf(m.log, "%s %s (%s)\n", verb, mg, m.now().Sub(start).Round(time.Millisecond))
	}
	return did, nil
}

// call runs a migration's function, turning a panic into an error so that
// the transaction rolls back and the lock is released as for any failure.
func call(ctx context.Context, tx *query.Tx, fn func(context.Context, *query.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, tx)
}

// transact runs fn in a transaction on x. On SQLite it tries again when
// the database stays locked past the busy timeout (another process holds
// its write lock for long, running a slow migration, say), up to
// busyRetries times.
func transact(ctx context.Context, x query.Executor, fn func(tx *query.Tx) error) error {
	wait := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := x.Transaction(ctx, fn)
		if err == nil || attempt == busyRetries || x.Dialect().Name() != "sqlite" || !errors.Is(err, query.ErrBusy) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

const busyRetries = 10

// history returns the history table's rows in version order, or none when
// the table does not exist.
func (m *Migrator) history(ctx context.Context, x query.Executor) ([]record, error) {
	ok, err := tableExists(ctx, x, m.table)
	if err != nil || !ok {
		return nil, err
	}
	rs, err := query.Table[record](x, m.table).OrderBy("version").Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("hatago/migrate: read %s: %w", m.table, err)
	}
	return rs, nil
}

// createTable creates the history table if it does not exist.
func (m *Migrator) createTable(ctx context.Context, x query.Executor) error {
	ok, err := tableExists(ctx, x, m.table)
	if err != nil || ok {
		return err
	}
	d := x.Dialect()
	ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (version %s PRIMARY KEY, name %s NOT NULL, applied_at %s NOT NULL)",
		dialect.AppendIdent(nil, m.table),
		d.ColumnType(dialect.Column{Type: dialect.BigInt}),
		d.ColumnType(dialect.Column{Type: dialect.Text}),
		d.ColumnType(dialect.Column{Type: dialect.Timestamp}))
	err = transact(ctx, x, func(tx *query.Tx) error {
		_, err := tx.Exec(ctx, ddl)
		return err
	})
	if err != nil {
		return fmt.Errorf("hatago/migrate: create %s: %w", m.table, err)
	}
	return nil
}

// tableExists reports whether table (a name or schema.name) exists: on
// PostgreSQL where search_path would find it.
func tableExists(ctx context.Context, x query.Executor, table string) (bool, error) {
	var (
		q    string
		args []any
	)
	switch x.Dialect().Name() {
	case "postgres":
		q, args = "SELECT to_regclass($1) IS NOT NULL", []any{string(dialect.AppendIdent(nil, table))}
	default:
		schema, name, found := strings.Cut(table, ".")
		if !found {
			schema, name = "main", table
		}
		q = "SELECT count(*) > 0 FROM " + string(dialect.AppendIdent(nil, schema)) + ".sqlite_master WHERE type = 'table' AND name = ?"
		args = []any{name}
	}
	ok, err := query.One[bool](ctx, x, q, args...)
	if err != nil {
		return false, fmt.Errorf("hatago/migrate: look for %s: %w", table, err)
	}
	return ok, nil
}
