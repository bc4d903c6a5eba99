package query_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// injections are classic SQL injection payloads, and strings that look
// like the builder's own syntax.
var injections = []string{
	`'; DROP TABLE items; --`,
	`' OR '1'='1`,
	`' OR 1=1 --`,
	`" OR ""="`,
	`admin'--`,
	`1; DROP TABLE items`,
	`1 OR 1=1`,
	`') OR ('1'='1`,
	`Robert'); DROP TABLE items;--`,
	`\'; DELETE FROM items; --`,
	`' UNION SELECT name, name FROM items --`,
	`'; SELECT pg_sleep(10); --`,
	`/* comment */ 1`,
	`? OR 1=1`,
	`$1`,
	`$2; DROP TABLE items`,
	`'?'`,
	`x" AS y FROM items; --`,
	`%' OR name LIKE '%`,
	`' || (SELECT name FROM items LIMIT 1) || '`,
	"\x00",
	"\xff\xfe",
	"",
	" ",
	"日本語'; DROP TABLE items; --",
	"🍣' OR '🍣'='🍣",
}

type item struct {
	ID   int64
	Name string
}

var dialects = []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}}

// valueShapes build one statement each with v as a value, through ToSQL
// for reads and a Recorder for writes.
var valueShapes = []struct {
	name  string
	build func(rec *query.Recorder, v string) (string, []any, error)
}{
	{"where", sel(func(q query.Query[item], v string) query.Query[item] { return q.Where("name", "=", v) })},
	{"where like", sel(func(q query.Query[item], v string) query.Query[item] { return q.Where("name", "like", v) })},
	{"or where", sel(func(q query.Query[item], v string) query.Query[item] {
		return q.Where("id", "=", 1).OrWhere("name", "<>", v)
	})},
	{"where in", sel(func(q query.Query[item], v string) query.Query[item] { return q.WhereIn("name", v, "b", v) })},
	{"where in a slice", sel(func(q query.Query[item], v string) query.Query[item] { return q.WhereIn("name", []string{v}) })},
	{"or where in", sel(func(q query.Query[item], v string) query.Query[item] { return q.OrWhereIn("name", []any{1, v}) })},
	{"where not in", sel(func(q query.Query[item], v string) query.Query[item] { return q.WhereNotIn("name", v) })},
	{"where between", sel(func(q query.Query[item], v string) query.Query[item] { return q.WhereBetween("name", v, "z") })},
	{"or where between", sel(func(q query.Query[item], v string) query.Query[item] {
		return q.Where("id", "=", 1).OrWhereBetween("name", "a", v)
	})},
	{"where not between", sel(func(q query.Query[item], v string) query.Query[item] { return q.WhereNotBetween("name", v, v) })},
	{"group", sel(func(q query.Query[item], v string) query.Query[item] {
		return q.Where("id", ">", 0).WhereGroup(func(c query.Conds) query.Conds {
			return c.Where("name", "=", v).OrWhere("name", "=", v).WhereIn("name", v).WhereBetween("name", v, v)
		})
	})},
	{"where raw", sel(func(q query.Query[item], v string) query.Query[item] { return q.WhereRaw("name = ? OR name = '?'", v) })},
	{"having", sel(func(q query.Query[item], v string) query.Query[item] {
		return q.Select("name").GroupBy("name").Having("name", "=", v)
	})},
	{"having raw", sel(func(q query.Query[item], v string) query.Query[item] {
		return q.Select("name").GroupBy("name").HavingRaw("MAX(name) = ?", v)
	})},
	{"select raw", sel(func(q query.Query[item], v string) query.Query[item] { return q.SelectRaw("? AS name", v) })},
	{"after", sel(func(q query.Query[item], v string) query.Query[item] { return q.After("name", v).Limit(10) })},
	{"before", sel(func(q query.Query[item], v string) query.Query[item] { return q.Before("name", v) })},
	{"find", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Find(ctx, v))
	})},
	{"find by key", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Key("name").Find(ctx, v))
	})},
	{"count", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Where("name", "=", v).Count(ctx))
	})},
	{"count distinct", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Select("name").Distinct().Where("name", "=", v).Count(ctx))
	})},
	{"exists", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Where("name", "=", v).Exists(ctx))
	})},
	{"max", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		var n int64
		return q.Where("name", "=", v).Max(ctx, "id", &n)
	})},
	{"insert", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Insert(ctx, item{Name: v}, item{Name: v}))
	})},
	{"insert a row", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(query.Table[query.Row](r, "items").Insert(ctx, query.Row{"name": v, "id": 1}))
	})},
	{"insert id", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.InsertID(ctx, item{Name: v}))
	})},
	{"upsert", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Upsert(ctx, []string{"id"}, []string{"name"}, item{ID: 1, Name: v}))
	})},
	{"update", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.Where("name", "=", v).Update(ctx, query.Set{"name": v, "id": 2}))
	})},
	{"delete", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(q.WhereIn("name", v).OrWhere("name", "like", v).Delete(ctx))
	})},
	{"copy", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(query.CopyFrom(ctx, r, "items", []string{"id", "name"}, [][]any{{1, v}, {2, v}}))
	})},
	{"raw exec", rec(func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error {
		return errOnly(r.Exec(ctx, "UPDATE items SET name = ?", v))
	})},
}

func sel(fn func(q query.Query[item], v string) query.Query[item]) func(*query.Recorder, string) (string, []any, error) {
	return func(r *query.Recorder, v string) (string, []any, error) {
		return fn(query.Table[item](r, "items"), v).ToSQL()
	}
}

func rec(fn func(ctx context.Context, r *query.Recorder, q query.Query[item], v string) error) func(*query.Recorder, string) (string, []any, error) {
	return func(r *query.Recorder, v string) (string, []any, error) {
		r.Reset()
		// The recorder has no rows: ErrNotFound is a query that ran.
		if err := fn(context.Background(), r, query.Table[item](r, "items"), v); err != nil && !errors.Is(err, query.ErrNotFound) {
			return "", nil, err
		}
		st := r.Statements()
		if len(st) != 1 {
			return "", nil, fmt.Errorf("%d statements, want 1: %v", len(st), st)
		}
		return st[0].SQL, st[0].Args, nil
	}
}

// FuzzValues builds statements with any string as a value and checks that
// the SQL is byte for byte the SQL built with a benign value: a value
// changes only the arguments, among which it appears.
func FuzzValues(f *testing.F) {
	for _, s := range injections {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, d := range dialects {
			r := query.NewRecorder(d)
			for _, sh := range valueShapes {
				want, wantArgs, err := sh.build(r, "benign")
				if err != nil {
					t.Fatalf("%s %s with a benign value: %v", d.Name(), sh.name, err)
				}
				got, args, err := sh.build(r, v)
				if err != nil {
					t.Fatalf("%s %s with %q: %v", d.Name(), sh.name, v, err)
				}
				if got != want {
					t.Errorf("%s %s: the value %q changed the SQL:\n got %s\nwant %s", d.Name(), sh.name, v, got, want)
				}
				if len(args) != len(wantArgs) {
					t.Errorf("%s %s: %d args, want %d", d.Name(), sh.name, len(args), len(wantArgs))
				}
				found := false
				for _, a := range args {
					found = found || a == any(v)
				}
				if !found {
					t.Errorf("%s %s: %q is not among the args %q", d.Name(), sh.name, v, args)
				}
			}
		}
	})
}

// identShapes put s where an identifier goes. forms are benign
// identifiers whose SQL shapes s may take: a name may carry an alias, a
// selected column may be * or table.*.
var identShapes = []struct {
	name  string
	forms []string
	build func(r *query.Recorder, s string) (string, error)
}{
	{"table", []string{"x", "x AS y"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, s)
	})},
	{"select", []string{"x", "x AS y", "x.*", "*", "x.* AS y"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").Select("a", s)
	})},
	{"where", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").Where(s, "=", 1)
	})},
	{"or where in", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").Where("a", "=", 1).OrWhereIn(s, 1, 2)
	})},
	{"where not in", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").WhereNotIn(s, 1)
	})},
	{"where null", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").WhereNull(s).OrWhereNotNull(s)
	})},
	{"where between", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").WhereBetween(s, 1, 2).WhereNotBetween(s, 1, 2).OrWhereBetween(s, 1, 2)
	})},
	{"where column", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").WhereColumn(s, "=", "b").WhereColumn("a", "<", s)
	})},
	{"group", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").WhereGroup(func(c query.Conds) query.Conds {
			return c.Where(s, "=", 1).OrWhereNull(s)
		})
	})},
	{"join table", []string{"x", "x AS y"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").Join(s, "a", "=", "b")
	})},
	{"join columns", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").LeftJoin("o", s, "=", "b").RightJoin("p", "a", "=", s)
	})},
	{"group by", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").GroupBy("a", s)
	})},
	{"having", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").GroupBy("a").Having(s, "=", 1)
	})},
	{"order by", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").OrderBy(s).OrderByDesc(s)
	})},
	{"after", []string{"x"}, selI(func(r *query.Recorder, s string) query.Query[query.Row] {
		return query.Table[query.Row](r, "t").After(s, 1)
	})},
	{"find by key", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[item](r, "t").Key(s).Find(ctx, 1))
	})},
	{"min", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		var n int64
		return query.Table[query.Row](r, "t").Min(ctx, s, &n)
	})},
	{"count grouped", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, "t").GroupBy(s).Count(ctx))
	})},
	{"update table", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, s).Update(ctx, query.Set{"a": 1}))
	})},
	{"update column", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, "t").Update(ctx, query.Set{s: 1}))
	})},
	{"delete table", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, s).Delete(ctx))
	})},
	{"insert column", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, "t").Insert(ctx, query.Row{s: 1}))
	})},
	{"insert id key", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, "t").Key(s).InsertID(ctx, query.Row{"a": 1}))
	})},
	{"upsert columns", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.Table[query.Row](r, "t").Upsert(ctx, []string{s}, []string{s}, query.Row{"a": 1}))
	})},
	{"copy", []string{"x"}, recI(func(ctx context.Context, r *query.Recorder, s string) error {
		return errOnly(query.CopyFrom(ctx, r, s, []string{s}, [][]any{{1}}))
	})},
}

func selI(fn func(r *query.Recorder, s string) query.Query[query.Row]) func(*query.Recorder, string) (string, error) {
	return func(r *query.Recorder, s string) (string, error) {
		sql, _, err := fn(r, s).ToSQL()
		return sql, err
	}
}

func recI(fn func(ctx context.Context, r *query.Recorder, s string) error) func(*query.Recorder, string) (string, error) {
	return func(r *query.Recorder, s string) (string, error) {
		r.Reset()
		err := fn(context.Background(), r, s)
		st := r.Statements()
		if err != nil && !errors.Is(err, query.ErrNotFound) {
			if len(st) > 0 {
				return "", fmt.Errorf("refused (%w) after sending %v", err, st)
			}
			return "", err
		}
		if len(st) != 1 {
			return "", fmt.Errorf("%d statements, want 1: %v", len(st), st)
		}
		return st[0].SQL, nil
	}
}

var (
	quoted    = regexp.MustCompile(`"[^"]*"`)
	identOnly = regexp.MustCompile(`^"[A-Za-z_][A-Za-z0-9_]*"$`)
	dotted    = regexp.MustCompile(`I(\.I)*`)
)

// skeleton returns sql with each quoted, dotted name replaced by I, or an
// error when a quoted name holds anything but letters, digits and _.
func skeleton(sql string) (string, error) {
	var bad error
	s := quoted.ReplaceAllStringFunc(sql, func(q string) string {
		if !identOnly.MatchString(q) {
			bad = fmt.Errorf("quoted name %s in %s", q, sql)
		}
		return "I"
	})
	if strings.Count(s, `"`) != 0 {
		return "", fmt.Errorf("unbalanced quote in %s", sql)
	}
	return dotted.ReplaceAllString(s, "I"), bad
}

// FuzzIdentifiers puts any string where an identifier goes: it is refused
// with ErrInvalid, sending nothing, or it appears in the SQL only quoted,
// with nothing in the quotes but letters, digits and _, and the SQL has
// the shape it has with a plain name.
func FuzzIdentifiers(f *testing.F) {
	for _, s := range injections {
		f.Add(s)
	}
	for _, s := range []string{"a", "a.b", "a.b.c", "a.b.c.d", "_", "a1", "1a", "a b", "a AS b", "a as b", "a As b.c",
		"*", "a.*", "* AS x", `* AS x"; DROP TABLE t; --`, "a.* AS b", "a.*.*", " AS b", "a AS ", "a AS b AS c",
		"\xff\xff\xff as x", "İ as x", "ß AS x", "a\tAS b", strings.Repeat("a", 63), strings.Repeat("a", 64),
		"a..b", ".a", "a.", `a"b`, "a;b", "a--", "a/*", "(a)", "a\x00", "テーブル"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range dialects {
			r := query.NewRecorder(d)
			for _, sh := range identShapes {
				sql, err := sh.build(r, s)
				if err != nil {
					if !errors.Is(err, query.ErrInvalid) {
						t.Errorf("%s %s %q: %v, want ErrInvalid", d.Name(), sh.name, s, err)
					}
					continue
				}
				if strings.ContainsAny(s, `"';`) {
					t.Errorf("%s %s: %q accepted", d.Name(), sh.name, s)
				}
				got, err := skeleton(sql)
				if err != nil {
					t.Errorf("%s %s %q: %v", d.Name(), sh.name, s, err)
					continue
				}
				ok := false
				var wants []string
				for _, form := range sh.forms {
					benign, err := sh.build(r, form)
					if err != nil {
						t.Fatalf("%s %s %q: %v", d.Name(), sh.name, form, err)
					}
					want, _ := skeleton(benign)
					ok = ok || got == want
					wants = append(wants, want)
				}
				if !ok {
					t.Errorf("%s %s %q: shape %s, want one of %q\n%s", d.Name(), sh.name, s, got, wants, sql)
				}
			}
			// Operators: one of the known ones, or refused.
			sql, _, err := query.Table[query.Row](r, "t").Where("a", s, 1).ToSQL()
			if err != nil {
				if !errors.Is(err, query.ErrInvalid) {
					t.Errorf("%s operator %q: %v, want ErrInvalid", d.Name(), s, err)
				}
				continue
			}
			known := false
			for _, op := range []string{"=", "<>", "<", "<=", ">", ">=", "like", "not like", "ilike", "not ilike"} {
				want, _, _ := query.Table[query.Row](r, "t").Where("a", op, 1).ToSQL()
				known = known || sql == want
			}
			if !known {
				t.Errorf("%s operator %q made %s", d.Name(), s, sql)
			}
		}
	})
}

// TestInjection stores and looks up the classic payloads as values on the
// real databases: they go in and come out as they are, match only
// themselves, and the table stays whole.
func TestInjection(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
		items := query.Table[item](db, "items")
		var payloads []string
		for _, p := range injections {
			if !strings.ContainsRune(p, 0) && !strings.Contains(p, "\xff") { // PostgreSQL text is NUL-free UTF-8
				payloads = append(payloads, p)
			}
		}
		for i, p := range payloads {
			if _, err := items.Insert(ctx, item{ID: int64(i + 1), Name: p}); err != nil {
				t.Fatalf("insert %q: %v", p, err)
			}
		}
		n := int64(len(payloads))
		for i, p := range payloads {
			id := int64(i + 1)
			for name, q := range map[string]query.Query[item]{
				"where":      items.Where("name", "=", p),
				"where in":   items.WhereIn("name", []string{p}),
				"between":    items.WhereBetween("name", p, p),
				"where raw":  items.WhereRaw("name = ?", p),
				"group":      items.WhereGroup(func(c query.Conds) query.Conds { return c.Where("name", "=", p).OrWhere("name", "=", p) }),
				"having":     items.Select("id", "name").GroupBy("id", "name").Having("name", "=", p),
				"having raw": items.Select("id", "name").GroupBy("id", "name").HavingRaw("MAX(name) = ?", p),
			} {
				got, err := q.Get(ctx)
				if err != nil || len(got) != 1 || got[0].ID != id || got[0].Name != p {
					t.Errorf("%s %q: got %v, %v; want only item %d", name, p, got, err, id)
				}
			}
			// Writes with the payload as a value change only their row.
			if c, err := items.Where("id", "=", id).Update(ctx, query.Set{"name": p + p}); err != nil || c != 1 {
				t.Errorf("update %q: %d, %v", p, c, err)
			}
			want := int64(0) // the name is p+p now
			if p == "" {
				want = 1
			}
			if c, err := items.Where("name", "=", p).Delete(ctx); err != nil || c != want {
				t.Errorf("delete %q: %d, %v; want %d deleted", p, c, err, want)
			}
			if _, err := items.Upsert(ctx, []string{"id"}, []string{"name"}, item{ID: id, Name: p}); err != nil {
				t.Errorf("upsert %q: %v", p, err)
			}
			if got, err := items.Find(ctx, id); err != nil || got.Name != p {
				t.Errorf("after the writes, item %d = %q, %v; want %q", id, got.Name, err, p)
			}
			// The payload as an id or a LIKE pattern finds nothing it
			// should not.
			if got, err := items.Where("id", "=", p).Get(ctx); err == nil && len(got) != 0 {
				t.Errorf("id = %q found %v", p, got)
			}
			if c, err := query.One[int64](ctx, db, "SELECT COUNT(*) FROM items WHERE name = "+ph(db, 1), p); err != nil || c != 1 {
				t.Errorf("raw count of %q = %d, %v; want 1", p, c, err)
			}
		}
		if c, err := items.Count(ctx); err != nil || c != n {
			t.Errorf("items = %d, %v; want %d: the table is not whole", c, err, n)
		}
	})
}
