// Package techempower creates and fills the tables of the TechEmpower
// Framework Benchmarks: world, 10,000 rows of random numbers, and fortune,
// the 12 fortunes the benchmark's fortunes test renders.
//
// The tables are those of TechEmpower's own setup scripts, which create
// them with unquoted names; PostgreSQL folds those to lower case, so the
// names here are lower case in every dialect (world: id, randomnumber;
// fortune: id, message) and a database prepared by TechEmpower's scripts
// is used as it is:
//
//	world(id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)
//	fortune(id integer PRIMARY KEY, message varchar(2048) NOT NULL)
//
// [Prepare] does all of it, creating what is missing and seeding what is
// empty; it is safe to call at every start, from every worker at once.
// `hatago seed techempower --db URL` does the same from a shell.
package techempower

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/seed"
)

// World is a row of the world table.
type World struct {
	ID           int `db:"id" json:"id"`
	RandomNumber int `db:"randomnumber" json:"randomNumber"`
}

// Fortune is a row of the fortune table.
type Fortune struct {
	ID      int    `db:"id" json:"id"`
	Message string `db:"message" json:"message"`
}

// WorldRows is how many rows the world table has: ids 1 to 10,000, each
// with a random number from 1 to 10,000.
const WorldRows = 10000

// The tables' names.
const (
	WorldTable   = "world"
	FortuneTable = "fortune"
)

var fortunes = []Fortune{
	{1, "fortune: No such file or directory"},
	{2, "A computer scientist is someone who fixes things that aren't broken."},
	{3, "After enough decimal places, nobody gives a damn."},
	{4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"},
	{5, "A computer program does what you tell it to do, not what you want it to do."},
	{6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"},
	{7, "Any program that runs right is obsolete."},
	{8, "A list is only as strong as its weakest link. — Donald Knuth"},
	{9, "Feature: A bug with seniority."},
	{10, "Computers make very fast, very accurate mistakes."},
	{11, `<script>alert("This should not be displayed in a browser alert box.");</script>`},
	{12, "フレームワークのベンチマーク"},
}

// Fortunes returns the 12 rows of the fortune table, by id.
func Fortunes() []Fortune { return slices.Clone(fortunes) }

// Migrations returns the migrations that create the two tables if they do
// not exist (so they also adopt tables that TechEmpower's scripts made).
// Down drops them.
func Migrations() []migrate.Migration {
	return []migrate.Migration{
		{
			Version: 20250101000001,
			Name:    "create_world",
			Up:      migrate.SQL(`CREATE TABLE IF NOT EXISTS world (id integer NOT NULL PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)`),
			Down:    migrate.SQL(`DROP TABLE world`),
		},
		{
			Version: 20250101000002,
			Name:    "create_fortune",
			Up:      migrate.SQL(`CREATE TABLE IF NOT EXISTS fortune (id integer NOT NULL PRIMARY KEY, message varchar(2048) NOT NULL)`),
			Down:    migrate.SQL(`DROP TABLE fortune`),
		},
	}
}

// Seeders returns the seeders of the two tables, world then fortune.
//
// The world seeder writes the rows with ids 1 to WorldRows that are
// missing, each with a random number from 1 to 10,000, and keeps those
// there (the updates test changes their numbers): all of them at once
// through COPY (multi-row INSERTs on SQLite) into an empty table, or with
// INSERT ... ON CONFLICT DO NOTHING into a partly filled one.
//
// The fortune seeder writes the 12 fortunes unless all are there as they
// should be, replacing changed messages.
func Seeders() []seed.Seeder {
	return []seed.Seeder{
		{Name: WorldTable, Run: seedWorld},
		{Name: FortuneTable, Run: seedFortune},
	}
}

func seedWorld(ctx context.Context, x query.Executor, p *seed.Progress) error {
	worlds := query.Table[World](x, WorldTable)
	have, err := worlds.WhereBetween("id", 1, WorldRows).Count(ctx)
	if err != nil {
		return err
	}
	if have == WorldRows {
		p.Note(fmt.Sprintf("already seeded (%d rows)", WorldRows))
		return nil
	}
	p.SetTotal(WorldRows)
	if have == 0 {
		rows := make([][]any, WorldRows)
		for i := range rows {
			rows[i] = []any{i + 1, randomNumber()}
		}
		_, err := seed.Copy(ctx, x, p, WorldTable, []string{"id", "randomnumber"}, rows)
		return err
	}
	for start := 1; start <= WorldRows; start += seed.ChunkSize {
		chunk := make([]World, 0, seed.ChunkSize)
		for id := start; id < start+seed.ChunkSize && id <= WorldRows; id++ {
			chunk = append(chunk, World{ID: id, RandomNumber: randomNumber()})
		}
		if _, err := worlds.Upsert(ctx, []string{"id"}, nil, chunk...); err != nil {
			return err
		}
		p.Add(int64(len(chunk)))
	}
	return nil
}

// randomNumber is uniform in 1..10000, as the benchmark requires.
func randomNumber() int { return rand.IntN(10000) + 1 }

func seedFortune(ctx context.Context, x query.Executor, p *seed.Progress) error {
	ok, err := fortunesSeeded(ctx, x)
	if err != nil {
		return err
	}
	if ok {
		p.Note(fmt.Sprintf("already seeded (%d rows)", len(fortunes)))
		return nil
	}
	p.SetTotal(int64(len(fortunes)))
	if _, err := query.Table[Fortune](x, FortuneTable).Upsert(ctx, []string{"id"}, []string{"message"}, fortunes...); err != nil {
		return err
	}
	p.Add(int64(len(fortunes)))
	return nil
}

// fortunesSeeded reports whether the fortune table holds the 12 fortunes
// as they should be.
func fortunesSeeded(ctx context.Context, x query.Executor) (bool, error) {
	have, err := query.Table[Fortune](x, FortuneTable).WhereBetween("id", 1, len(fortunes)).OrderBy("id").Get(ctx)
	if err != nil {
		return false, err
	}
	return slices.Equal(have, fortunes), nil
}

// Prepare makes db ready for the benchmark: it creates the tables if they
// are missing (applying Migrations) and seeds them if they are not full
// (running Seeders), reporting on p, which may be nil. A database that is
// ready already is only read, without a lock or a history table. Several
// processes may call it at once; each table is seeded once.
func Prepare(ctx context.Context, db *query.DB, p *seed.Progress) error {
	if ready(ctx, db) {
		return nil
	}
	m, err := migrate.New(db, Migrations())
	if err != nil {
		return err
	}
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("techempower: %w", err)
	}
	if err := seed.Run(ctx, db, p, Seeders()...); err != nil {
		return fmt.Errorf("techempower: %w", err)
	}
	return nil
}

// ready reports whether both tables are there and full. Any error (a
// missing table, say) means not ready.
func ready(ctx context.Context, db *query.DB) bool {
	n, err := query.Table[World](db, WorldTable).WhereBetween("id", 1, WorldRows).Count(ctx)
	if err != nil || n != WorldRows {
		return false
	}
	ok, err := fortunesSeeded(ctx, db)
	return err == nil && ok
}
