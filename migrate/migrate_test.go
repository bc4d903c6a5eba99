package migrate_test

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
)

//go:embed testdata/migrations
var testdata embed.FS

// open opens tg's database, closed when the test ends.
func open(t testing.TB, url string) *query.DB {
	t.Helper()
	db, err := query.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newMigrator(t testing.TB, db *query.DB, migrations []migrate.Migration, opts ...migrate.Option) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(db, migrations, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tableExists reports whether table exists, by selecting from it.
func tableExists(t testing.TB, db *query.DB, table string) bool {
	t.Helper()
	var exists bool
	var err error
	if db.Dialect().Name() == "postgres" {
		exists, err = query.One[bool](context.Background(), db, "SELECT to_regclass($1) IS NOT NULL", table)
	} else {
		exists, err = query.One[bool](context.Background(), db, "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", table)
	}
	if err != nil {
		t.Fatal(err)
	}
	return exists
}

// history returns the versions in the history table.
func history(t testing.TB, db *query.DB) []int64 {
	t.Helper()
	vs, err := query.All[int64](context.Background(), db, "SELECT version FROM hatago_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func names(ms []migrate.Migration) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

// journal is a set of Go migrations that note what they did.
type journal struct {
	mu  sync.Mutex
	ran []string
}

func (j *journal) note(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ran = append(j.ran, s)
}

func (j *journal) migrations(n int) []migrate.Migration {
	var ms []migrate.Migration
	for i := 1; i <= n; i++ {
		table := fmt.Sprintf("t%d", i)
		ms = append(ms, migrate.Migration{
			Version: int64(i),
			Name:    "create_" + table,
			Up: func(ctx context.Context, tx *query.Tx) error {
				j.note("up " + table)
				_, err := tx.Exec(ctx, "CREATE TABLE "+table+" (id INTEGER PRIMARY KEY)")
				return err
			},
			Down: func(ctx context.Context, tx *query.Tx) error {
				j.note("down " + table)
				_, err := tx.Exec(ctx, "DROP TABLE "+table)
				return err
			},
		})
	}
	return ms
}

func TestUpDownStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		var j journal
		now := time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
		var log strings.Builder
		// Given out of order: New sorts them.
		ms := j.migrations(4)
		ms[0], ms[3] = ms[3], ms[0]
		m := newMigrator(t, db, ms, migrate.Clock(func() time.Time { return now }), migrate.Log(&log))

		states, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 4 || states[0].Applied || states[0].Version != 1 {
			t.Fatalf("Status before any migration: got %+v, want 4 pending", states)
		}
		if tableExists(t, db, "hatago_migrations") {
			t.Error("Status created the history table")
		}

		applied, err := m.UpTo(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(applied), []string{"1_create_t1", "2_create_t2"}; !slices.Equal(got, want) {
			t.Errorf("UpTo(2): got %v, want %v", got, want)
		}
		applied, err = m.Up(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(applied), []string{"3_create_t3", "4_create_t4"}; !slices.Equal(got, want) {
			t.Errorf("Up: got %v, want %v", got, want)
		}
		for _, table := range []string{"t1", "t2", "t3", "t4"} {
			if !tableExists(t, db, table) {
				t.Errorf("table %s missing after Up", table)
			}
		}
		if got, want := log.String(), "applied 1_create_t1 (0s)\n"; !strings.HasPrefix(got, want) {
			t.Errorf("log: got %q, want it to start with %q", got, want)
		}

		applied, err = m.Up(ctx)
		if err != nil || len(applied) != 0 {
			t.Errorf("Up again: got %v, %v, want nothing applied", names(applied), err)
		}

		states, err = m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range states {
			want := migrate.State{Version: int64(i + 1), Name: fmt.Sprintf("create_t%d", i+1), Applied: true, AppliedAt: now}
			if s != want {
				t.Errorf("Status[%d]: got %+v, want %+v", i, s, want)
			}
		}

		reverted, err := m.Down(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(reverted), []string{"4_create_t4"}; !slices.Equal(got, want) {
			t.Errorf("Down(1): got %v, want %v", got, want)
		}
		if tableExists(t, db, "t4") {
			t.Error("t4 still exists after Down(1)")
		}
		reverted, err = m.DownTo(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(reverted), []string{"3_create_t3", "2_create_t2"}; !slices.Equal(got, want) {
			t.Errorf("DownTo(1): got %v, want %v", got, want)
		}
		if got, want := history(t, db), []int64{1}; !slices.Equal(got, want) {
			t.Errorf("history after DownTo(1): got %v, want %v", got, want)
		}
		reverted, err = m.Down(ctx, 10)
		if err != nil || len(reverted) != 1 {
			t.Errorf("Down(10) with one applied: got %v, %v, want 1_create_t1", names(reverted), err)
		}
		reverted, err = m.Down(ctx, 1)
		if err != nil || len(reverted) != 0 {
			t.Errorf("Down(1) with none applied: got %v, %v, want nothing", names(reverted), err)
		}

		want := []string{"up t1", "up t2", "up t3", "up t4", "down t4", "down t3", "down t2", "down t1"}
		if !slices.Equal(j.ran, want) {
			t.Errorf("migrations ran: got %v, want %v", j.ran, want)
		}
	})
}

func TestArguments(t *testing.T) {
	ctx := context.Background()
	db := open(t, "sqlite::memory:")
	var j journal
	m := newMigrator(t, db, j.migrations(2))
	if _, err := m.UpTo(ctx, 3); !errors.Is(err, migrate.ErrUnknownVersion) {
		t.Errorf("UpTo(3): got %v, want ErrUnknownVersion", err)
	}
	if _, err := m.DownTo(ctx, 3); !errors.Is(err, migrate.ErrUnknownVersion) {
		t.Errorf("DownTo(3): got %v, want ErrUnknownVersion", err)
	}
	if _, err := m.Down(ctx, 0); err == nil {
		t.Error("Down(0): no error")
	}
	if len(j.ran) != 0 {
		t.Errorf("migrations ran: %v", j.ran)
	}
}

func TestNewRejects(t *testing.T) {
	db := open(t, "sqlite::memory:")
	up := migrate.SQL("")
	tests := []struct {
		name       string
		migrations []migrate.Migration
		want       string
	}{
		{"duplicate", []migrate.Migration{{Version: 7, Name: "a", Up: up}, {Version: 3, Name: "b", Up: up}, {Version: 7, Name: "c", Up: up}}, "duplicate version 7: 7_a and 7_c"},
		{"zero version", []migrate.Migration{{Version: 0, Name: "a", Up: up}}, "0_a: version must be positive"},
		{"no name", []migrate.Migration{{Version: 1, Up: up}}, "version 1 has no name"},
		{"no up", []migrate.Migration{{Version: 1, Name: "a"}}, "1_a has no Up function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := migrate.New(db, tt.migrations)
			if !errors.Is(err, migrate.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
	if _, err := migrate.New(db, nil, migrate.HistoryTable("no good")); !errors.Is(err, migrate.ErrInvalid) {
		t.Errorf("HistoryTable(\"no good\"): got %v, want ErrInvalid", err)
	}
	if _, err := migrate.New(nil, nil); err == nil {
		t.Error("New(nil): no error")
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		ms := []migrate.Migration{
			{Version: 1, Name: "create_a", Up: migrate.SQL("CREATE TABLE a (id INTEGER PRIMARY KEY)")},
			{Version: 2, Name: "create_b", Up: migrate.SQL(`
				CREATE TABLE b (id INTEGER PRIMARY KEY);
				INSERT INTO a (id) VALUES (1);
				INSERT INTO no_such_table (id) VALUES (1);`)},
			{Version: 3, Name: "create_c", Up: migrate.SQL("CREATE TABLE c (id INTEGER PRIMARY KEY)")},
		}
		m := newMigrator(t, db, ms)
		applied, err := m.Up(ctx)
		var me *migrate.Error
		if !errors.As(err, &me) || me.Migration.Version != 2 || me.Op != "up" {
			t.Fatalf("Up: got %v, want a *migrate.Error for 2_create_b", err)
		}
		if !errors.Is(err, query.ErrInvalid) {
			t.Errorf("Up: got %v, want it to wrap query.ErrInvalid", err)
		}
		if !strings.HasPrefix(err.Error(), "migrate up 2_create_b: ") {
			t.Errorf("message: got %q", err)
		}
		if got, want := names(applied), []string{"1_create_a"}; !slices.Equal(got, want) {
			t.Errorf("applied: got %v, want %v", got, want)
		}
		if tableExists(t, db, "b") || tableExists(t, db, "c") {
			t.Error("the failed migration's table b, or c after it, exists")
		}
		if n, err := db.Table("a").Count(ctx); err != nil || n != 0 {
			t.Errorf("rows in a: got %d, %v, want 0 (the failed migration's insert rolled back)", n, err)
		}
		if got, want := history(t, db), []int64{1}; !slices.Equal(got, want) {
			t.Errorf("history: got %v, want %v", got, want)
		}

		// A panic rolls back too, and is reported with the migration.
		ms[1].Up = func(ctx context.Context, tx *query.Tx) error {
			if _, err := tx.Exec(ctx, "CREATE TABLE b (id INTEGER PRIMARY KEY)"); err != nil {
				return err
			}
			panic("boom")
		}
		m = newMigrator(t, db, ms)
		if _, err := m.Up(ctx); !errors.As(err, &me) || !strings.Contains(err.Error(), "panic: boom") {
			t.Errorf("Up with a panicking migration: got %v", err)
		}
		if tableExists(t, db, "b") {
			t.Error("the panicking migration's table b exists")
		}

		// Fixed, the run goes on from where it stopped.
		ms[1].Up = migrate.SQL("CREATE TABLE b (id INTEGER PRIMARY KEY)")
		m = newMigrator(t, db, ms)
		if applied, err := m.Up(ctx); err != nil || len(applied) != 2 {
			t.Errorf("Up after the fix: got %v, %v, want 2_create_b and 3_create_c", names(applied), err)
		}

		// A failing Down leaves the migration applied.
		ms[2].Down = migrate.SQL("DROP TABLE c; DROP TABLE no_such_table")
		m = newMigrator(t, db, ms)
		if _, err := m.Down(ctx, 1); !errors.As(err, &me) || me.Op != "down" || me.Migration.Version != 3 {
			t.Errorf("Down with a failing migration: got %v", err)
		}
		if !tableExists(t, db, "c") {
			t.Error("table c dropped by a Down that failed")
		}
		if got, want := history(t, db), []int64{1, 2, 3}; !slices.Equal(got, want) {
			t.Errorf("history: got %v, want %v", got, want)
		}
	})
}

func TestDownRefuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		var j journal
		ms := j.migrations(3)
		ms[1].Down = nil
		m := newMigrator(t, db, ms)
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		reverted, err := m.Down(ctx, 2)
		if !errors.Is(err, migrate.ErrIrreversible) || len(reverted) != 0 {
			t.Errorf("Down(2) over an irreversible migration: got %v, %v, want ErrIrreversible and nothing reverted", names(reverted), err)
		}
		if got, want := history(t, db), []int64{1, 2, 3}; !slices.Equal(got, want) {
			t.Errorf("history: got %v, want %v", got, want)
		}

		// A version applied by another program, or whose file is gone.
		if _, err := db.Table(migrate.DefaultTable).Insert(ctx, query.Row{"version": 9, "name": "gone", "applied_at": time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		states, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if last := states[len(states)-1]; len(states) != 4 || last.Version != 9 || last.Name != "gone" || !last.Unknown || !last.Applied {
			t.Errorf("Status: got %+v, want 9 gone flagged unknown last", states)
		}
		if _, err := m.Down(ctx, 1); !errors.Is(err, migrate.ErrUnknownVersion) {
			t.Errorf("Down(1) over an unknown version: got %v, want ErrUnknownVersion", err)
		}
		if applied, err := m.Up(ctx); err != nil || len(applied) != 0 {
			t.Errorf("Up with an unknown version applied: got %v, %v, want nothing to do", names(applied), err)
		}
		if want := []string{"up t1", "up t2", "up t3"}; !slices.Equal(j.ran, want) {
			t.Errorf("migrations ran: got %v, want %v", j.ran, want)
		}
	})
}

func TestHistoryTable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		var j journal
		m := newMigrator(t, db, j.migrations(1), migrate.HistoryTable("schema_versions"))
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if !tableExists(t, db, "schema_versions") || tableExists(t, db, migrate.DefaultTable) {
			t.Error("history not in schema_versions alone")
		}
	})
}

func TestFromFS(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string // the migrations, or
		wantErr string   // an error wrapping ErrInvalid
	}{
		{name: "pairs", files: fstest.MapFS{
			"m/20261122150405_b.up.sql":   file("SELECT 1"),
			"m/20261122150405_b.down.sql": file(""),
			"m/0001_a.up.sql":             file("SELECT 1"),
			"m/README.md":                 file("not a migration"),
			"m/sub/0002_c.up.sql":         file("ignored: in a subdirectory"),
		}, want: []string{"1_a", "20261122150405_b"}},
		{name: "misnamed", files: fstest.MapFS{"m/0001-a.up.sql": file("")}, wantErr: "m/0001-a.up.sql: want VERSION_NAME.up.sql"},
		{name: "no direction", files: fstest.MapFS{"m/0001_a.sql": file("")}, wantErr: "m/0001_a.sql: want"},
		{name: "zero version", files: fstest.MapFS{"m/0_a.up.sql": file("")}, wantErr: "m/0_a.up.sql: version 0"},
		{name: "duplicate", files: fstest.MapFS{"m/0001_a.up.sql": file(""), "m/1_a.up.sql": file("")}, wantErr: "duplicate version 1: m/0001_a.up.sql and m/1_a.up.sql"},
		{name: "duplicate names", files: fstest.MapFS{"m/0001_a.up.sql": file(""), "m/0001_b.down.sql": file("")}, wantErr: "duplicate version 1: m/0001_a.up.sql and m/0001_b.down.sql"},
		{name: "down alone", files: fstest.MapFS{"m/0001_a.down.sql": file("")}, wantErr: "m/0001_a.down.sql has no 0001_a.up.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := migrate.FromFS(tt.files, "m")
			if tt.wantErr != "" {
				if !errors.Is(err, migrate.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(ms); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if ms[0].Down != nil || ms[1].Down == nil {
				t.Error("Down: want nil without a down file, a function with an empty one")
			}
		})
	}
	if _, err := migrate.FromFS(fstest.MapFS{}, "missing"); err == nil {
		t.Error("FromFS of a missing directory: no error")
	}
}

// TestFromEmbedFS runs the SQL files of testdata/migrations, embedded,
// up, down and up again: several statements to a file, comments, an
// index.
func TestFromEmbedFS(t *testing.T) {
	ms, err := migrate.FromFS(testdata, "testdata/migrations")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(ms), []string{"1_create_authors", "2_seed_authors", "3_index_titles"}; !slices.Equal(got, want) {
		t.Fatalf("FromFS: got %v, want %v", got, want)
	}
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		m := newMigrator(t, db, ms)
		for round := range 2 {
			if applied, err := m.Up(ctx); err != nil || len(applied) != 3 {
				t.Fatalf("round %d: Up: got %v, %v, want 3 applied", round, names(applied), err)
			}
			titles, err := query.All[string](ctx, db, "SELECT title FROM books ORDER BY title")
			if err != nil || !slices.Equal(titles, []string{"The Dispossessed", "The Lathe of Heaven"}) {
				t.Errorf("round %d: books: got %v, %v", round, titles, err)
			}
			if reverted, err := m.DownTo(ctx, 0); err != nil || len(reverted) != 3 {
				t.Fatalf("round %d: DownTo(0): got %v, %v, want 3 reverted", round, names(reverted), err)
			}
			if tableExists(t, db, "authors") || tableExists(t, db, "books") {
				t.Errorf("round %d: tables left after DownTo(0)", round)
			}
		}
	})
}

// TestBlankSQL runs files that hold nothing, or only a comment.
func TestBlankSQL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		db := open(t, tg.URL)
		ms := []migrate.Migration{
			{Version: 1, Name: "empty", Up: migrate.SQL(""), Down: migrate.SQL(" \n")},
			{Version: 2, Name: "comment", Up: migrate.SQL("-- to do\n"), Down: migrate.SQL("/* nothing */;\n-- at all")},
			{Version: 3, Name: "trailing_comment", Up: migrate.SQL("CREATE TABLE x (id INTEGER);\n-- done\n"), Down: migrate.SQL("DROP TABLE x; /* done */")},
		}
		m := newMigrator(t, db, ms)
		if applied, err := m.Up(ctx); err != nil || len(applied) != 3 {
			t.Errorf("Up: got %v, %v", names(applied), err)
		}
		if reverted, err := m.DownTo(ctx, 0); err != nil || len(reverted) != 3 {
			t.Errorf("DownTo(0): got %v, %v", names(reverted), err)
		}
	})
}

// counterMigrations returns n migrations: the first creates table
// counter, the others each insert a row there with their version.
func counterMigrations(n int64) []migrate.Migration {
	ms := []migrate.Migration{{Version: 1, Name: "create_counter",
		Up: migrate.SQL("CREATE TABLE counter (version INTEGER NOT NULL)")}}
	for v := int64(2); v <= n; v++ {
		ms = append(ms, migrate.Migration{Version: v, Name: fmt.Sprint("count_", v),
			Up: func(ctx context.Context, tx *query.Tx) error {
				if _, err := tx.Table("counter").Insert(ctx, query.Row{"version": v}); err != nil {
					return err
				}
				time.Sleep(5 * time.Millisecond) // widen the window for a second runner
				return nil
			}})
	}
	return ms
}

// checkCounter checks that each of the n counter migrations ran once.
func checkCounter(t *testing.T, url string, n int64) {
	t.Helper()
	db := open(t, url)
	counts, err := query.All[int64](context.Background(), db, "SELECT count(*) FROM counter GROUP BY version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Repeat([]int64{1}, int(n-1)); !slices.Equal(counts, want) {
		t.Errorf("rows per version in counter: got %v, want %v", counts, want)
	}
	if got := history(t, db); len(got) != int(n) {
		t.Errorf("history: got %v, want versions 1 to %d", got, n)
	}
}

// TestConcurrentUp starts several runners at once, in goroutines sharing a
// DB and through DBs of their own (as the processes of a cluster would):
// each migration must be applied exactly once, and no runner may fail.
func TestConcurrentUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		const (
			dbs        = 4
			perDB      = 3
			migrations = 5
		)
		ctx := context.Background()
		ms := counterMigrations(migrations)

		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			applied = map[int64]int{}
			start   = make(chan struct{})
		)
		for range dbs {
			db := open(t, tg.URL)
			m := newMigrator(t, db, ms)
			for range perDB {
				wg.Go(func() {
					<-start
					done, err := m.Up(ctx)
					if err != nil {
						t.Errorf("Up: %v", err)
					}
					mu.Lock()
					defer mu.Unlock()
					for _, mg := range done {
						applied[mg.Version]++
					}
				})
			}
		}
		close(start)
		wg.Wait()

		for v := int64(1); v <= migrations; v++ {
			if applied[v] != 1 {
				t.Errorf("version %d: reported applied by %d runners, want 1", v, applied[v])
			}
		}
		checkCounter(t, tg.URL, migrations)
	})
}

// helperEnv, when set, makes the test binary a migrating process of
// TestConcurrentProcesses: it runs Up on the database whose URL it holds,
// prints the versions it applied, one a line, and exits.
const helperEnv = "HATAGO_MIGRATE_TEST_HELPER"

const helperMigrations = 5

func TestMain(m *testing.M) {
	if url := os.Getenv(helperEnv); url != "" {
		os.Exit(helperUp(url))
	}
	os.Exit(m.Run())
}

func helperUp(url string) int {
	ctx := context.Background()
	db, err := query.Open(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	m, err := migrate.New(db, counterMigrations(helperMigrations))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	applied, err := m.Up(ctx)
	for _, mg := range applied {
		fmt.Println(mg.Version)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestConcurrentProcesses runs Up from several processes at once, as the
// workers of a cluster do when they start.
func TestConcurrentProcesses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		const processes = 3
		cmds := make([]*exec.Cmd, processes)
		outs := make([]*bytes.Buffer, processes)
		for i := range cmds {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+tg.URL)
			outs[i] = new(bytes.Buffer)
			cmd.Stdout, cmd.Stderr = outs[i], outs[i]
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds[i] = cmd
		}
		applied := map[string]int{}
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("process %d: %v: %s", i, err, outs[i])
			}
			for _, v := range strings.Fields(outs[i].String()) {
				applied[v]++
			}
		}
		for v := 1; v <= helperMigrations; v++ {
			if n := applied[fmt.Sprint(v)]; n != 1 {
				t.Errorf("version %d: applied by %d processes, want 1", v, n)
			}
		}
		checkCounter(t, tg.URL, helperMigrations)
	})
}

// TestWithLockExcludes checks that WithLock's holders take turns on
// PostgreSQL, where the lock spans the whole run.
func TestWithLockExcludes(t *testing.T) {
	tg := dbtest.Postgres(t)
	ctx := context.Background()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		inside    int
		maxInside int
	)
	for range 4 {
		db := open(t, tg.URL)
		wg.Go(func() {
			err := migrate.WithLock(ctx, db, "test_lock", func(x query.Executor) error {
				mu.Lock()
				inside++
				maxInside = max(maxInside, inside)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				inside--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Errorf("WithLock: %v", err)
			}
		})
	}
	wg.Wait()
	if maxInside != 1 {
		t.Errorf("holders at once: got %d, want 1", maxInside)
	}

	// A run that fails releases the lock all the same, and one whose
	// context ends while it waits gives up.
	db := open(t, tg.URL)
	boom := errors.New("boom")
	if err := migrate.WithLock(ctx, db, "test_lock", func(query.Executor) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("WithLock: got %v, want fn's error", err)
	}
	err := migrate.WithLock(ctx, db, "test_lock", func(query.Executor) error {
		other := open(t, tg.URL)
		wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		return migrate.WithLock(wctx, other, "test_lock", func(query.Executor) error {
			return errors.New("took a lock that was held")
		})
	})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WithLock while held: got %v, want context.DeadlineExceeded", err)
	}
	if err := migrate.WithLock(ctx, db, "test_lock", func(query.Executor) error { return nil }); err != nil {
		t.Errorf("WithLock after: %v", err)
	}
}
