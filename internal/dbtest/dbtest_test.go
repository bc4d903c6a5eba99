package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// recorder is a testing.TB that records what Fatalf, Skipf and Logf say.
// Fatalf and Skipf end the calling goroutine, as the real ones do, so it is
// used only through call.
type recorder struct {
	testing.TB // the real test's, for TempDir, Cleanup and Context

	mu    sync.Mutex // guards the fields below
	fatal string
	skip  string
	logs  []string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skip = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// call runs fn with a recorder for t on a goroutine of its own, which
// Fatalf and Skipf may end, and returns the recorder when fn is done.
func call(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func names(targets []Target) []string {
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Name)
	}
	return got
}

func TestSQLite(t *testing.T) {
	a, b := SQLite(t), SQLite(t)
	if a.Name != "sqlite" {
		t.Errorf("Name: got %q, want %q", a.Name, "sqlite")
	}
	path, ok := strings.CutPrefix(a.URL, "sqlite:")
	if !ok || !filepath.IsAbs(path) {
		t.Fatalf("URL: got %q, want sqlite: and an absolute path", a.URL)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		t.Errorf("directory of %s: got %v, want an existing directory", path, err)
	}
	if a.URL == b.URL {
		t.Errorf("two targets share %s", a.URL)
	}
}

func TestWithoutPostgres(t *testing.T) {
	tests := []struct {
		name  string
		ci    string
		call  func(tb testing.TB) []Target
		want  []string // targets
		fatal string   // in the failure, "" for none
		skip  string   // in the skip, "" for none
		logs  string   // in the log
	}{
		{name: "Targets", call: Targets, want: []string{"sqlite"}, logs: "scripts/postgres"},
		{name: "Targets on CI", ci: "true", call: Targets, fatal: ".ci/run must start PostgreSQL"},
		{name: "Postgres", call: func(tb testing.TB) []Target { return []Target{Postgres(tb)} },
			skip: "scripts/postgres"},
		{name: "Postgres on CI", ci: "true", call: func(tb testing.TB) []Target { return []Target{Postgres(tb)} },
			fatal: ".ci/run must start PostgreSQL"},
		{name: "CI not true", ci: "1", call: Targets, want: []string{"sqlite"}, logs: EnvPostgres},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvPostgres, "")
			t.Setenv("CI", tt.ci)
			var got []Target
			r := call(t, func(tb testing.TB) { got = tt.call(tb) })
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("targets: got %v, want %v", names(got), tt.want)
			}
			for _, c := range []struct{ what, got, want string }{
				{"failure", r.fatal, tt.fatal},
				{"skip", r.skip, tt.skip},
				{"log", strings.Join(r.logs, "\n"), tt.logs},
			} {
				if c.want == "" && c.got != "" || !strings.Contains(c.got, c.want) {
					t.Errorf("%s: got %q, want it to contain %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestBadPostgresURL(t *testing.T) {
	t.Setenv(EnvPostgres, "host=127.0.0.1 user=hatago")
	r := call(t, func(tb testing.TB) { Postgres(tb) })
	if !strings.Contains(r.fatal, "postgres:// URL") {
		t.Errorf("failure: got %q, want it to ask for a postgres:// URL", r.fatal)
	}
}

func TestEach(t *testing.T) {
	want := []string{"sqlite"}
	if os.Getenv(EnvPostgres) != "" || os.Getenv("CI") == "true" {
		want = append(want, "postgres")
	}
	var (
		mu   sync.Mutex
		got  []string
		urls = map[string]bool{}
	)
	// The group returns when its parallel subtests are done.
	t.Run("group", func(t *testing.T) {
		Each(t, func(t *testing.T, tg Target) {
			t.Parallel()
			if !strings.HasSuffix(t.Name(), "/"+tg.Name) {
				t.Errorf("subtest %s runs target %s", t.Name(), tg.Name)
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, tg.Name)
			urls[tg.URL] = true
		})
	})
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("targets: got %v, want %v", got, want)
	}
	if len(urls) != len(got) {
		t.Errorf("targets share URLs: %v", urls)
	}
}

// connect opens a connection to tg, closed when t ends.
func connect(t *testing.T, tg Target) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// schemaOf returns the schema that tg's URL sets search_path to.
func schemaOf(t *testing.T, tg Target) string {
	t.Helper()
	u, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	if !strings.HasPrefix(schema, "t_") {
		t.Fatalf("search_path in %s: got %q, want t_ and hex digits", tg.URL, schema)
	}
	return schema
}

func TestPostgresURL(t *testing.T) {
	tg := Postgres(t)
	if tg.Name != "postgres" {
		t.Errorf("Name: got %q, want %q", tg.Name, "postgres")
	}
	base, _ := url.Parse(os.Getenv(EnvPostgres))
	got, _ := url.Parse(tg.URL)
	for k, v := range base.Query() {
		if !slices.Equal(got.Query()[k], v) {
			t.Errorf("parameter %s: got %v, want %v kept from %s", k, got.Query()[k], v, EnvPostgres)
		}
	}
	cfg, err := pgx.ParseConfig(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.RuntimeParams["search_path"], schemaOf(t, tg); got != want {
		t.Errorf("pgx runtime parameter search_path: got %q, want %q", got, want)
	}
}

// TestPostgresSearchPath checks through a real connection that a table
// created without a schema lands in the target's own.
func TestPostgresSearchPath(t *testing.T) {
	tg := Postgres(t)
	schema := schemaOf(t, tg)
	conn := connect(t, tg)
	ctx := t.Context()

	var current string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != schema {
		t.Errorf("current_schema(): got %q, want %q", current, schema)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE items (id int)"); err != nil {
		t.Fatal(err)
	}
	var got string
	err := conn.QueryRow(ctx,
		"SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'items'::regclass",
	).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	if got != schema {
		t.Errorf("schema of table items: got %q, want %q", got, schema)
	}
}

func TestPostgresIsolation(t *testing.T) {
	a, b := Postgres(t), Postgres(t)
	if schemaOf(t, a) == schemaOf(t, b) {
		t.Fatalf("two targets share schema %s", schemaOf(t, a))
	}
	ca, cb := connect(t, a), connect(t, b)
	ctx := t.Context()

	if _, err := ca.Exec(ctx, "CREATE TABLE items (id int); INSERT INTO items VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var seen *string
	if err := cb.QueryRow(ctx, "SELECT to_regclass('items')::text").Scan(&seen); err != nil {
		t.Fatal(err)
	}
	if seen != nil {
		t.Errorf("b sees a's table as %s", *seen)
	}
	if _, err := cb.Exec(ctx, "CREATE TABLE items (id int); INSERT INTO items VALUES (2)"); err != nil {
		t.Fatalf("create in b the table that a has: %v", err)
	}
	for _, c := range []struct {
		conn *pgx.Conn
		want int
	}{{ca, 1}, {cb, 2}} {
		rows, _ := c.conn.Query(ctx, "SELECT id FROM items")
		got, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []int{c.want}) {
			t.Errorf("items: got %v, want [%d]", got, c.want)
		}
	}
}

// TestPostgresParallel runs tests that make the same table at once, each in
// its own schema.
func TestPostgresParallel(t *testing.T) {
	Postgres(t) // skip here, not in every subtest
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, Postgres(t))
			ctx := t.Context()
			if _, err := conn.Exec(ctx, "CREATE TABLE items (id int)"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO items VALUES ($1)", i); err != nil {
				t.Fatal(err)
			}
			rows, _ := conn.Query(ctx, "SELECT id FROM items")
			got, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []int{i}) {
				t.Errorf("items: got %v, want [%d]", got, i)
			}
		})
	}
}

func TestPostgresDropsSchema(t *testing.T) {
	Postgres(t) // skip without PostgreSQL
	var schema string
	t.Run("inner", func(t *testing.T) {
		tg := Postgres(t)
		schema = schemaOf(t, tg)
		if _, err := connect(t, tg).Exec(t.Context(), "CREATE TABLE items (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	conn, err := pgx.Connect(t.Context(), os.Getenv(EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s still exists after its test ended", schema)
	}
}
