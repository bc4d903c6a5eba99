package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

// TestHeldConnSurvivesCancel: a query cancelled mid-way makes pgx close
// its connection; a held Conn (a slot's own, say) must go on working.
func TestHeldConnSurvivesCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := t.Context()
		db, err := query.Open(ctx, tg.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		c, err := db.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		slow := "SELECT pg_sleep(5)"
		if tg.Name == "sqlite" {
			slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
		}
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := query.One[int64](cctx, c, slow); err == nil {
			t.Fatal("the slow query was not cancelled")
		}
		for i := range 3 {
			if n, err := query.One[int64](ctx, c, "SELECT 1"); err != nil || n != 1 {
				t.Fatalf("query %d after the cancel: %d, %v", i, n, err)
			}
		}
		if _, err := c.Table("sqlite_master").Count(ctx); tg.Name == "sqlite" && err != nil {
			t.Fatalf("a built query after the cancel: %v", err)
		}
	})
}
