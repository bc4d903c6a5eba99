package seed_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/seed"
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

func count(t testing.TB, db *query.DB, table string) int64 {
	t.Helper()
	n, err := db.Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// numbers is a seeder of table numbers (n), filling 1..total unless the
// table has rows.
func numbers(name string, total int) seed.Seeder {
	return seed.Seeder{Name: name, Run: func(ctx context.Context, x query.Executor, p *seed.Progress) error {
		n, err := query.Table[query.Row](x, name).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			p.Note("already seeded")
			return nil
		}
		rows := make([][]any, total)
		for i := range rows {
			rows[i] = []any{i + 1}
		}
		p.SetTotal(int64(total))
		_, err = seed.Copy(ctx, x, p, name, []string{"n"}, rows)
		return err
	}}
}

func TestRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		if _, err := db.Exec(ctx, "CREATE TABLE a (n INTEGER PRIMARY KEY); CREATE TABLE b (n INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		p := seed.NewProgress(&out)
		if err := seed.Run(ctx, db, p, numbers("a", 2500), numbers("b", 3)); err != nil {
			t.Fatal(err)
		}
		if a, b := count(t, db, "a"), count(t, db, "b"); a != 2500 || b != 3 {
			t.Errorf("rows: got a %d, b %d, want 2500, 3", a, b)
		}
		lines := summaries(out.String())
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "seed a: 2500 rows in ") || !strings.HasPrefix(lines[1], "seed b: 3 rows in ") {
			t.Errorf("progress: got %q", out.String())
		}

		out.Reset()
		if err := seed.Run(ctx, db, p, numbers("a", 2500), numbers("b", 3)); err != nil {
			t.Fatal(err)
		}
		if a, b := count(t, db, "a"), count(t, db, "b"); a != 2500 || b != 3 {
			t.Errorf("rows after a second run: got a %d, b %d, want 2500, 3", a, b)
		}
		if want := "seed a: already seeded\nseed b: already seeded\n"; out.String() != want {
			t.Errorf("progress of a second run: got %q, want %q", out.String(), want)
		}

		// A seeder that fails halfway leaves nothing, and stops the run.
		if _, err := db.Exec(ctx, "CREATE TABLE c (n INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		failing := seed.Seeder{Name: "c", Run: func(ctx context.Context, x query.Executor, p *seed.Progress) error {
			if _, err := seed.Copy(ctx, x, p, "c", []string{"n"}, [][]any{{1}, {2}}); err != nil {
				return err
			}
			_, err := seed.Copy(ctx, x, p, "c", []string{"n"}, [][]any{{2}})
			return err
		}}
		out.Reset()
		err := seed.Run(ctx, db, p, failing, numbers("d", 1))
		if !errors.Is(err, query.ErrConflict) || !strings.HasPrefix(err.Error(), "seed c: ") {
			t.Errorf("Run with a failing seeder: got %v, want seed c: ... ErrConflict", err)
		}
		if n := count(t, db, "c"); n != 0 {
			t.Errorf("rows of the failed seeder: got %d, want 0", n)
		}
		if out.String() != "" {
			t.Errorf("progress of a failed seeder: got %q, want nothing", out.String())
		}

		panicking := seed.Seeder{Name: "p", Run: func(context.Context, query.Executor, *seed.Progress) error { panic("boom") }}
		if err := seed.Run(ctx, db, nil, panicking); err == nil || !strings.HasPrefix(err.Error(), "seed p: panic: boom") {
			t.Errorf("Run with a panicking seeder: got %v", err)
		}
	})
}

// summaries returns the lines of plain progress output but those that
// report a task halfway (which a slow machine shows).
func summaries(out string) []string {
	halfway := regexp.MustCompile(`^seed \w+: \d+/\d+ rows \(\d+%\)$`)
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !halfway.MatchString(l) {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestRunRejects(t *testing.T) {
	db := open(t, "sqlite::memory:")
	ran := false
	ok := seed.Seeder{Name: "ok", Run: func(context.Context, query.Executor, *seed.Progress) error { ran = true; return nil }}
	for _, s := range []seed.Seeder{{Name: "no run"}, {Run: ok.Run}} {
		if err := seed.Run(context.Background(), db, nil, ok, s); err == nil {
			t.Errorf("Run with %+v: no error", s)
		}
	}
	if ran {
		t.Error("Run ran a seeder before rejecting another")
	}
}

// TestConcurrentRun seeds from several DBs at once, as the workers of a
// cluster would at start: the rows are written once, and nobody fails.
func TestConcurrentRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		setup := open(t, tg.URL)
		if _, err := setup.Exec(ctx, "CREATE TABLE a (n INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		errs := make(chan error, 4)
		for range 4 {
			db := open(t, tg.URL)
			go func() {
				<-start
				errs <- seed.Run(ctx, db, nil, numbers("a", 3000))
			}()
		}
		close(start)
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
		if n := count(t, setup, "a"); n != 3000 {
			t.Errorf("rows: got %d, want 3000", n)
		}
	})
}

func TestProgressPlain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		p := seed.NewProgress(&out)
		p.Start("seed world", 10000)
		for range 10 {
			time.Sleep(300 * time.Millisecond)
			p.Add(1000)
		}
		p.Finish()
		p.Start("seed fortune", 0)
		p.Note("already seeded (12 rows)")
		p.Finish()
		p.Start("seed more", 0)
		time.Sleep(1500 * time.Millisecond)
		p.Add(1)
		p.Finish()
		want := "seed world: 4000/10000 rows (40%)\n" +
			"seed world: 8000/10000 rows (80%)\n" +
			"seed world: 10000 rows in 3s (3,333 rows/s)\n" +
			"seed fortune: already seeded (12 rows)\n" +
			"seed more: 1 row\n" +
			"seed more: 1 row in 1.5s (0.7 rows/s)\n"
		if out.String() != want {
			t.Errorf("got\n%s\nwant\n%s", out.String(), want)
		}
	})
}

func TestProgressBar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		p := seed.NewBarProgress(&out)
		p.Start("seed world", 10000)
		time.Sleep(time.Second)
		p.Add(4500)
		time.Sleep(50 * time.Millisecond)
		p.Add(500) // too soon to redraw
		time.Sleep(time.Second)
		p.Note("halfway")
		p.Add(5000)
		p.Finish()
		want := "\rseed world [=============>                ]  45%  4500/10000 rows  4,500 rows/s\x1b[K" +
			"\r\x1b[K" + "seed world: halfway\n" +
			"\rseed world [==============================] 100%  10000/10000 rows  4,878 rows/s\x1b[K" +
			"\r\x1b[K" + "seed world: 10000 rows in 2.05s (4,878 rows/s)\n"
		if out.String() != want {
			t.Errorf("got\n%q\nwant\n%q", out.String(), want)
		}
	})
}

func TestProgressNil(t *testing.T) {
	var p *seed.Progress
	p.Start("x", 1)
	p.SetTotal(2)
	p.Add(1)
	p.Note("n")
	p.Finish()
}

func TestCLI(t *testing.T) {
	url := dbtest.SQLite(t).URL
	migrations := []migrate.Migration{{Version: 1, Name: "create_a",
		Up: migrate.SQL("CREATE TABLE a (n INTEGER PRIMARY KEY); CREATE TABLE b (n INTEGER PRIMARY KEY)")}}
	cli := func() (*seed.CLI, *bytes.Buffer, *bytes.Buffer) {
		var out, errOut bytes.Buffer
		return &seed.CLI{
			Name: "app seed", Seeders: []seed.Seeder{numbers("a", 10), numbers("b", 5)}, Migrations: migrations,
			Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" },
		}, &out, &errOut
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"-h"}, 0, "Usage: app seed [flags] [SEEDER...]", ""},
		{"no database", nil, 2, "", "app seed: no database: pass --db URL or set HATAGO_DATABASE_URL\n"},
		{"unknown seeder", []string{"c", "--db", url}, 2, "", `app seed: unknown seeder "c"`},
		{"unknown flag", []string{"--fast"}, 2, "", "flag provided but not defined: -fast"},
		{"one", []string{"b", "--db", url}, 0, "applied 1_create_a", ""},
		{"all", []string{"--db", url}, 0, "seed a: 10 rows in ", ""},
		{"again", []string{"--db", url}, 0, "seed a: already seeded\nseed b: already seeded\n", ""},
		{"unreachable", []string{"--db", "postgres://u:pw-secret@127.0.0.1:1/x?connect_timeout=5"}, 1, "", "app seed: cannot open the database: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out, errOut := cli()
			code := c.Run(context.Background(), tt.args)
			if code != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(out.String(), tt.wantStdout) {
				t.Errorf("stdout: got %q, want it to contain %q", out, tt.wantStdout)
			}
			if !strings.Contains(errOut.String(), tt.wantStderr) || strings.Contains(errOut.String(), "pw-secret") {
				t.Errorf("stderr: got %q, want it to contain %q (and no password)", errOut, tt.wantStderr)
			}
		})
	}
}
