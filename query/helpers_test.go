package query_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// openDB opens tg's database for the rest of t.
func openDB(t testing.TB, tg dbtest.Target, opts ...query.Options) *query.DB {
	t.Helper()
	db, err := query.Open(t.Context(), tg.URL, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", tg.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustExec runs statements, with {increments}, {float}, {timestamp} and
// {bytes} replaced by the dialect's column types.
func mustExec(t testing.TB, db *query.DB, stmts ...string) {
	t.Helper()
	d := db.Dialect()
	r := strings.NewReplacer(
		"{increments}", d.ColumnType(dialect.Column{Type: dialect.Increments}),
		"{float}", d.ColumnType(dialect.Column{Type: dialect.Float}),
		"{timestamp}", d.ColumnType(dialect.Column{Type: dialect.Timestamp}),
		"{bytes}", d.ColumnType(dialect.Column{Type: dialect.Bytes}),
	)
	for _, s := range stmts {
		if _, err := db.Exec(context.Background(), r.Replace(s)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// ph returns the dialect's placeholder for the n-th bound value.
func ph(db *query.DB, n int) string { return string(db.Dialect().AppendPlaceholder(nil, n)) }

// Library fixtures: authors and their books.

type author struct {
	ID      int64
	Name    string
	Country *string
}

type book struct {
	ID       int64
	AuthorID *int64
	Title    string
	Year     int
	Price    *float64
	Genre    *string
}

func ptr[T any](v T) *T { return &v }

// library creates and fills the authors and books tables:
//
//	authors: 1 Soseki JP, 2 Murakami JP, 3 Austen GB, 4 Nobody (no country, no books)
//	books:   1 Kokoro (1, 1914), 2 Botchan (1, 1906), 3 Norwegian Wood (2, 1987),
//	         4 Kafka on the Shore (2, 2002), 5 What I Talk About (2, 2007, essay),
//	         6 Emma (3, 1815), 7 Orphan (no author, 2000, no price, no genre)
func library(t testing.TB, db *query.DB) {
	t.Helper()
	ctx := context.Background()
	mustExec(t, db,
		`CREATE TABLE authors (id {increments}, name VARCHAR(255) NOT NULL UNIQUE, country TEXT)`,
		`CREATE TABLE books (id {increments}, author_id INTEGER REFERENCES authors (id),
			title TEXT NOT NULL, year INTEGER NOT NULL, price {float}, genre TEXT)`)
	jp, gb := ptr("JP"), ptr("GB")
	if _, err := query.Table[author](db, "authors").Insert(ctx,
		author{Name: "Soseki", Country: jp}, author{Name: "Murakami", Country: jp},
		author{Name: "Austen", Country: gb}, author{Name: "Nobody"}); err != nil {
		t.Fatal(err)
	}
	novel, essay := ptr("novel"), ptr("essay")
	a := func(id int64) *int64 { return &id }
	if _, err := query.Table[book](db, "books").Insert(ctx,
		book{AuthorID: a(1), Title: "Kokoro", Year: 1914, Price: ptr(10.0), Genre: novel},
		book{AuthorID: a(1), Title: "Botchan", Year: 1906, Price: ptr(8.0), Genre: novel},
		book{AuthorID: a(2), Title: "Norwegian Wood", Year: 1987, Price: ptr(15.0), Genre: novel},
		book{AuthorID: a(2), Title: "Kafka on the Shore", Year: 2002, Price: ptr(18.0), Genre: novel},
		book{AuthorID: a(2), Title: "What I Talk About", Year: 2007, Price: ptr(12.0), Genre: essay},
		book{AuthorID: a(3), Title: "Emma", Year: 1815, Price: ptr(9.0), Genre: novel},
		book{Title: "Orphan", Year: 2000},
	); err != nil {
		t.Fatal(err)
	}
}

func bookIDs(bs []book) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}
