package seed_test

import (
	"context"
	"fmt"

	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/seed"
)

// A seeder that fills a table of colours unless it is full, run twice.
func Example() {
	ctx := context.Background()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE colours (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		fmt.Println(err)
		return
	}

	colours := seed.Seeder{
		Name: "colours",
		Run: func(ctx context.Context, x query.Executor, p *seed.Progress) error {
			n, err := query.Table[query.Row](x, "colours").Count(ctx)
			if err != nil || n > 0 {
				return err // already seeded: nothing to do
			}
			rows := [][]any{{1, "red"}, {2, "green"}, {3, "blue"}}
			p.SetTotal(int64(len(rows)))
			_, err = seed.Copy(ctx, x, p, "colours", []string{"id", "name"}, rows)
			return err
		},
	}
	for range 2 {
		if err := seed.Run(ctx, db, nil, colours); err != nil {
			fmt.Println(err)
			return
		}
	}
	n, err := db.Table("colours").Count(ctx)
	fmt.Println(n, err)
	// Output:
	// 3 <nil>
}
