package schema_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/schema"
)

// open opens tg's database for the test.
func open(t testing.TB, tg dbtest.Target) *query.DB {
	t.Helper()
	db, err := query.Open(t.Context(), tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// must fails t on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// insert inserts one row into table.
func insert(t testing.TB, db query.Executor, table string, row query.Row) error {
	t.Helper()
	_, err := query.Table[query.Row](db, table).Insert(t.Context(), row)
	return err
}

// hasTable reports whether table exists, failing t on an error.
func hasTable(t testing.TB, db query.Executor, table string) bool {
	t.Helper()
	ok, err := schema.HasTable(t.Context(), db, table)
	must(t, err)
	return ok
}

func hasColumn(t testing.TB, db query.Executor, table, col string) bool {
	t.Helper()
	ok, err := schema.HasColumn(t.Context(), db, table, col)
	must(t, err)
	return ok
}

// indexes returns the names of table's indexes, sorted, left out those
// that SQLite makes itself.
func indexes(t testing.TB, db *query.DB, table string) []string {
	t.Helper()
	var q string
	if db.Dialect().Name() == "sqlite" {
		q = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name"
	} else {
		q = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 AND indexname NOT LIKE '%_pkey' ORDER BY indexname"
	}
	names, err := query.All[string](t.Context(), db, q, table)
	must(t, err)
	return names
}

type allTypes struct {
	ID        int64     `db:"id"`
	Int       int32     `db:"int"`
	BigInt    int64     `db:"bigint"`
	String    string    `db:"string"`
	Text      string    `db:"text"`
	Boolean   bool      `db:"boolean"`
	Float     float64   `db:"float"`
	Decimal   float64   `db:"decimal"`
	Timestamp time.Time `db:"timestamp"`
	Date      time.Time `db:"date"`
	JSON      string    `db:"json"`
	UUID      string    `db:"uuid"`
	Bytes     []byte    `db:"bytes"`
}

type allNullable struct {
	ID        int64      `db:"id"`
	Int       *int32     `db:"int"`
	BigInt    *int64     `db:"bigint"`
	String    *string    `db:"string"`
	Text      *string    `db:"text"`
	Boolean   *bool      `db:"boolean"`
	Float     *float64   `db:"float"`
	Decimal   *float64   `db:"decimal"`
	Timestamp *time.Time `db:"timestamp"`
	Date      *time.Time `db:"date"`
	JSON      *string    `db:"json"`
	UUID      *string    `db:"uuid"`
	Bytes     []byte     `db:"bytes"`
}

// columns adds a column of every type but the increments, each made
// Nullable when nullable is.
func columns(t *schema.Table, nullable bool) {
	cols := []*schema.Column{
		t.Integer("int"),
		t.BigInt("bigint"),
		t.String("string", 20),
		t.Text("text"),
		t.Boolean("boolean"),
		t.Float("float"),
		t.Decimal("decimal", 12, 2),
		t.Timestamp("timestamp"),
		t.Date("date"),
		t.JSON("json"),
		t.UUID("uuid"),
		t.Bytes("bytes"),
	}
	if nullable {
		for _, c := range cols {
			c.Nullable()
		}
	}
}

func TestColumnTypesRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "all_types", func(t *schema.Table) {
			t.Increments("id")
			columns(t, false)
		}))
		want := allTypes{
			Int:       42,
			BigInt:    1<<40 + 3,
			String:    "héllo 'x'",
			Text:      "a longer text\nwith \\ and \"",
			Boolean:   true,
			Float:     1.25,
			Decimal:   12.34,
			Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC),
			Date:      time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC),
			JSON:      `{"a": 1}`,
			UUID:      "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
			Bytes:     []byte{0, 1, 2, 255},
		}
		types := query.Table[allTypes](db, "all_types")
		id, err := types.InsertID(ctx, want)
		must(t, err)
		got, err := types.Find(ctx, id)
		must(t, err)
		want.ID = id
		if !got.Timestamp.Equal(want.Timestamp) {
			t.Errorf("timestamp: got %v, want %v", got.Timestamp, want.Timestamp)
		}
		if y, m, d := got.Date.Date(); y != 2024 || m != 5 || d != 6 {
			t.Errorf("date: got %v, want 2024-05-06", got.Date)
		}
		got.Timestamp, got.Date = want.Timestamp, want.Date
		if fmt.Sprint(got) != fmt.Sprint(want) || !bytes.Equal(got.Bytes, want.Bytes) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}

		// Every type holds NULL when Nullable.
		must(t, schema.Create(ctx, db, "all_nullable", func(t *schema.Table) {
			t.Increments("id")
			columns(t, true)
		}))
		nulls := query.Table[allNullable](db, "all_nullable")
		id, err = nulls.InsertID(ctx, allNullable{})
		must(t, err)
		gotNull, err := nulls.Find(ctx, id)
		must(t, err)
		if fmt.Sprint(gotNull) != fmt.Sprint(allNullable{ID: id}) || gotNull.Bytes != nil {
			t.Errorf("got %+v, want every column NULL", gotNull)
		}

		// BigIncrements counts from 1 too.
		must(t, schema.Create(ctx, db, "big", func(t *schema.Table) {
			t.BigIncrements("id")
			t.String("name", 10)
		}))
		for i := int64(1); i <= 2; i++ {
			id, err := query.Table[struct {
				ID   int64  `db:"id"`
				Name string `db:"name"`
			}](db, "big").InsertID(ctx, struct {
				ID   int64  `db:"id"`
				Name string `db:"name"`
			}{Name: "n"})
			if err != nil || id != i {
				t.Fatalf("big insert %d: got id %d, %v", i, id, err)
			}
		}
	})
}

// types are the column types, each adding a column named col.
var types = []struct {
	name string
	add  func(t *schema.Table, col string) *schema.Column
}{
	{"integer", (*schema.Table).Integer},
	{"bigint", (*schema.Table).BigInt},
	{"string", func(t *schema.Table, col string) *schema.Column { return t.String(col, 10) }},
	{"text", (*schema.Table).Text},
	{"boolean", (*schema.Table).Boolean},
	{"float", (*schema.Table).Float},
	{"decimal", func(t *schema.Table, col string) *schema.Column { return t.Decimal(col, 8, 3) }},
	{"timestamp", (*schema.Table).Timestamp},
	{"date", (*schema.Table).Date},
	{"json", (*schema.Table).JSON},
	{"uuid", (*schema.Table).UUID},
	{"bytes", (*schema.Table).Bytes},
}

func TestNotNull(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		db := open(t, tg)
		for _, typ := range types {
			t.Run(typ.name, func(t *testing.T) {
				table := "nn_" + typ.name
				must(t, schema.Create(t.Context(), db, table, func(t *schema.Table) {
					t.Increments("id")
					typ.add(t, "v")
					typ.add(t, "maybe").Nullable()
				}))
				err := insert(t, db, table, query.Row{"v": nil, "maybe": nil})
				if !errors.Is(err, query.ErrNotNull) {
					t.Errorf("NULL into NOT NULL: got %v, want ErrNotNull", err)
				}
			})
		}
	})
}

func TestDefaults(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		fixed := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		must(t, schema.Create(ctx, db, "defaults", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 20)
			t.Integer("int").Default(7)
			t.BigInt("neg").Default(int64(-5))
			t.String("quoted", 50).Default(`it's a \ test`)
			t.Boolean("yes").Default(true)
			t.Boolean("no").Default(false)
			t.Float("float").Default(2.5)
			t.Decimal("decimal", 12, 2).Default("0.50")
			t.Timestamp("created_at").DefaultNow()
			t.Date("day").DefaultNow()
			t.Timestamp("fixed").Default(fixed)
			t.JSON("json").Default(`{"k": "v"}`)
			t.UUID("uuid").Default("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
			t.Bytes("bytes").Default([]byte{1, 2, 3})
			t.Integer("raw").DefaultRaw("(40 + 2)")
			t.Text("nothing").Nullable().Default(nil)
		}))
		before := time.Now()
		must(t, insert(t, db, "defaults", query.Row{"name": "x"}))
		type row struct {
			Int       int       `db:"int"`
			Neg       int64     `db:"neg"`
			Quoted    string    `db:"quoted"`
			Yes       bool      `db:"yes"`
			No        bool      `db:"no"`
			Float     float64   `db:"float"`
			Decimal   float64   `db:"decimal"`
			CreatedAt time.Time `db:"created_at"`
			Day       time.Time `db:"day"`
			Fixed     time.Time `db:"fixed"`
			JSON      string    `db:"json"`
			UUID      string    `db:"uuid"`
			Bytes     []byte    `db:"bytes"`
			Raw       int       `db:"raw"`
			Nothing   *string   `db:"nothing"`
		}
		got, err := query.Table[row](db, "defaults").First(ctx)
		must(t, err)
		want := row{Int: 7, Neg: -5, Quoted: `it's a \ test`, Yes: true, Float: 2.5, Decimal: 0.5,
			JSON: `{"k": "v"}`, UUID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", Bytes: []byte{1, 2, 3}, Raw: 42}
		if d := got.CreatedAt.Sub(before); d < -time.Minute || d > time.Minute {
			t.Errorf("created_at: got %v, want about %v", got.CreatedAt, before)
		}
		if d := got.Day.Sub(before); d < -48*time.Hour || d > 48*time.Hour {
			t.Errorf("day: got %v, want about %v", got.Day, before)
		}
		if !got.Fixed.Equal(fixed) {
			t.Errorf("fixed: got %v, want %v", got.Fixed, fixed)
		}
		got.CreatedAt, got.Day, got.Fixed = time.Time{}, time.Time{}, time.Time{}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
}

func TestUnique(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		db := open(t, tg)
		must(t, schema.Create(t.Context(), db, "people", func(t *schema.Table) {
			t.Increments("id")
			t.String("email", 100).Unique()
			t.String("first", 20)
			t.String("last", 20)
			t.Unique("first", "last")
		}))
		must(t, insert(t, db, "people", query.Row{"email": "a@x", "first": "ann", "last": "lee"}))
		for _, tc := range []struct {
			row  query.Row
			want error
		}{
			{query.Row{"email": "a@x", "first": "bob", "last": "ray"}, query.ErrConflict},
			{query.Row{"email": "b@x", "first": "ann", "last": "lee"}, query.ErrConflict},
			{query.Row{"email": "c@x", "first": "ann", "last": "ray"}, nil},
		} {
			if err := insert(t, db, "people", tc.row); !errors.Is(err, tc.want) {
				t.Errorf("insert %v: got %v, want %v", tc.row, err, tc.want)
			}
		}
	})
}

func TestForeignKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		db := open(t, tg)
		for _, tc := range []struct {
			name   string
			action schema.Action
			err    error // of deleting the parent
			parent any   // the child's parent_id after
			left   int64 // children left after
		}{
			{"cascade", schema.Cascade, nil, nil, 0},
			{"set_null", schema.SetNull, nil, nil, 1},
			{"restrict", schema.Restrict, query.ErrForeignKey, int64(1), 1},
			{"no_action", schema.NoAction, query.ErrForeignKey, int64(1), 1},
			{"default", 0, query.ErrForeignKey, int64(1), 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				parent, child := "parent_"+tc.name, "child_"+tc.name
				must(t, schema.Create(ctx, db, parent, func(t *schema.Table) {
					t.BigIncrements("id")
					t.String("name", 10)
				}))
				must(t, schema.Create(ctx, db, child, func(t *schema.Table) {
					t.Increments("id")
					fk := t.BigInt("parent_id").Nullable().References(parent, "id")
					if tc.action != 0 {
						fk.OnDelete(tc.action)
					}
				}))
				must(t, insert(t, db, parent, query.Row{"name": "p"}))
				must(t, insert(t, db, child, query.Row{"parent_id": 1}))
				if err := insert(t, db, child, query.Row{"parent_id": 99}); !errors.Is(err, query.ErrForeignKey) {
					t.Errorf("child of no parent: got %v, want ErrForeignKey", err)
				}
				_, err := db.Table(parent).Where("id", "=", 1).Delete(ctx)
				if !errors.Is(err, tc.err) {
					t.Fatalf("delete parent: got %v, want %v", err, tc.err)
				}
				rows, err := db.Table(child).Get(ctx)
				must(t, err)
				if int64(len(rows)) != tc.left {
					t.Fatalf("children left: got %d, want %d", len(rows), tc.left)
				}
				if tc.left > 0 && fmt.Sprint(rows[0]["parent_id"]) != fmt.Sprint(tc.parent) {
					t.Errorf("parent_id: got %v, want %v", rows[0]["parent_id"], tc.parent)
				}
			})
		}

		t.Run("on_update_cascade", func(t *testing.T) {
			ctx := t.Context()
			must(t, schema.Create(ctx, db, "countries", func(t *schema.Table) {
				t.String("code", 2).Primary()
			}))
			must(t, schema.Create(ctx, db, "cities", func(t *schema.Table) {
				t.Increments("id")
				t.String("country", 2).References("countries", "code").OnUpdate(schema.Cascade).OnDelete(schema.Restrict)
			}))
			must(t, insert(t, db, "countries", query.Row{"code": "uk"}))
			must(t, insert(t, db, "cities", query.Row{"country": "uk"}))
			_, err := db.Table("countries").Where("code", "=", "uk").Update(ctx, query.Set{"code": "gb"})
			must(t, err)
			got, err := query.One[string](ctx, db, "SELECT country FROM cities")
			if err != nil || got != "gb" {
				t.Errorf("country after update: got %q, %v; want gb", got, err)
			}
		})
	})
}

func TestIndexes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "posts", func(t *schema.Table) {
			t.Increments("id")
			t.String("title", 100).Index()
			t.String("slug", 100).Unique()
			t.Integer("a")
			t.Integer("b")
			t.Index("a", "b")
			t.Unique("b", "a").Name("custom_ba")
		}))
		want := []string{"custom_ba", "idx_posts_a_b", "idx_posts_title", "uniq_posts_slug"}
		if got := indexes(t, db, "posts"); !slices.Equal(got, want) {
			t.Errorf("indexes: got %v, want %v", got, want)
		}
		must(t, insert(t, db, "posts", query.Row{"title": "t", "slug": "s", "a": 1, "b": 2}))
		if err := insert(t, db, "posts", query.Row{"title": "t", "slug": "s2", "a": 1, "b": 2}); !errors.Is(err, query.ErrConflict) {
			t.Errorf("duplicate (b, a): got %v, want ErrConflict", err)
		}
		must(t, schema.Alter(ctx, db, "posts", func(t *schema.Table) {
			t.DropIndex("title")
			t.DropUnique("slug")
			t.DropIndexNamed("custom_ba")
			t.Index("b")
			t.Unique("title", "slug")
		}))
		want = []string{"idx_posts_a_b", "idx_posts_b", "uniq_posts_title_slug"}
		if got := indexes(t, db, "posts"); !slices.Equal(got, want) {
			t.Errorf("indexes after alter: got %v, want %v", got, want)
		}
		must(t, insert(t, db, "posts", query.Row{"title": "t", "slug": "s2", "a": 1, "b": 2}))
	})
}

func TestAlterColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "users", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 50).Index()
			t.Integer("age").Nullable()
		}))
		must(t, insert(t, db, "users", query.Row{"name": "ann", "age": 30}))
		must(t, schema.Alter(ctx, db, "users", func(t *schema.Table) {
			t.String("nick", 20).Nullable()
			t.Integer("score").Default(10)
			t.Boolean("active").Default(true)
			t.RenameColumn("name", "full_name")
			t.DropColumn("age")
		}))
		for col, want := range map[string]bool{"nick": true, "score": true, "active": true, "full_name": true, "name": false, "age": false} {
			if got := hasColumn(t, db, "users", col); got != want {
				t.Errorf("HasColumn(users, %s): got %v, want %v", col, got, want)
			}
		}
		type user struct {
			ID       int64   `db:"id"`
			FullName string  `db:"full_name"`
			Nick     *string `db:"nick"`
			Score    int     `db:"score"`
			Active   bool    `db:"active"`
		}
		got, err := query.Table[user](db, "users").Find(ctx, 1)
		must(t, err)
		if want := (user{ID: 1, FullName: "ann", Score: 10, Active: true}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		// The index followed the renamed column, under its old name.
		if got, want := indexes(t, db, "users"), []string{"idx_users_name"}; !slices.Equal(got, want) {
			t.Errorf("indexes: got %v, want %v", got, want)
		}
		// Dropping an indexed column drops its index, on both dialects.
		must(t, schema.Alter(ctx, db, "users", func(t *schema.Table) { t.DropColumn("full_name", "nick") }))
		if got := indexes(t, db, "users"); len(got) != 0 {
			t.Errorf("indexes after dropping the column: got %v, want none", got)
		}
		if hasColumn(t, db, "users", "full_name") || !hasColumn(t, db, "users", "score") {
			t.Error("DropColumn: full_name still there, or score gone")
		}
	})
}

func TestAlterChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "owners", func(t *schema.Table) {
			t.Increments("id")
		}))
		must(t, schema.Create(ctx, db, "items", func(t *schema.Table) {
			t.Increments("id")
			t.String("code", 10).Unique()
			t.Integer("qty").Nullable()
			t.String("note", 20).Nullable().Default("none")
			t.BigInt("owner_id").Nullable().References("owners", "id").OnDelete(schema.SetNull)
		}))
		must(t, schema.Create(ctx, db, "tags", func(t *schema.Table) {
			t.Increments("id")
			t.BigInt("item_id").References("items", "id").OnDelete(schema.Cascade)
		}))
		must(t, insert(t, db, "owners", query.Row{"id": 1}))
		for i, code := range []string{"a", "b", "c"} {
			must(t, insert(t, db, "items", query.Row{"code": code, "qty": i + 1, "owner_id": 1}))
		}
		must(t, insert(t, db, "tags", query.Row{"item_id": 1}))
		_, err := db.Table("items").Where("id", "=", 3).Delete(ctx)
		must(t, err)

		must(t, schema.Alter(ctx, db, "items", func(t *schema.Table) {
			t.BigInt("qty").Default(1).Change()
			t.Text("note").Nullable().Change()
		}))

		items := query.Table[item](db, "items")
		got, err := items.OrderBy("id").Get(ctx)
		must(t, err)
		none, one := "none", int64(1)
		want := []item{{1, "a", 1, &none, &one}, {2, "b", 2, &none, &one}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows: got %v, want %v", got, want)
		}
		// qty is NOT NULL with a default, note has none.
		if err := insert(t, db, "items", query.Row{"code": "x", "qty": nil}); !errors.Is(err, query.ErrNotNull) {
			t.Errorf("NULL qty: got %v, want ErrNotNull", err)
		}
		id, err := items.InsertID(ctx, item{Code: "d", Qty: 0})
		must(t, err)
		if id <= 3 {
			t.Errorf("id after the change: got %d, want more than 3 (ids are not used again)", id)
		}
		must(t, insert(t, db, "items", query.Row{"code": "e"}))
		e, err := items.Where("code", "=", "e").First(ctx)
		must(t, err)
		if e.Qty != 1 || e.Note != nil {
			t.Errorf("defaults after the change: got qty %d, note %v; want 1, NULL", e.Qty, e.Note)
		}
		// The unique index and both foreign keys are still there.
		if err := insert(t, db, "items", query.Row{"code": "a"}); !errors.Is(err, query.ErrConflict) {
			t.Errorf("duplicate code: got %v, want ErrConflict", err)
		}
		if err := insert(t, db, "items", query.Row{"code": "z", "owner_id": 9}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("missing owner: got %v, want ErrForeignKey", err)
		}
		_, err = db.Table("items").Where("id", "=", 1).Delete(ctx)
		must(t, err)
		if n, err := db.Table("tags").Count(ctx); err != nil || n != 0 {
			t.Errorf("tags after deleting their item: got %d, %v; want 0 (cascade)", n, err)
		}
		_, err = db.Table("owners").Delete(ctx)
		must(t, err)
		if n, err := db.Table("items").WhereNotNull("owner_id").Count(ctx); err != nil || n != 0 {
			t.Errorf("items with an owner after deleting it: got %d, %v; want 0 (set null)", n, err)
		}
		// Foreign keys are on again for the pool's connections.
		if err := insert(t, db, "tags", query.Row{"item_id": 99}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("tag of no item after the alter: got %v, want ErrForeignKey", err)
		}
	})
}

// item is a row of TestAlterChange's items.
type item struct {
	ID      int64   `db:"id"`
	Code    string  `db:"code"`
	Qty     int64   `db:"qty"`
	Note    *string `db:"note"`
	OwnerID *int64  `db:"owner_id"`
}

func (it item) String() string {
	note, owner := "NULL", "NULL"
	if it.Note != nil {
		note = *it.Note
	}
	if it.OwnerID != nil {
		owner = fmt.Sprint(*it.OwnerID)
	}
	return fmt.Sprintf("{%d %s %d %s %s}", it.ID, it.Code, it.Qty, note, owner)
}

// columnType returns the declared type of table's column, lower-cased.
func columnType(t testing.TB, db *query.DB, table, col string) string {
	t.Helper()
	var q string
	if db.Dialect().Name() == "sqlite" {
		q = "SELECT lower(type) FROM pragma_table_info(?) WHERE name = ?"
	} else {
		q = "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
	}
	typ, err := query.One[string](t.Context(), db, q, table, col)
	must(t, err)
	return typ
}

func TestAlterForeignKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "authors", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 20).Nullable()
		}))
		must(t, schema.Create(ctx, db, "books", func(t *schema.Table) {
			t.Increments("id")
			t.BigInt("author_id").Nullable()
		}))
		must(t, insert(t, db, "authors", query.Row{"id": 1}))
		must(t, insert(t, db, "books", query.Row{"author_id": 1}))
		must(t, insert(t, db, "books", query.Row{"author_id": 2}))

		addKey := func(t *schema.Table) {
			t.Foreign("author_id").References("authors", "id").OnDelete(schema.Cascade)
		}
		// A book of no author stops the key, and the alter changes nothing.
		if err := schema.Alter(ctx, db, "books", addKey); !errors.Is(err, query.ErrForeignKey) {
			t.Fatalf("key over a row that breaks it: got %v, want ErrForeignKey", err)
		}
		must(t, insert(t, db, "books", query.Row{"author_id": 3}))
		_, err := db.Table("books").Where("author_id", ">", 1).Delete(ctx)
		must(t, err)
		must(t, schema.Alter(ctx, db, "books", addKey))
		if err := insert(t, db, "books", query.Row{"author_id": 5}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("book of no author: got %v, want ErrForeignKey", err)
		}
		// A column added with a key.
		must(t, schema.Alter(ctx, db, "books", func(t *schema.Table) {
			t.BigInt("editor_id").Nullable().References("authors", "id").OnDelete(schema.SetNull)
		}))
		if err := insert(t, db, "books", query.Row{"author_id": 1, "editor_id": 7}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("book of no editor: got %v, want ErrForeignKey", err)
		}
		must(t, insert(t, db, "books", query.Row{"author_id": 1, "editor_id": 1}))
		_, err = db.Table("authors").Where("id", "=", 1).Delete(ctx)
		must(t, err)
		if n, err := db.Table("books").Count(ctx); err != nil || n != 0 {
			t.Errorf("books after deleting their author: got %d, %v; want 0 (cascade)", n, err)
		}
		must(t, schema.Alter(ctx, db, "books", func(t *schema.Table) {
			t.DropForeign("author_id")
			t.DropForeign("editor_id")
		}))
		must(t, insert(t, db, "books", query.Row{"author_id": 5, "editor_id": 6}))
		if err := schema.Alter(ctx, db, "books", func(t *schema.Table) { t.DropForeign("author_id") }); err == nil {
			t.Error("DropForeign of no key: got nil error")
		}
	})
}

func TestAlterPrimary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "pairs", func(t *schema.Table) {
			t.Integer("a")
			t.Integer("b")
		}))
		must(t, insert(t, db, "pairs", query.Row{"a": 1, "b": 1}))
		must(t, schema.Alter(ctx, db, "pairs", func(t *schema.Table) { t.Primary("a", "b") }))
		if err := insert(t, db, "pairs", query.Row{"a": 1, "b": 1}); !errors.Is(err, query.ErrConflict) {
			t.Errorf("duplicate key: got %v, want ErrConflict", err)
		}
		if err := schema.Alter(ctx, db, "pairs", func(t *schema.Table) { t.Primary("b") }); err == nil {
			t.Error("a second primary key: got nil error")
		}
		// Dropping a key column drops the key, as PostgreSQL does.
		must(t, schema.Alter(ctx, db, "pairs", func(t *schema.Table) { t.DropColumn("b") }))
		must(t, insert(t, db, "pairs", query.Row{"a": 1}))
	})
}

// TestAlterInTransaction runs alters inside the caller's transaction. On
// SQLite, a rebuild there cannot turn foreign keys off: it works on a
// table that no key references and fails, changing nothing, on one that a
// key does.
func TestAlterInTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "teams", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 10)
		}))
		must(t, schema.Create(ctx, db, "players", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 10)
			t.BigInt("team_id").References("teams", "id")
		}))
		must(t, insert(t, db, "teams", query.Row{"name": "a"}))
		must(t, insert(t, db, "players", query.Row{"name": "p", "team_id": 1}))
		widen := func(table string) func(tx *query.Tx) error {
			return func(tx *query.Tx) error {
				return schema.Alter(ctx, tx, table, func(t *schema.Table) { t.String("name", 50).Change() })
			}
		}
		must(t, db.Transaction(ctx, widen("players")))
		err := db.Transaction(ctx, widen("teams"))
		if tg.Name == "sqlite" {
			if !errors.Is(err, query.ErrInvalid) {
				t.Errorf("rebuild of a referenced table in a transaction: got %v, want ErrInvalid", err)
			}
		} else {
			must(t, err)
		}
		// A transaction that rolls back takes its alters with it.
		errRollback := errors.New("roll back")
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			must(t, schema.Alter(ctx, tx, "players", func(t *schema.Table) { t.Integer("age").Nullable() }))
			must(t, schema.Create(ctx, tx, "coaches", func(t *schema.Table) { t.Increments("id") }))
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if hasColumn(t, db, "players", "age") || hasTable(t, db, "coaches") {
			t.Error("rolled back transaction: its alter or create stayed")
		}
		if n, err := db.Table("players").Count(ctx); err != nil || n != 1 {
			t.Errorf("players: got %d, %v; want 1", n, err)
		}
	})
}

func TestRenameDrop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "users", func(t *schema.Table) {
			t.Increments("id")
			t.String("email", 50).Unique()
		}))
		must(t, schema.Create(ctx, db, "logins", func(t *schema.Table) {
			t.Increments("id")
			t.BigInt("user_id").References("users", "id").OnDelete(schema.Cascade)
		}))
		must(t, insert(t, db, "users", query.Row{"email": "a"}))
		must(t, schema.Rename(ctx, db, "users", "people"))
		if hasTable(t, db, "users") || !hasTable(t, db, "people") {
			t.Fatal("after Rename(users, people): users still there or people missing")
		}
		// The foreign key followed, and the index kept its name.
		if err := insert(t, db, "logins", query.Row{"user_id": 2}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("login of no person: got %v, want ErrForeignKey", err)
		}
		must(t, insert(t, db, "logins", query.Row{"user_id": 1}))
		if got := indexes(t, db, "people"); !slices.Equal(got, []string{"uniq_users_email"}) {
			t.Errorf("indexes of people: got %v, want [uniq_users_email]", got)
		}
		must(t, schema.Drop(ctx, db, "logins"))
		must(t, schema.Drop(ctx, db, "people"))
		if hasTable(t, db, "people") || hasTable(t, db, "logins") {
			t.Error("dropped tables are still there")
		}
		must(t, schema.DropIfExists(ctx, db, "people"))
		if err := schema.Drop(ctx, db, "people"); err == nil {
			t.Error("Drop of no table: got nil error")
		}
		if err := schema.Rename(ctx, db, "people", "users"); err == nil {
			t.Error("Rename of no table: got nil error")
		}
	})
}

func TestHasTableColumn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "things", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 10)
		}))
		_, err := db.Exec(ctx, "CREATE VIEW thing_names AS SELECT name FROM things")
		must(t, err)
		for _, tc := range []struct {
			table, col   string
			table_, col_ bool
		}{
			{"things", "name", true, true},
			{"things", "nope", true, false},
			{"nope", "name", false, false},
			{"thing_names", "name", false, true}, // a view is no table, but has columns
			{"nope.things", "name", false, false},
		} {
			if got := hasTable(t, db, tc.table); got != tc.table_ {
				t.Errorf("HasTable(%s): got %v, want %v", tc.table, got, tc.table_)
			}
			if got := hasColumn(t, db, tc.table, tc.col); got != tc.col_ {
				t.Errorf("HasColumn(%s, %s): got %v, want %v", tc.table, tc.col, got, tc.col_)
			}
		}
	})
}

// TestQualified uses names with a schema: main on SQLite, the target's own
// on PostgreSQL.
func TestQualified(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		s := "main"
		if tg.Name == "postgres" {
			var err error
			s, err = query.One[string](ctx, db, "SELECT current_schema()")
			must(t, err)
		}
		table := s + ".orders"
		must(t, schema.Create(ctx, db, table, func(t *schema.Table) {
			t.Increments("id")
			t.String("ref", 10).Unique()
			t.Integer("qty").Nullable()
		}))
		if !hasTable(t, db, table) || !hasColumn(t, db, table, "ref") {
			t.Fatalf("HasTable/HasColumn(%s): false", table)
		}
		must(t, insert(t, db, "orders", query.Row{"ref": "a", "qty": 1}))
		must(t, schema.Alter(ctx, db, table, func(t *schema.Table) {
			t.DropUnique("ref")
			t.Index("ref")
			t.BigInt("qty").Default(0).Change()
		}))
		if got := indexes(t, db, "orders"); !slices.Equal(got, []string{"idx_orders_ref"}) {
			t.Errorf("indexes: got %v, want [idx_orders_ref]", got)
		}
		if got := columnType(t, db, "orders", "qty"); got != "bigint" {
			t.Errorf("qty's type: got %s, want bigint", got)
		}
		must(t, schema.Rename(ctx, db, table, "purchases"))
		must(t, schema.Drop(ctx, db, s+".purchases"))
		if hasTable(t, db, "purchases") {
			t.Error("purchases still there")
		}
	})
}

// TestInvalid gives invalid names and other mistakes: each fails with
// ErrInvalid and runs nothing.
func TestInvalid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "users", func(t *schema.Table) {
			t.Increments("id")
			t.String("name", 10)
		}))
		id := func(t *schema.Table) { t.Increments("id") }
		for _, tc := range []struct {
			name  string
			table string
			fn    func(t *schema.Table)
		}{
			{"table", `things"; DROP TABLE users; --`, id},
			{"table with three parts", "a.b.things", id},
			{"column", "things", func(t *schema.Table) { id(t); t.String(`name" TEXT, "x`, 10) }},
			{"dotted column", "things", func(t *schema.Table) { id(t); t.Integer("a.b") }},
			{"index column", "things", func(t *schema.Table) { id(t); t.Index("bad col") }},
			{"index name", "things", func(t *schema.Table) { id(t); t.Index("id").Name("1x") }},
			{"referenced table", "things", func(t *schema.Table) { id(t); t.BigInt("u").References("users;", "id") }},
			{"referenced column", "things", func(t *schema.Table) { id(t); t.BigInt("u").References("users", "i d") }},
			{"primary", "things", func(t *schema.Table) { t.Integer("a"); t.Primary("a)") }},
			{"foreign", "things", func(t *schema.Table) { id(t); t.Foreign("x-y").References("users", "id") }},
			{"missing column", "things", func(t *schema.Table) { id(t); t.Index("nope") }},
			{"drop in create", "things", func(t *schema.Table) { id(t); t.DropColumn("id") }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := schema.Create(ctx, db, tc.table, tc.fn); !errors.Is(err, query.ErrInvalid) {
					t.Errorf("Create: got %v, want ErrInvalid", err)
				}
				if tc.table == "things" && hasTable(t, db, "things") {
					t.Error("Create made the table")
				}
			})
		}
		for _, tc := range []struct {
			name string
			fn   func(t *schema.Table)
		}{
			{"drop column", func(t *schema.Table) { t.Integer("ok").Nullable(); t.DropColumn("name; --") }},
			{"rename from", func(t *schema.Table) { t.Integer("ok").Nullable(); t.RenameColumn("x y", "z") }},
			{"rename to", func(t *schema.Table) { t.Integer("ok").Nullable(); t.RenameColumn("name", "") }},
			{"drop index", func(t *schema.Table) { t.Integer("ok").Nullable(); t.DropIndexNamed("idx;") }},
			{"drop foreign", func(t *schema.Table) { t.Integer("ok").Nullable(); t.DropForeign("1") }},
			{"change", func(t *schema.Table) { t.Integer("ok").Nullable(); t.Text("na me").Change() }},
		} {
			t.Run("alter "+tc.name, func(t *testing.T) {
				if err := schema.Alter(ctx, db, "users", tc.fn); !errors.Is(err, query.ErrInvalid) {
					t.Errorf("Alter: got %v, want ErrInvalid", err)
				}
				if hasColumn(t, db, "users", "ok") {
					t.Error("Alter added a column")
				}
			})
		}
		bad := `users"--`
		for name, err := range map[string]error{
			"Rename from":         schema.Rename(ctx, db, bad, "x"),
			"Rename to":           schema.Rename(ctx, db, "users", bad),
			"Rename to qualified": schema.Rename(ctx, db, "users", "main.x"),
			"Drop":                schema.Drop(ctx, db, bad),
			"DropIfExists":        schema.DropIfExists(ctx, db, bad),
		} {
			if !errors.Is(err, query.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", name, err)
			}
		}
		if _, err := schema.HasTable(ctx, db, bad); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("HasTable: got %v, want ErrInvalid", err)
		}
		if _, err := schema.HasColumn(ctx, db, "users", bad); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("HasColumn: got %v, want ErrInvalid", err)
		}
		if !hasTable(t, db, "users") {
			t.Error("users is gone")
		}
	})
}

// TestCreateRollsBack makes a Create whose CREATE INDEX fails: the table
// it created first goes too.
func TestCreateRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "first", func(t *schema.Table) {
			t.Increments("id")
			t.Integer("a")
			t.Index("a").Name("shared")
		}))
		err := schema.Create(ctx, db, "second", func(t *schema.Table) {
			t.Increments("id")
			t.Integer("b")
			t.Index("b").Name("shared")
		})
		if err == nil {
			t.Fatal("Create with an index name taken: got nil error")
		}
		if hasTable(t, db, "second") {
			t.Error("the failed Create left its table")
		}
		if err := schema.Create(ctx, db, "first", func(t *schema.Table) { t.Increments("id") }); err == nil {
			t.Error("Create of a table that exists: got nil error")
		}
	})
}

// TestAlterRollsBack makes an Alter whose last change fails: the changes
// before it are undone.
func TestAlterRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "notes", func(t *schema.Table) {
			t.Increments("id")
			t.String("body", 20).Nullable()
		}))
		must(t, insert(t, db, "notes", query.Row{"body": nil}))
		err := schema.Alter(ctx, db, "notes", func(t *schema.Table) {
			t.Integer("rank").Nullable()
			t.RenameColumn("id", "note_id")
			t.Text("body").Change() // NOT NULL, over a NULL
		})
		if !errors.Is(err, query.ErrNotNull) {
			t.Fatalf("Alter to NOT NULL over a NULL: got %v, want ErrNotNull", err)
		}
		if hasColumn(t, db, "notes", "rank") || hasColumn(t, db, "notes", "note_id") || !hasColumn(t, db, "notes", "id") {
			t.Error("the failed Alter left some of its changes")
		}
		if got := columnType(t, db, "notes", "body"); got != "character varying" && got != "varchar(20)" {
			t.Errorf("body's type: got %s, want varchar(20)", got)
		}
	})
}

// TestSQLiteRebuildKeeps checks what SQLite's table rebuild keeps: views
// and triggers on the table, and the ids AUTOINCREMENT gave out.
func TestSQLiteRebuildKeeps(t *testing.T) {
	ctx := t.Context()
	db := open(t, dbtest.SQLite(t))
	must(t, schema.Create(ctx, db, "events", func(t *schema.Table) {
		t.Increments("id")
		t.String("kind", 10).Index()
		t.Integer("n").Nullable()
	}))
	must(t, schema.Create(ctx, db, "audit", func(t *schema.Table) {
		t.Increments("id")
		t.String("kind", 10)
	}))
	for _, q := range []string{
		"CREATE VIEW event_kinds AS SELECT DISTINCT kind FROM events",
		"CREATE TRIGGER events_audit AFTER INSERT ON events BEGIN INSERT INTO audit (kind) VALUES (new.kind); END",
		"CREATE TABLE checked (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0))",
	} {
		_, err := db.Exec(ctx, q)
		must(t, err)
	}
	for range 3 {
		must(t, insert(t, db, "events", query.Row{"kind": "a", "n": 1}))
	}
	_, err := db.Table("events").Where("id", "=", 3).Delete(ctx)
	must(t, err)
	must(t, schema.Alter(ctx, db, "events", func(t *schema.Table) {
		t.BigInt("n").Default(0).Change()
		t.Timestamp("at").DefaultNow() // not addable by ALTER TABLE: rebuilt too
	}))
	must(t, insert(t, db, "events", query.Row{"kind": "b"}))
	if err := insert(t, db, "events", query.Row{"kind": "c", "n": nil}); !errors.Is(err, query.ErrNotNull) {
		t.Errorf("NULL n: got %v, want ErrNotNull", err)
	}
	id, err := query.One[int64](ctx, db, "SELECT max(id) FROM events")
	if err != nil || id != 4 {
		t.Errorf("id after the rebuild: got %d, %v; want 4", id, err)
	}
	kinds, err := query.All[string](ctx, db, "SELECT kind FROM event_kinds ORDER BY kind")
	if err != nil || !slices.Equal(kinds, []string{"a", "b"}) {
		t.Errorf("view after the rebuild: got %v, %v; want [a b]", kinds, err)
	}
	if n, err := db.Table("audit").Count(ctx); err != nil || n != 4 { // the failed insert's rolled back
		t.Errorf("audit rows: got %d, %v; want 4 (the trigger still fires)", n, err)
	}
	if got := indexes(t, db, "events"); !slices.Equal(got, []string{"idx_events_kind"}) {
		t.Errorf("indexes: got %v, want [idx_events_kind]", got)
	}
	if n, err := query.One[int64](ctx, db, "SELECT count(*) FROM events WHERE at IS NULL OR n IS NULL"); err != nil || n != 0 {
		t.Errorf("rows without the defaults: got %d, %v; want 0", n, err)
	}
	// A table with a CHECK constraint is not rebuilt: it would lose it.
	err = schema.Alter(ctx, db, "checked", func(t *schema.Table) { t.BigInt("n").Change() })
	if !errors.Is(err, query.ErrInvalid) {
		t.Errorf("rebuild of a table with CHECK: got %v, want ErrInvalid", err)
	}
}

// TestConcurrent creates and alters tables from several goroutines at once.
func TestConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "shared", func(t *schema.Table) { t.Increments("id") }))
		errs := make(chan error, 16)
		for i := range 8 {
			go func() {
				table := fmt.Sprintf("t%d", i)
				err := schema.Create(ctx, db, table, func(t *schema.Table) {
					t.Increments("id")
					t.BigInt("shared_id").Nullable().References("shared", "id")
				})
				if err == nil {
					err = schema.Alter(ctx, db, table, func(t *schema.Table) {
						t.String("name", 10).Default("x")
						t.Integer("shared_id").Nullable().Change()
					})
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		for i := range 8 {
			if !hasColumn(t, db, fmt.Sprintf("t%d", i), "name") {
				t.Errorf("t%d has no column name", i)
			}
		}
	})
}

// TestReferencedColumns renames and rebuilds tables whose columns foreign
// keys reference: a unique column, the table's own key, a renamed column.
func TestReferencedColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := open(t, tg)
		must(t, schema.Create(ctx, db, "accounts", func(t *schema.Table) {
			t.Increments("id")
			t.String("login", 20).Unique()
		}))
		must(t, schema.Create(ctx, db, "nodes", func(t *schema.Table) {
			t.Increments("id")
			t.BigInt("parent_id").Nullable().References("nodes", "id").OnDelete(schema.Cascade)
			t.String("owner", 20).Nullable().References("accounts", "login").OnUpdate(schema.Cascade)
		}))
		must(t, insert(t, db, "accounts", query.Row{"login": "ann"}))
		must(t, insert(t, db, "nodes", query.Row{"owner": "ann"}))
		must(t, insert(t, db, "nodes", query.Row{"parent_id": 1, "owner": "ann"}))

		// A rebuild of a table that references itself keeps its rows.
		must(t, schema.Alter(ctx, db, "nodes", func(t *schema.Table) {
			t.Text("owner").Nullable().Change()
			t.String("label", 10).Nullable()
		}))
		if n, err := db.Table("nodes").Count(ctx); err != nil || n != 2 {
			t.Fatalf("nodes after the rebuild: got %d, %v; want 2", n, err)
		}
		// Renaming a referenced column takes the keys along, on its own or
		// in an alter that rebuilds.
		must(t, schema.Alter(ctx, db, "accounts", func(t *schema.Table) { t.RenameColumn("login", "name") }))
		must(t, schema.Alter(ctx, db, "nodes", func(t *schema.Table) {
			t.RenameColumn("id", "node_id")
			t.String("label", 20).Nullable().Change()
		}))
		if err := insert(t, db, "nodes", query.Row{"owner": "bob"}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("node of no account: got %v, want ErrForeignKey", err)
		}
		if err := insert(t, db, "nodes", query.Row{"parent_id": 9}); !errors.Is(err, query.ErrForeignKey) {
			t.Errorf("node of no parent: got %v, want ErrForeignKey", err)
		}
		_, err := db.Table("accounts").Update(ctx, query.Set{"name": "anne"})
		must(t, err)
		if n, err := db.Table("nodes").Where("owner", "=", "anne").Count(ctx); err != nil || n != 2 {
			t.Errorf("nodes of anne: got %d, %v; want 2 (on update cascade)", n, err)
		}
		_, err = db.Table("nodes").Where("node_id", "=", 1).Delete(ctx)
		must(t, err)
		if n, err := db.Table("nodes").Count(ctx); err != nil || n != 0 {
			t.Errorf("nodes after deleting the root: got %d, %v; want 0 (cascade)", n, err)
		}
		// A referenced column cannot be dropped.
		if err := schema.Alter(ctx, db, "accounts", func(t *schema.Table) { t.DropColumn("name") }); err == nil {
			t.Error("drop of a referenced column: got nil error")
		}
		if !hasColumn(t, db, "accounts", "name") {
			t.Error("the referenced column is gone")
		}
	})
}
