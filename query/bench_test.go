package query_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

// benchWorld is the TechEmpower World row.
type benchWorld struct {
	ID           int32 `db:"id"`
	RandomNumber int32 `db:"randomnumber"`
}

// openWorld opens tg's database with a 10,000-row world table.
func openWorld(b *testing.B, tg dbtest.Target) *query.DB {
	ctx := context.Background()
	db, err := query.Open(ctx, tg.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(ctx, `CREATE TABLE world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	rows := make([]benchWorld, 10000)
	for i := range rows {
		rows[i] = benchWorld{ID: int32(i + 1), RandomNumber: rand.Int32N(10000) + 1}
	}
	if _, err := query.Table[benchWorld](db, "world").Insert(ctx, rows...); err != nil {
		b.Fatal(err)
	}
	if db.Dialect().Name() == "postgres" {
		if _, err := db.Exec(ctx, "ANALYZE world"); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

const (
	rawFind  = "SELECT id, randomnumber FROM world WHERE id = %s"
	rawRange = "SELECT id, randomnumber FROM world WHERE id > %s ORDER BY id LIMIT 20"
)

func placeholder(db *query.DB) string {
	if db.Dialect().Name() == "postgres" {
		return "$1"
	}
	return "?"
}

func sprintf(format, p string) string {
	out := make([]byte, 0, len(format))
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) && format[i+1] == 's' {
			out = append(out, p...)
			i++
			continue
		}
		out = append(out, format[i])
	}
	return string(out)
}

// BenchmarkFind compares find-by-id through the builder with the driver
// doing the same: raw pgx on PostgreSQL, raw database/sql on SQLite.
func BenchmarkFind(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		db := openWorld(b, tg)
		ctx := context.Background()
		q := sprintf(rawFind, placeholder(db))
		b.Run(tg.Name+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var w benchWorld
				var err error
				id := rand.IntN(10000) + 1
				if pool := db.Pgx(); pool != nil {
					err = pool.QueryRow(ctx, q, id).Scan(&w.ID, &w.RandomNumber)
				} else {
					err = db.SQL().QueryRowContext(ctx, q, id).Scan(&w.ID, &w.RandomNumber)
				}
				if err != nil || int(w.ID) != id {
					b.Fatal(w, err)
				}
			}
		})
		worlds := query.Table[benchWorld](db, "world")
		b.Run(tg.Name+"/builder", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				id := rand.IntN(10000) + 1
				w, err := worlds.Find(ctx, id)
				if err != nil || int(w.ID) != id {
					b.Fatal(w, err)
				}
			}
		})
	}
}

// BenchmarkSelect20 compares reading 20 rows into a slice of structs.
func BenchmarkSelect20(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		db := openWorld(b, tg)
		ctx := context.Background()
		q := sprintf(rawRange, placeholder(db))
		b.Run(tg.Name+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				from := rand.IntN(9000)
				var ws []benchWorld
				if pool := db.Pgx(); pool != nil {
					rows, err := pool.Query(ctx, q, from)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
						var w benchWorld
						if err := rows.Scan(&w.ID, &w.RandomNumber); err != nil {
							b.Fatal(err)
						}
						ws = append(ws, w)
					}
					rows.Close()
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
				} else {
					rows, err := db.SQL().QueryContext(ctx, q, from)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
						var w benchWorld
						if err := rows.Scan(&w.ID, &w.RandomNumber); err != nil {
							b.Fatal(err)
						}
						ws = append(ws, w)
					}
					rows.Close()
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
				}
				if len(ws) != 20 {
					b.Fatal(len(ws))
				}
			}
		})
		worlds := query.Table[benchWorld](db, "world")
		b.Run(tg.Name+"/builder", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				from := rand.IntN(9000)
				ws, err := worlds.Where("id", ">", from).OrderBy("id").Limit(20).Get(ctx)
				if err != nil || len(ws) != 20 {
					b.Fatal(len(ws), err)
				}
			}
		})
	}
}
