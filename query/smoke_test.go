package query_test

import (
	"context"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

type World struct {
	ID           int `db:"id"`
	RandomNumber int `db:"randomnumber"`
}

func TestSmoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db, err := query.Open(ctx, tg.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ddl := `CREATE TABLE world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL DEFAULT 0)`
		if _, err := db.Exec(ctx, ddl); err != nil {
			t.Fatal(err)
		}
		worlds := query.Table[World](db, "world")
		var ws []World
		for i := 1; i <= 100; i++ {
			ws = append(ws, World{ID: i, RandomNumber: i * 7})
		}
		if n, err := worlds.Insert(ctx, ws...); err != nil || n != 100 {
			t.Fatal(n, err)
		}
		w, err := worlds.Find(ctx, 42)
		if err != nil || w.RandomNumber != 294 {
			t.Fatal(w, err)
		}
		got, err := worlds.Where("id", ">", 10).OrderByDesc("id").Limit(5).Get(ctx)
		if err != nil || len(got) != 5 || got[0].ID != 100 {
			t.Fatal(got, err)
		}
		rows, err := db.Table("world").Select("id", "randomnumber AS r").WhereIn("id", []int{1, 2, 3}).OrderBy("id").Get(ctx)
		if err != nil || len(rows) != 3 {
			t.Fatal(rows, err)
		}
		t.Log(rows[0])
		n, err := worlds.Count(ctx)
		t.Log(n, err)
		var mx int
		err = worlds.Max(ctx, "id", &mx)
		t.Log(mx, err)
		_, err = worlds.Find(ctx, 1000)
		t.Log(err)
		_, err = worlds.Insert(ctx, World{ID: 1})
		t.Log(err)
		s, _ := worlds.Sum(ctx, "randomnumber")
		a, _ := worlds.Avg(ctx, "randomnumber")
		t.Log(s, a)
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			_, err := query.Table[World](tx, "world").Where("id", "=", 1).Update(ctx, query.Set{"randomnumber": 5})
			return err
		})
		t.Log(err)
		pg, err := worlds.Paginate(ctx, 3, 10)
		t.Log(pg.Total, pg.LastPage, len(pg.Items), pg.Items[0], err)
	})
}
