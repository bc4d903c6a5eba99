package query_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/hatago/hatago/query"
)

// Example opens an in-memory SQLite database, fills a table and reads it
// back: by condition, by key, and in a transaction that either happens
// whole or not at all.
func Example() {
	ctx := context.Background()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(ctx, `CREATE TABLE books (
		id    INTEGER PRIMARY KEY,
		title TEXT NOT NULL,
		year  INTEGER NOT NULL,
		stock INTEGER NOT NULL CHECK (stock >= 0))`)
	if err != nil {
		log.Fatal(err)
	}

	// Columns are the fields in snake_case, or as a db tag says. ID is
	// the key: left to the database while it is zero.
	type Book struct {
		ID    int64
		Title string
		Year  int
		Stock int
	}
	books := query.Table[Book](db, "books")
	if _, err := books.Insert(ctx,
		Book{Title: "Kokoro", Year: 1914, Stock: 3},
		Book{Title: "Botchan", Year: 1906, Stock: 1},
		Book{Title: "Sanshiro", Year: 1908, Stock: 0},
	); err != nil {
		log.Fatal(err)
	}

	old, err := books.Where("year", "<", 1910).OrderBy("year").Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range old {
		fmt.Println(b.Year, b.Title)
	}

	b, err := books.Find(ctx, 1)
	fmt.Println("book 1:", b.Title, err)
	_, err = books.Find(ctx, 99)
	fmt.Println("book 99 found:", !errors.Is(err, query.ErrNotFound))

	// Selling a copy reads and writes in one transaction: an error rolls
	// it all back.
	sell := func(id int64) error {
		return db.Transaction(ctx, func(tx *query.Tx) error {
			books := query.Table[Book](tx, "books")
			b, err := books.Find(ctx, id)
			if err != nil {
				return err
			}
			if b.Stock == 0 {
				return fmt.Errorf("%s is sold out", b.Title)
			}
			_, err = books.Where("id", "=", id).Update(ctx, query.Set{"stock": b.Stock - 1})
			return err
		})
	}
	fmt.Println("sell Botchan:", sell(2))
	fmt.Println("sell Botchan:", sell(2))
	left, err := books.Sum(ctx, "stock")
	fmt.Println("copies left:", left, err)
	// Output:
	// 1906 Botchan
	// 1908 Sanshiro
	// book 1: Kokoro <nil>
	// book 99 found: false
	// sell Botchan: <nil>
	// sell Botchan: Botchan is sold out
	// copies left: 3 <nil>
}

// ExampleQuery_ToSQL shows the SQL a query runs: names quoted, values
// bound.
func ExampleQuery_ToSQL() {
	ctx := context.Background()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	sql, args, err := db.Table("books").
		Select("id", "title").
		Where("title", "=", "Robert'); DROP TABLE books; --").
		WhereIn("year", []int{1906, 1908}).
		OrderByDesc("year").
		Limit(10).
		ToSQL()
	fmt.Println(sql)
	fmt.Println(args, err)
	// Output:
	// SELECT "id", "title" FROM "books" WHERE "title" = ? AND "year" IN (?, ?) ORDER BY "year" DESC LIMIT 10
	// [Robert'); DROP TABLE books; -- 1906 1908] <nil>
}
