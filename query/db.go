package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/hatago/hatago/query/dialect"
)

// Options are a DB's pool settings. Zero fields take the defaults noted.
type Options struct {
	// MaxConns bounds the open connections: 4 per CPU on PostgreSQL (at
	// least 4); on SQLite, unbounded.
	MaxConns int
	// MinConns are kept open even when idle (PostgreSQL only; default 0).
	MinConns int
	// MaxIdleTime closes a connection idle for longer: 5 minutes.
	MaxIdleTime time.Duration
	// MaxLifetime closes a connection this old: 1 hour.
	MaxLifetime time.Duration
	// BusyTimeout is how long SQLite waits for a lock before it reports
	// ErrBusy: 5 seconds.
	BusyTimeout time.Duration
}

// DB is a database opened by Open: a pool of connections, safe for
// concurrent use. Start queries with Table, Raw or Transaction.
type DB struct {
	dialect dialect.Dialect
	url     string // without a password
	pg      *pgxpool.Pool
	sql     *sql.DB
	cache   sqlCache
	closed  atomic.Bool
	// keep holds a sqlite::memory: database open outside the pool: the
	// memdb VFS frees a database when its last connection closes, and
	// the pool closes idle and old connections.
	keep io.Closer
}

// Open opens the database at rawURL and checks that it answers:
//
//	sqlite:PATH             a file, created when missing (sqlite:///abs/path too)
//	sqlite::memory:         a private in-memory database
//	postgres://user:pass@host:port/db?sslmode=disable   (postgresql:// too)
//
// SQLite runs through a pure-Go driver (modernc.org/sqlite: SQLite itself,
// translated from C, so nothing needs installing and no cgo) with WAL
// journaling, foreign keys on, a busy timeout, and write transactions that
// take the write lock when they begin (BEGIN IMMEDIATE), so that two
// writers never deadlock on an upgrade. Times are written as text in UTC,
// so that they compare and sort as instants, and read back in UTC; a
// double-quoted name that is no column is an error, as on PostgreSQL,
// not a string. PostgreSQL runs through pgx's
// native interface and pool, with statements prepared and cached per
// connection.
func Open(ctx context.Context, rawURL string, opts ...Options) (*DB, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.MaxConns < 0 || o.MinConns < 0 || o.MaxIdleTime < 0 || o.MaxLifetime < 0 || o.BusyTimeout < 0 {
		return nil, errors.New("hatago/query: negative pool option")
	}
	if o.MaxIdleTime == 0 {
		o.MaxIdleTime = 5 * time.Minute
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = time.Hour
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		db, err = openSQLite(strings.TrimPrefix(rawURL, "sqlite:"), o)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = openPostgres(ctx, rawURL, o)
	default:
		return nil, fmt.Errorf("hatago/query: database URL %q: want sqlite:PATH, sqlite::memory: or postgres://", redact(rawURL))
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("hatago/query: open %s: %w", db.url, err)
	}
	return db, nil
}

var memoryDBs atomic.Int64

func openSQLite(path string, o Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("hatago/query: sqlite: URL without a path (want sqlite:PATH or sqlite::memory:)")
	}
	q := url.Values{}
	for _, p := range []string{
		fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()),
		"foreign_keys(1)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	// Times are text on SQLite and compare as text: write them all in
	// one zone, so that = , < and ORDER BY compare instants. They read
	// back in UTC.
	q.Set("_timezone", "UTC")
	// A double-quoted name that is no column must be an error, not the
	// string SQLite's quirk would make of it ("stauts" = 'x' is false for
	// every row, ORDER BY "typo" a constant).
	q.Set("_dqs", "0")
	memory := path == ":memory:"
	var dsn string
	if memory {
		// One named in-memory database shared by the pool's connections
		// (the memdb VFS), private to this DB.
		dsn = fmt.Sprintf("file:/hatago-memory-%d?vfs=memdb&", memoryDBs.Add(1)) + q.Encode()
	} else {
		path = strings.TrimPrefix(path, "//")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		dsn = "file:" + path + "?" + q.Encode()
	}
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("hatago/query: sqlite %s: %w", path, err)
	}
	if o.MaxConns > 0 {
		sdb.SetMaxOpenConns(o.MaxConns)
	}
	sdb.SetMaxIdleConns(max(o.MaxConns, 4))
	sdb.SetConnMaxIdleTime(o.MaxIdleTime)
	sdb.SetConnMaxLifetime(o.MaxLifetime)
	db := &DB{dialect: dialect.SQLite{}, url: "sqlite:" + path, sql: sdb}
	if memory {
		if db.keep, err = sdb.Driver().Open(dsn); err != nil {
			sdb.Close()
			return nil, fmt.Errorf("hatago/query: sqlite %s: %w", path, mapError(err))
		}
	}
	return db, nil
}

func openPostgres(ctx context.Context, rawURL string, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx hides the user information's password, not a parameter's.
		msg := "hatago/query: postgres URL " + redact(rawURL) + ": " + hidePasswords(err.Error(), passwords(rawURL, false))
		return nil, &redactedError{msg, err}
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = int32(o.MaxConns)
	}
	cfg.MinConns = int32(o.MinConns)
	cfg.MaxConnIdleTime = o.MaxIdleTime
	cfg.MaxConnLifetime = o.MaxLifetime
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		msg := "hatago/query: postgres " + redact(rawURL) + ": " + hidePasswords(err.Error(), passwords(rawURL, false))
		return nil, &redactedError{msg, err}
	}
	return &DB{dialect: dialect.Postgres{}, url: redact(rawURL), pg: pool}, nil
}

// redact hides the passwords of a database URL for messages: its user
// information's and a password parameter's, even when the URL does not
// parse (a malformed URL is what error messages show most).
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Opaque == "" {
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return hidePasswords(raw, passwords(raw, true))
}

// passwords returns the passwords rawURL holds, found without parsing it:
// its password parameters' and, when user is set, its user information's.
func passwords(rawURL string, user bool) []string {
	var pws []string
	if user {
		// "user:password@" after the scheme, before the query.
		rest := rawURL
		if i := strings.Index(rest, "://"); i >= 0 {
			rest = rest[i+3:]
		}
		rest, _, _ = strings.Cut(rest, "?")
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				pws = append(pws, pw)
			}
		}
	}
	// "password=..." up to the next & or space.
	for s := rawURL; ; {
		i := strings.Index(s, "password=")
		if i < 0 {
			break
		}
		s = s[i+len("password="):]
		end := strings.IndexAny(s, "& ")
		if end < 0 {
			end = len(s)
		}
		pws = append(pws, s[:end])
		s = s[end:]
	}
	return pws
}

// hidePasswords returns msg with each of pws, escaped or not, replaced
// by xxxxx.
func hidePasswords(msg string, pws []string) string {
	for _, pw := range pws {
		if pw == "" {
			continue
		}
		if u, err := url.QueryUnescape(pw); err == nil && u != pw && u != "" {
			msg = strings.ReplaceAll(msg, u, "xxxxx")
		}
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// redactedError is a driver's error with the passwords hidden in its
// message; errors.Is and errors.As still reach the driver's error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Dialect is the database's SQL flavour.
func (db *DB) Dialect() dialect.Dialect { return db.dialect }

// String is the database's URL, without its password.
func (db *DB) String() string { return db.url }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.pg != nil {
		return mapError(db.pg.Ping(ctx))
	}
	return mapError(db.sql.PingContext(ctx))
}

// Close closes the pool's connections; queries in flight finish first on
// PostgreSQL. It is safe to call more than once.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	if db.pg != nil {
		db.pg.Close()
		return nil
	}
	db.cache.close()
	err := db.sql.Close()
	if db.keep != nil {
		db.keep.Close()
	}
	return err
}

// PoolStats is a snapshot of a DB's connections.
type PoolStats struct {
	Open, InUse, Idle int
	// WaitCount is how many times a query waited for a connection, and
	// WaitDuration how long in all.
	WaitCount    int64
	WaitDuration time.Duration
}

// Stats reports the pool's connections.
func (db *DB) Stats() PoolStats {
	if db.pg != nil {
		s := db.pg.Stat()
		return PoolStats{Open: int(s.TotalConns()), InUse: int(s.AcquiredConns()), Idle: int(s.IdleConns()),
			WaitCount: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime()}
	}
	s := db.sql.Stats()
	return PoolStats{Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle, WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
}

// Pgx returns the underlying pgx pool on PostgreSQL, nil on SQLite: the
// way out for what the builder does not cover (COPY, LISTEN, batches).
func (db *DB) Pgx() *pgxpool.Pool { return db.pg }

// SQL returns the underlying database/sql handle on SQLite, nil on
// PostgreSQL.
func (db *DB) SQL() *sql.DB { return db.sql }

// Conn runs fn on one connection held for its whole run, for work that
// needs a session of its own: session settings, advisory locks, temporary
// tables.
func (db *DB) Conn(ctx context.Context, fn func(c *Conn) error) error {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(c)
}

// Acquire takes a connection out of the pool until Release: for a
// per-worker connection (see package resource) that spares each query the
// pool's bookkeeping and keeps its prepared statements at hand.
func (db *DB) Acquire(ctx context.Context) (*Conn, error) {
	if db.pg != nil {
		pc, err := db.pg.Acquire(ctx)
		if err != nil {
			return nil, mapError(err)
		}
		h := &pgHeld{pool: db.pg, pc: pc}
		return &Conn{db: db, s: h, release: h.release}, nil
	}
	sc, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	cs := &sqlConnSession{db: db.sql, c: sc}
	return &Conn{db: db, s: cs, release: cs.close}, nil
}

// pgHeld is a PostgreSQL connection held by a Conn. pgx closes a
// connection whose query was cancelled mid-way (its protocol state is
// lost); a held one would then fail every later query, so a closed one is
// swapped for a fresh one from the pool before the next statement.
type pgHeld struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	pc   *pgxpool.Conn
}

func (h *pgHeld) conn(ctx context.Context) (pgSession, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pc == nil || h.pc.Conn().IsClosed() {
		if h.pc != nil {
			h.pc.Release() // the pool drops a closed connection
			h.pc = nil
		}
		pc, err := h.pool.Acquire(ctx)
		if err != nil {
			return pgSession{}, err
		}
		h.pc = pc
	}
	return pgSession{h.pc}, nil
}

func (h *pgHeld) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pc != nil {
		h.pc.Release()
		h.pc = nil
	}
}

func (h *pgHeld) query(ctx context.Context, sql string, args []any) (driverRows, error) {
	s, err := h.conn(ctx)
	if err != nil {
		return nil, err
	}
	return s.query(ctx, sql, args)
}

func (h *pgHeld) exec(ctx context.Context, sql string, args []any) (int64, error) {
	s, err := h.conn(ctx)
	if err != nil {
		return 0, err
	}
	return s.exec(ctx, sql, args)
}

func (h *pgHeld) begin(ctx context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	s, err := h.conn(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return s.begin(ctx)
}

func (h *pgHeld) copyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error) {
	s, err := h.conn(ctx)
	if err != nil {
		return 0, err
	}
	return s.copyFrom(ctx, table, columns, rows)
}

// Conn is one connection held by DB.Conn or DB.Acquire. Like a
// connection, it runs one statement at a time: share it between
// goroutines only with care.
type Conn struct {
	db      *DB
	s       session
	release func()
	once    sync.Once
}

// Release returns the connection to the pool. It is safe to call more
// than once.
func (c *Conn) Release() { c.once.Do(c.release) }

// Executor is where a query runs: a *DB (any pooled connection), a *Conn
// or a *Tx. Builders take one.
type Executor interface {
	// Exec runs a statement with bound arguments and returns how many
	// rows it changed. Placeholders are the dialect's own: ? on SQLite,
	// $1, $2, ... on PostgreSQL. With no arguments, several statements
	// separated by semicolons may run at once.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// Query runs a query with bound arguments; the caller closes the rows.
	Query(ctx context.Context, sql string, args ...any) (*Rows, error)
	// Transaction runs fn in a transaction (a savepoint inside another):
	// committed when fn returns nil, rolled back when it returns an error
	// or panics.
	Transaction(ctx context.Context, fn func(tx *Tx) error) error
	// Dialect is the database's SQL flavour.
	Dialect() dialect.Dialect

	target() (*DB, session)
}

func (db *DB) target() (*DB, session) {
	if db.pg != nil {
		return db, pgPool{db.pg}
	}
	return db, sqlSession{db.sql}
}

func (c *Conn) target() (*DB, session)   { return c.db, c.s }
func (c *Conn) Dialect() dialect.Dialect { return c.db.dialect }
func (db *DB) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return exec(ctx, db, sql, args)
}
func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return exec(ctx, c, sql, args)
}
func (db *DB) Query(ctx context.Context, sql string, args ...any) (*Rows, error) {
	return queryRows(ctx, db, sql, args)
}
func (c *Conn) Query(ctx context.Context, sql string, args ...any) (*Rows, error) {
	return queryRows(ctx, c, sql, args)
}
func (db *DB) Transaction(ctx context.Context, fn func(tx *Tx) error) error {
	return transaction(ctx, db, fn)
}
func (c *Conn) Transaction(ctx context.Context, fn func(tx *Tx) error) error {
	return transaction(ctx, c, fn)
}

func exec(ctx context.Context, x Executor, sql string, args []any) (int64, error) {
	_, s := x.target()
	n, err := s.exec(ctx, sql, args)
	return n, mapError(err)
}

func queryRows(ctx context.Context, x Executor, sql string, args []any) (*Rows, error) {
	_, s := x.target()
	r, err := s.query(ctx, sql, args)
	if err != nil {
		return nil, mapError(err)
	}
	return &Rows{r: r}, nil
}

// CopyFrom inserts rows into table's columns in bulk: PostgreSQL's COPY
// protocol, or multi-row INSERTs on SQLite. It returns how many rows it
// inserted. Run it in a transaction to make it all or nothing on SQLite.
func CopyFrom(ctx context.Context, x Executor, table string, columns []string, rows [][]any) (int64, error) {
	if err := validIdents(table, columns); err != nil {
		return 0, err
	}
	db, s := x.target()
	if cf, ok := s.(copier); ok {
		n, err := cf.copyFrom(ctx, table, columns, rows)
		return n, mapError(err)
	}
	return insertRows(ctx, x, db.dialect, table, columns, rows)
}

type copier interface {
	copyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error)
}

// session is one place SQL runs: a pool, one connection or a transaction.
type session interface {
	query(ctx context.Context, sql string, args []any) (driverRows, error)
	exec(ctx context.Context, sql string, args []any) (int64, error)
	begin(ctx context.Context) (session, func(ctx context.Context) error, func(ctx context.Context) error, error)
}

// driverRows is what Rows needs of a driver's result set: pgx.Rows as it
// is, *sql.Rows through sqlRows.
type driverRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// PostgreSQL sessions.

type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

type pgPool struct{ p *pgxpool.Pool }

func (s pgPool) query(ctx context.Context, sql string, args []any) (driverRows, error) {
	return s.p.Query(ctx, sql, args...)
}
func (s pgPool) exec(ctx context.Context, sql string, args []any) (int64, error) {
	return pgExec(ctx, s.p, sql, args)
}
func (s pgPool) begin(ctx context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	return pgBegin(ctx, s.p)
}
func (s pgPool) copyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error) {
	return s.p.CopyFrom(ctx, pgx.Identifier(strings.Split(table, ".")), columns, pgx.CopyFromRows(rows))
}

type pgSession struct{ q pgQuerier }

func (s pgSession) query(ctx context.Context, sql string, args []any) (driverRows, error) {
	return s.q.Query(ctx, sql, args...)
}
func (s pgSession) exec(ctx context.Context, sql string, args []any) (int64, error) {
	return pgExec(ctx, s.q, sql, args)
}
func (s pgSession) begin(ctx context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	return pgBegin(ctx, s.q)
}
func (s pgSession) copyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error) {
	return s.q.CopyFrom(ctx, pgx.Identifier(strings.Split(table, ".")), columns, pgx.CopyFromRows(rows))
}

func pgExec(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, sql string, args []any) (int64, error) {
	tag, err := q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func pgBegin(ctx context.Context, q interface {
	Begin(context.Context) (pgx.Tx, error)
}) (session, func(context.Context) error, func(context.Context) error, error) {
	tx, err := q.Begin(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return pgSession{tx}, tx.Commit, tx.Rollback, nil
}

// database/sql sessions (SQLite).

type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type sqlSession struct{ db *sql.DB }

func (s sqlSession) query(ctx context.Context, q string, args []any) (driverRows, error) {
	return sqlQuery(ctx, s.db, q, args)
}
func (s sqlSession) exec(ctx context.Context, q string, args []any) (int64, error) {
	return sqlExec(ctx, s.db, q, args)
}
func (s sqlSession) begin(ctx context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	return sqlTxSession(tx, err)
}

// sqlConnSession is one held SQLite connection, with the statements
// prepared on it.
type sqlConnSession struct {
	db    *sql.DB
	c     *sql.Conn
	mu    sync.Mutex
	stmts map[*statement]*sql.Stmt
}

func (s *sqlConnSession) query(ctx context.Context, q string, args []any) (driverRows, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	r, err := sqlQuery(ctx, c, q, args)
	s.check(c, err)
	return r, err
}
func (s *sqlConnSession) exec(ctx context.Context, q string, args []any) (int64, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return 0, err
	}
	n, err := sqlExec(ctx, c, q, args)
	s.check(c, err)
	return n, err
}
func (s *sqlConnSession) begin(ctx context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	tx, err := c.BeginTx(ctx, nil)
	s.check(c, err)
	return sqlTxSession(tx, err)
}

// conn returns the held connection, taking a fresh one from the pool after
// check let the last one go.
func (s *sqlConnSession) conn(ctx context.Context) (*sql.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		return s.c, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	s.c = c
	return c, nil
}

// check lets c (nil: the held one) go, with its statements, when err says
// database/sql gave up on it (the driver reported it broken), so that the
// next statement runs on a fresh connection.
func (s *sqlConnSession) check(c *sql.Conn, err error) {
	if err == nil || !errors.Is(err, sql.ErrConnDone) && !errors.Is(err, driver.ErrBadConn) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil || s.c == c {
		s.dropLocked()
	}
}

func (s *sqlConnSession) dropLocked() {
	for _, p := range s.stmts {
		p.Close()
	}
	s.stmts = nil
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
}

// prepared returns st prepared on the connection, or nil.
func (s *sqlConnSession) prepared(ctx context.Context, st *statement) *sql.Stmt {
	if !st.cached {
		return nil
	}
	c, err := s.conn(ctx)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.stmts[st]; ok {
		return p
	}
	p, err := c.PrepareContext(ctx, st.text)
	if err != nil {
		return nil
	}
	if s.stmts == nil {
		s.stmts = make(map[*statement]*sql.Stmt)
	}
	s.stmts[st] = p
	return p
}

func (s *sqlConnSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked()
}

type sqlTx struct{ tx *sql.Tx }

func (s sqlTx) query(ctx context.Context, q string, args []any) (driverRows, error) {
	return sqlQuery(ctx, s.tx, q, args)
}
func (s sqlTx) exec(ctx context.Context, q string, args []any) (int64, error) {
	return sqlExec(ctx, s.tx, q, args)
}
func (s sqlTx) begin(context.Context) (session, func(context.Context) error, func(context.Context) error, error) {
	return nil, nil, nil, errors.New("hatago/query: begin inside a transaction")
}

func sqlTxSession(tx *sql.Tx, err error) (session, func(context.Context) error, func(context.Context) error, error) {
	if err != nil {
		return nil, nil, nil, err
	}
	return sqlTx{tx}, func(context.Context) error { return tx.Commit() }, func(context.Context) error { return tx.Rollback() }, nil
}

func sqlQuery(ctx context.Context, q sqlQuerier, query string, args []any) (driverRows, error) {
	r, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func sqlExec(ctx context.Context, q sqlQuerier, query string, args []any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return rowsAffected(res)
}

// rowsAffected reads res, which the SQLite driver leaves empty for text
// with no statement in it (blanks, comments, semicolons); database/sql then
// panics on it.
func rowsAffected(res sql.Result) (n int64, err error) {
	defer func() {
		if recover() != nil {
			n, err = 0, nil
		}
	}()
	return res.RowsAffected()
}

// sqlRows gives *sql.Rows pgx's Close, which reports through Err.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// sqlCache interns generated SQL text, so that a query shape built again
// reuses its string instead of allocating it (and the drivers' statement
// caches see the same string). On SQLite it also keeps each shape's
// prepared statement: database/sql prepares a statement for every query
// otherwise, and compiling it is a good part of a small query's cost.
// Reads take no lock: the map is replaced, never changed, on a miss.
type sqlCache struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*statement]
}

// statement is one interned SQL text.
type statement struct {
	text   string
	cached bool // in the cache, so it may keep a prepared statement
	mu     sync.Mutex
	stmt   atomic.Pointer[sql.Stmt]
}

const sqlCacheMax = 4096

func (c *sqlCache) intern(b []byte) *statement {
	if m := c.m.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	st := &statement{text: string(b)}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	n := 0
	if old != nil {
		if s, ok := (*old)[st.text]; ok {
			return s
		}
		n = len(*old)
	}
	if n >= sqlCacheMax {
		return st // a program building unbounded shapes gets no caching
	}
	m := make(map[string]*statement, n+1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	st.cached = true
	m[st.text] = st
	c.m.Store(&m)
	return st
}

// prepared returns st prepared on db, preparing it the first time, or nil
// when it is not cached or does not prepare (its error then comes from
// running it).
func (st *statement) prepared(ctx context.Context, db *sql.DB) *sql.Stmt {
	if p := st.stmt.Load(); p != nil || !st.cached {
		return p
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if p := st.stmt.Load(); p != nil {
		return p
	}
	p, err := db.PrepareContext(ctx, st.text)
	if err != nil {
		return nil
	}
	st.stmt.Store(p)
	return p
}

// close closes the prepared statements.
func (c *sqlCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.m.Load(); m != nil {
		for _, st := range *m {
			if p := st.stmt.Swap(nil); p != nil {
				p.Close()
			}
		}
	}
}

// prepared returns st prepared for s, or nil where s keeps no prepared
// statements (PostgreSQL, whose driver caches its own; transactions).
func prepared(ctx context.Context, s session, st *statement) *sql.Stmt {
	switch ss := s.(type) {
	case sqlSession:
		return st.prepared(ctx, ss.db)
	case *sqlConnSession:
		return ss.prepared(ctx, st)
	}
	return nil
}

// runQuery runs a generated statement on s.
func runQuery(ctx context.Context, s session, st *statement, args []any) (driverRows, error) {
	p := prepared(ctx, s, st)
	if p == nil {
		return s.query(ctx, st.text, args)
	}
	r, err := p.QueryContext(ctx, args...)
	if err != nil {
		checkHeld(s, err)
		return nil, err
	}
	return sqlRows{r}, nil
}

// checkHeld lets a held SQLite connection go after err, if err broke it.
func checkHeld(s session, err error) {
	if cs, ok := s.(*sqlConnSession); ok {
		cs.check(nil, err)
	}
}

// runExec runs a generated statement on s.
func runExec(ctx context.Context, s session, st *statement, args []any) (int64, error) {
	p := prepared(ctx, s, st)
	if p == nil {
		return s.exec(ctx, st.text, args)
	}
	res, err := p.ExecContext(ctx, args...)
	if err != nil {
		checkHeld(s, err)
		return 0, err
	}
	return rowsAffected(res)
}
