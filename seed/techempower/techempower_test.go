package techempower_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/seed"
	"github.com/hatago/hatago/seed/techempower"
)

func open(t testing.TB, url string) *query.DB {
	t.Helper()
	db, err := query.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkWorld checks that world holds ids 1..10000, each once, with random
// numbers in 1..10000, and returns the rows.
func checkWorld(t testing.TB, db *query.DB) []techempower.World {
	t.Helper()
	rows, err := query.Table[techempower.World](db, techempower.WorldTable).OrderBy("id").Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != techempower.WorldRows {
		t.Fatalf("world rows: got %d, want %d", len(rows), techempower.WorldRows)
	}
	distinct := map[int]bool{}
	for i, w := range rows {
		if w.ID != i+1 {
			t.Fatalf("world row %d: id %d, want %d", i, w.ID, i+1)
		}
		if w.RandomNumber < 1 || w.RandomNumber > 10000 {
			t.Fatalf("world %d: randomNumber %d, want 1..10000", w.ID, w.RandomNumber)
		}
		distinct[w.RandomNumber] = true
	}
	// 10,000 draws from 10,000 values give about 6,321 distinct ones; a
	// constant or a narrow range gives far fewer.
	if len(distinct) < 6000 {
		t.Errorf("world: %d distinct random numbers, want about 6,300", len(distinct))
	}
	return rows
}

func checkFortune(t testing.TB, db *query.DB) {
	t.Helper()
	rows, err := query.Table[techempower.Fortune](db, techempower.FortuneTable).OrderBy("id").Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []techempower.Fortune{
		{ID: 1, Message: "fortune: No such file or directory"},
		{ID: 2, Message: "A computer scientist is someone who fixes things that aren't broken."},
		{ID: 3, Message: "After enough decimal places, nobody gives a damn."},
		{ID: 4, Message: "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"},
		{ID: 5, Message: "A computer program does what you tell it to do, not what you want it to do."},
		{ID: 6, Message: "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"},
		{ID: 7, Message: "Any program that runs right is obsolete."},
		{ID: 8, Message: "A list is only as strong as its weakest link. — Donald Knuth"},
		{ID: 9, Message: "Feature: A bug with seniority."},
		{ID: 10, Message: "Computers make very fast, very accurate mistakes."},
		{ID: 11, Message: "<script>alert(\"This should not be displayed in a browser alert box.\");</script>"},
		{ID: 12, Message: "フレームワークのベンチマーク"},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("fortune rows:\ngot  %+v\nwant %+v", rows, want)
	}
	if !slices.Equal(techempower.Fortunes(), want) {
		t.Errorf("Fortunes(): got %+v", techempower.Fortunes())
	}
}

func TestPrepare(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		var out bytes.Buffer
		start := time.Now()
		if err := techempower.Prepare(ctx, db, seed.NewProgress(&out)); err != nil {
			t.Fatal(err)
		}
		t.Logf("Prepare on an empty database: %s\n%s", time.Since(start), out.String())
		if !regexp.MustCompile(`^(seed world: \d+/10000 rows \(\d+%\)\n)*seed world: 10000 rows in .*\nseed fortune: 12 rows in .*\n$`).MatchString(out.String()) {
			t.Errorf("progress: got %q", out.String())
		}
		before := checkWorld(t, db)
		checkFortune(t, db)

		// Again: nothing written, nothing said.
		out.Reset()
		if err := techempower.Prepare(ctx, db, seed.NewProgress(&out)); err != nil {
			t.Fatal(err)
		}
		if out.String() != "" {
			t.Errorf("progress of a second Prepare: got %q, want nothing", out.String())
		}
		if after := checkWorld(t, db); !slices.Equal(after, before) {
			t.Error("a second Prepare changed world")
		}
		checkFortune(t, db)

		// The seeders on their own, run again, say why they do nothing.
		out.Reset()
		if err := seed.Run(ctx, db, seed.NewProgress(&out), techempower.Seeders()...); err != nil {
			t.Fatal(err)
		}
		if want := "seed world: already seeded (10000 rows)\nseed fortune: already seeded (12 rows)\n"; out.String() != want {
			t.Errorf("progress: got %q, want %q", out.String(), want)
		}
	})
}

// TestRepair seeds a database whose tables lost rows and had a fortune
// changed: the missing rows come back, the others keep their numbers.
func TestRepair(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		if err := techempower.Prepare(ctx, db, nil); err != nil {
			t.Fatal(err)
		}
		before := checkWorld(t, db)
		worlds := query.Table[techempower.World](db, techempower.WorldTable)
		if n, err := worlds.WhereBetween("id", 4990, 6010).Delete(ctx); err != nil || n != 1021 {
			t.Fatalf("delete: %d, %v", n, err)
		}
		if _, err := db.Table(techempower.FortuneTable).Where("id", "=", 11).Update(ctx, query.Set{"message": "changed"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Table(techempower.FortuneTable).Where("id", "=", 3).Delete(ctx); err != nil {
			t.Fatal(err)
		}
		if err := techempower.Prepare(ctx, db, nil); err != nil {
			t.Fatal(err)
		}
		after := checkWorld(t, db)
		for i := range after {
			if (after[i].ID < 4990 || after[i].ID > 6010) && after[i] != before[i] {
				t.Fatalf("world %d: got %+v, want it kept as %+v", after[i].ID, after[i], before[i])
			}
		}
		checkFortune(t, db)
	})
}

// TestTechEmpowerTables prepares tables made as TechEmpower's setup makes
// them (unquoted mixed-case names), and finds them.
func TestTechEmpowerTables(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		_, err := db.Exec(ctx, `
			CREATE TABLE World (id integer NOT NULL, randomNumber integer NOT NULL default 0, PRIMARY KEY (id));
			CREATE TABLE Fortune (id integer NOT NULL, message varchar(2048) NOT NULL, PRIMARY KEY (id));`)
		if err != nil {
			t.Fatal(err)
		}
		if err := techempower.Prepare(ctx, db, nil); err != nil {
			t.Fatal(err)
		}
		checkWorld(t, db)
		checkFortune(t, db)
		rows, err := query.All[int64](ctx, db, "SELECT count(*) FROM World WHERE randomNumber BETWEEN 1 AND 10000")
		if err != nil || rows[0] != techempower.WorldRows {
			t.Errorf("through TechEmpower's names: got %v, %v", rows, err)
		}
	})
}

// TestConcurrentPrepare prepares one database from several processes'
// worth of DBs at once, as the workers of a cluster do when they start.
func TestConcurrentPrepare(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		const workers = 4
		errs := make(chan error, workers)
		start := make(chan struct{})
		for range workers {
			db := open(t, tg.URL)
			go func() {
				<-start
				errs <- techempower.Prepare(ctx, db, nil)
			}()
		}
		close(start)
		for range workers {
			if err := <-errs; err != nil {
				t.Errorf("Prepare: %v", err)
			}
		}
		db := open(t, tg.URL)
		checkWorld(t, db)
		checkFortune(t, db)
	})
}

func TestMigrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		m, err := migrate.New(db, techempower.Migrations())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if reverted, err := m.DownTo(ctx, 0); err != nil || len(reverted) != 2 {
			t.Fatalf("DownTo(0): got %v, %v", reverted, err)
		}
		if _, err := db.Table(techempower.WorldTable).Count(ctx); err == nil {
			t.Error("world still there after DownTo(0)")
		}
	})
}

// BenchmarkSeedWorld seeds the 10,000 rows of world into an empty table.
func BenchmarkSeedWorld(b *testing.B) {
	for _, tg := range dbtest.Targets(b) {
		b.Run(tg.Name, func(b *testing.B) {
			ctx := context.Background()
			db := open(b, tg.URL)
			world := techempower.Seeders()[0]
			m, err := migrate.New(db, techempower.Migrations())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.Up(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if _, err := db.Exec(ctx, "DELETE FROM world"); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := seed.Run(ctx, db, nil, world); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(techempower.WorldRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func Example() {
	ctx := context.Background()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if err := techempower.Prepare(ctx, db, nil); err != nil {
		fmt.Println(err)
		return
	}
	w, err := query.Table[techempower.World](db, techempower.WorldTable).Find(ctx, 42)
	fmt.Println(w.ID, w.RandomNumber >= 1 && w.RandomNumber <= 10000, err)
	f, err := query.Table[techempower.Fortune](db, techempower.FortuneTable).Find(ctx, 12)
	fmt.Println(f.Message, err)
	// Output:
	// 42 true <nil>
	// フレームワークのベンチマーク <nil>
}
