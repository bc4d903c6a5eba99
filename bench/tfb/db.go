package tfb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open returns a pool for the PostgreSQL database at url with at most
// maxConns connections (0 keeps the URL's pool_max_conns, else pgxpool's
// default), all of them opened at start, and pgx's statement cache on (each
// query is prepared once per connection), as the fastest TechEmpower Go
// entries run it. It returns the error of the first round trip if the
// database does not answer.
func Open(ctx context.Context, url string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	cfg.MinConns = cfg.MaxConns
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// DB runs the tests' queries on a pool. It is safe for concurrent use; its
// methods return the pool's errors as they are.
type DB struct {
	Pool *pgxpool.Pool
}

// World reads the row of a random id into w, with one query.
func (db DB) World(ctx context.Context, w *World) error {
	return db.Pool.QueryRow(ctx, SelectWorld, RandomID()).Scan(&w.ID, &w.RandomNumber)
}

// Worlds fills each element of worlds with a random row, each by its own
// query, one after the other (the rules forbid WHERE id IN).
func (db DB) Worlds(ctx context.Context, worlds []World) error {
	for i := range worlds {
		if err := db.World(ctx, &worlds[i]); err != nil {
			return err
		}
	}
	return nil
}

// Update fills worlds with random rows as Worlds does, gives each a new
// random number, and writes them back in one batch, sorted by id so that
// concurrent batches lock rows in the same order and cannot deadlock.
// worlds is left sorted by id.
func (db DB) Update(ctx context.Context, worlds []World) error {
	if err := db.Worlds(ctx, worlds); err != nil {
		return err
	}
	for i := range worlds {
		worlds[i].RandomNumber = RandomID()
	}
	slices.SortFunc(worlds, func(a, b World) int { return int(a.ID - b.ID) })
	var b pgx.Batch
	for _, w := range worlds {
		b.Queue(UpdateWorld, w.RandomNumber, w.ID)
	}
	return db.Pool.SendBatch(ctx, &b).Close()
}

// Fortunes appends every row of the fortune table to dst, adds the fortune
// of request time, sorts them by message and returns them.
func (db DB) Fortunes(ctx context.Context, dst []Fortune) ([]Fortune, error) {
	rows, _ := db.Pool.Query(ctx, SelectFortunes)
	var f Fortune
	_, err := pgx.ForEachRow(rows, []any{&f.ID, &f.Message}, func() error {
		dst = append(dst, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return AddAndSort(dst), nil
}

// LoadWorlds reads the whole world table for the cached-queries test; row id
// is at index id-1.
func (db DB) LoadWorlds(ctx context.Context) ([]World, error) {
	worlds := make([]World, WorldRows)
	rows, _ := db.Pool.Query(ctx, SelectWorlds)
	var w World
	_, err := pgx.ForEachRow(rows, []any{&w.ID, &w.RandomNumber}, func() error {
		if w.ID < 1 || w.ID > WorldRows {
			return fmt.Errorf("world id %d outside 1..%d", w.ID, WorldRows)
		}
		worlds[w.ID-1] = w
		return nil
	})
	return worlds, err
}

// WithDatabase returns the postgres:// URL rawURL with its database name
// replaced by name.
func WithDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("tfb: %q is not a postgres:// URL", rawURL)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// CreateDatabase creates the database that url names, connecting through
// adminURL (a database the same role can reach), unless it exists. A new
// database gets synchronous_commit=off, as TechEmpower's PostgreSQL runs.
func CreateDatabase(ctx context.Context, url, adminURL string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	name := cfg.Database
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" SET synchronous_commit = off"); err != nil {
		return fmt.Errorf("configure database %s: %w", name, err)
	}
	return nil
}

// Setup makes the world and fortune tables of the database at url ready:
// it creates them if they are missing, fills world with WorldRows rows of
// random numbers unless it holds exactly ids 1..WorldRows with numbers in
// range, and writes the twelve Fortunes unless they are there already. It
// holds an advisory lock while it works, so concurrent callers wait for
// each other.
func Setup(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		stmts := []string{
			"SELECT pg_advisory_xact_lock(7163)",
			"CREATE TABLE IF NOT EXISTS world (id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)",
			"CREATE TABLE IF NOT EXISTS fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL)",
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		var count, minID, maxID, minN, maxN int
		err := tx.QueryRow(ctx, `SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0),
			coalesce(min(randomnumber), 0), coalesce(max(randomnumber), 0) FROM world`).Scan(&count, &minID, &maxID, &minN, &maxN)
		if err != nil {
			return err
		}
		if count != WorldRows || minID != 1 || maxID != WorldRows || minN < 1 || maxN > WorldRows {
			if _, err := tx.Exec(ctx, "TRUNCATE world"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO world (id, randomnumber)
				SELECT i, least(floor(random() * 10000 + 1), 10000) FROM generate_series(1, 10000) AS s(i)`)
			if err != nil {
				return fmt.Errorf("seed world: %w", err)
			}
		}
		rows, _ := tx.Query(ctx, "SELECT id, message FROM fortune ORDER BY id")
		have, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Fortune])
		if err != nil {
			return err
		}
		if slices.Equal(have, Fortunes) {
			return nil
		}
		if _, err := tx.Exec(ctx, "TRUNCATE fortune"); err != nil {
			return err
		}
		for _, f := range Fortunes {
			if _, err := tx.Exec(ctx, "INSERT INTO fortune (id, message) VALUES ($1, $2)", f.ID, f.Message); err != nil {
				return fmt.Errorf("seed fortune: %w", err)
			}
		}
		return nil
	})
}
