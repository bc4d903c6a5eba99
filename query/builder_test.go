package query_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// TestWhere runs each kind of condition on the library and compares the
// books it finds.
func TestWhere(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		books := query.Table[book](db, "books")
		tests := []struct {
			name string
			q    query.Query[book]
			want []int64
		}{
			{"all", books, []int64{1, 2, 3, 4, 5, 6, 7}},
			{"=", books.Where("title", "=", "Emma"), []int64{6}},
			{"!= leaves out NULL", books.Where("genre", "!=", "novel"), []int64{5}},
			{"<>", books.Where("genre", "<>", "novel"), []int64{5}},
			{"<", books.Where("year", "<", 1900), []int64{6}},
			{"<=", books.Where("year", "<=", 1906), []int64{2, 6}},
			{">", books.Where("year", ">", 2000), []int64{4, 5}},
			{">=", books.Where("year", ">=", 2000), []int64{4, 5, 7}},
			{"like", books.Where("title", "like", "K%"), []int64{1, 4}},
			{"LIKE in capitals", books.Where("title", "LIKE", "K%"), []int64{1, 4}},
			{"not like", books.Where("title", "not like", "%n%"), []int64{1, 5, 6}},
			{"where and where", books.Where("year", ">", 1900).Where("year", "<", 2000), []int64{1, 2, 3}},
			{"or where", books.Where("year", "<", 1900).OrWhere("title", "=", "Orphan"), []int64{6, 7}},
			{"in values", books.WhereIn("id", 2, 4, 9), []int64{2, 4}},
			{"in a slice", books.WhereIn("id", []int64{3, 5}), []int64{3, 5}},
			{"in a slice of strings", books.WhereIn("title", []string{"Emma", "Kokoro"}), []int64{1, 6}},
			{"in nothing", books.WhereIn("id"), nil},
			{"in an empty slice", books.WhereIn("id", []int{}), nil},
			{"or in", books.Where("id", "=", 1).OrWhereIn("id", []int{7}), []int64{1, 7}},
			{"not in", books.WhereNotIn("id", 1, 2, 3), []int64{4, 5, 6, 7}},
			{"not in a slice", books.WhereNotIn("id", []int{1, 2, 3, 4, 5}), []int64{6, 7}},
			{"not in nothing", books.WhereNotIn("id"), []int64{1, 2, 3, 4, 5, 6, 7}},
			{"null", books.WhereNull("author_id"), []int64{7}},
			{"not null", books.WhereNotNull("price"), []int64{1, 2, 3, 4, 5, 6}},
			{"or null", books.Where("year", "<", 1900).OrWhereNull("price"), []int64{6, 7}},
			{"or not null", books.WhereNull("price").OrWhereNotNull("genre"), []int64{1, 2, 3, 4, 5, 6, 7}},
			{"between", books.WhereBetween("year", 1900, 2000), []int64{1, 2, 3, 7}},
			{"not between", books.WhereNotBetween("year", 1900, 2000), []int64{4, 5, 6}},
			{"or between", books.Where("id", "=", 6).OrWhereBetween("year", 2001, 2010), []int64{4, 5, 6}},
			{"group", books.Where("genre", "=", "novel").WhereGroup(func(c query.Conds) query.Conds {
				return c.Where("year", "<", 1910).OrWhere("year", ">", 2000)
			}), []int64{2, 4, 6}},
			{"without the group", books.Where("genre", "=", "novel").Where("year", "<", 1910).OrWhere("year", ">", 2000),
				[]int64{2, 4, 5, 6}},
			{"or group", books.Where("id", "=", 7).OrWhereGroup(func(c query.Conds) query.Conds {
				return c.WhereIn("author_id", 2, 3).Where("genre", "=", "essay")
			}), []int64{5, 7}},
			{"group of nulls and betweens", books.WhereGroup(func(c query.Conds) query.Conds {
				return c.WhereNull("genre").OrWhereNull("author_id").OrWhere("id", "=", 1)
			}).WhereGroup(func(c query.Conds) query.Conds {
				return c.WhereBetween("year", 1900, 2000)
			}), []int64{1, 7}},
			{"empty group", books.WhereGroup(func(c query.Conds) query.Conds { return c }), []int64{1, 2, 3, 4, 5, 6, 7}},
			{"raw", books.WhereRaw("year % ? = 0 AND title <> ?", 2, "Kokoro"), []int64{2, 4, 7}},
			{"raw with a quoted ?", books.WhereRaw("title <> '?' AND id = ?", 3), []int64{3}},
			{"raw and where", books.Where("year", ">", 1900).WhereRaw("price > ?", 12.5).Where("id", "<", 5), []int64{3, 4}},
			{"column", books.WhereColumn("id", "=", "author_id"), []int64{1}},
			{"column <", books.WhereColumn("author_id", "<", "id").Where("year", ">", 2000), []int64{4, 5}},
			{"qualified", books.Where("books.year", "<", 1900), []int64{6}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.q.Get(ctx)
				if err != nil {
					t.Fatal(err)
				}
				ids := bookIDs(got)
				slices.Sort(ids)
				if !slices.Equal(ids, tt.want) {
					sql, args, _ := tt.q.ToSQL()
					t.Errorf("got %v, want %v\n%s %v", ids, tt.want, sql, args)
				}
			})
		}
		if tg.Name == "postgres" {
			got, err := books.Where("title", "ilike", "k%").OrderBy("id").Get(ctx)
			if ids := bookIDs(got); err != nil || !slices.Equal(ids, []int64{1, 4}) {
				t.Errorf("ilike: got %v, %v; want [1 4]", ids, err)
			}
		}
	})
}

// TestSelect covers what a query reads and in what order: columns,
// aliases, joins, grouping, ordering, limits.
func TestSelect(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		books := query.Table[book](db, "books")

		ordered := []struct {
			name string
			q    query.Query[book]
			want []int64
		}{
			{"order by", books.OrderBy("year"), []int64{6, 2, 1, 3, 7, 4, 5}},
			{"order by desc", books.OrderByDesc("year"), []int64{5, 4, 7, 3, 1, 2, 6}},
			{"order by several", books.WhereNotNull("author_id").OrderBy("author_id").OrderByDesc("year"), []int64{1, 2, 5, 4, 3, 6}},
			{"limit", books.OrderBy("id").Limit(3), []int64{1, 2, 3}},
			{"limit 0", books.OrderBy("id").Limit(0), nil},
			{"limit and offset", books.OrderBy("id").Limit(2).Offset(1), []int64{2, 3}},
			{"offset without limit", books.OrderBy("id").Offset(5), []int64{6, 7}},
			{"offset past the end", books.OrderBy("id").Offset(50), nil},
			{"after", books.After("id", 3).Limit(2), []int64{4, 5}},
			{"before", books.Before("id", 3), []int64{2, 1}},
			{"join", books.Select("books.*").Join("authors", "books.author_id", "=", "authors.id").
				Where("authors.country", "=", "JP").OrderBy("books.id"), []int64{1, 2, 3, 4, 5}},
			{"join with aliases", query.Table[book](db, "books AS b").Select("b.*").Join("authors AS a", "b.author_id", "=", "a.id").
				Where("a.name", "=", "Austen"), []int64{6}},
			{"left join", books.Select("books.*").LeftJoin("authors", "books.author_id", "=", "authors.id").
				WhereNull("authors.id"), []int64{7}},
		}
		for _, tt := range ordered {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.q.Get(ctx)
				if ids := bookIDs(got); err != nil || !slices.Equal(ids, tt.want) {
					sql, args, _ := tt.q.ToSQL()
					t.Errorf("got %v, %v; want %v\n%s %v", ids, err, tt.want, sql, args)
				}
			})
		}

		t.Run("columns and aliases", func(t *testing.T) {
			type titleYear struct {
				T string
				Y int
			}
			got, err := query.Table[titleYear](db, "books").Select("title AS t", "year as y").Where("id", "=", 6).First(ctx)
			if err != nil || got != (titleYear{"Emma", 1815}) {
				t.Errorf("got %+v, %v; want {Emma 1815}", got, err)
			}
			row, err := db.Table("books").Select("title AS name").Where("id", "=", 1).First(ctx)
			if err != nil || len(row) != 1 || row["name"] != "Kokoro" {
				t.Errorf("Row: got %v, %v; want map[name:Kokoro]", row, err)
			}
			// A struct reads only its own columns by default.
			type titleOnly struct{ Title string }
			ts, err := query.Table[titleOnly](db, "books").Where("id", "<", 3).OrderBy("id").Get(ctx)
			if err != nil || !slices.Equal(ts, []titleOnly{{"Kokoro"}, {"Botchan"}}) {
				t.Errorf("titleOnly: got %v, %v", ts, err)
			}
			// * reads every column into a Row.
			row, err = db.Table("books").Select("*").Where("id", "=", 7).First(ctx)
			if err != nil || len(row) != 6 || row["price"] != nil || row["title"] != "Orphan" {
				t.Errorf("Select(*): got %v, %v", row, err)
			}
		})

		t.Run("right join", func(t *testing.T) {
			if tg.Name == "sqlite" {
				v, err := query.One[string](ctx, db, "SELECT sqlite_version()")
				if err != nil {
					t.Fatal(err)
				}
				var major, minor int
				fmt.Sscanf(v, "%d.%d", &major, &minor)
				if major == 3 && minor < 39 {
					t.Skipf("SQLite %s has no RIGHT JOIN", v)
				}
			}
			got, err := query.Table[author](db, "books").Select("authors.*").
				RightJoin("authors", "books.author_id", "=", "authors.id").WhereNull("books.id").Get(ctx)
			if err != nil || len(got) != 1 || got[0].Name != "Nobody" || got[0].Country != nil {
				t.Errorf("got %+v, %v; want Nobody", got, err)
			}
		})

		t.Run("distinct", func(t *testing.T) {
			type authorID struct{ AuthorID int64 }
			q := query.Table[authorID](db, "books").Select("author_id").Distinct().WhereNotNull("author_id")
			got, err := q.OrderBy("author_id").Get(ctx)
			if err != nil || !slices.Equal(got, []authorID{{1}, {2}, {3}}) {
				t.Errorf("got %v, %v; want [{1} {2} {3}]", got, err)
			}
			if n, err := q.Count(ctx); err != nil || n != 3 {
				t.Errorf("Count = %d, %v; want 3", n, err)
			}
			// NULL is a distinct value of its own.
			if n, err := books.Select("genre").Distinct().Count(ctx); err != nil || n != 3 {
				t.Errorf("Count of distinct genres = %d, %v; want 3", n, err)
			}
		})

		t.Run("group by and having", func(t *testing.T) {
			type authorCount struct {
				AuthorID int64
				N        int64
			}
			counts := query.Table[authorCount](db, "books").SelectRaw("author_id, COUNT(*) AS n").
				WhereNotNull("author_id").GroupBy("author_id").OrderBy("author_id")
			tests := []struct {
				name string
				q    query.Query[authorCount]
				want []authorCount
			}{
				{"group by", counts, []authorCount{{1, 2}, {2, 3}, {3, 1}}},
				{"having raw", counts.HavingRaw("COUNT(*) > ?", 1), []authorCount{{1, 2}, {2, 3}}},
				{"having", counts.Having("author_id", "<>", 1), []authorCount{{2, 3}, {3, 1}}},
				{"having and having raw", counts.Having("author_id", ">", 1).HavingRaw("COUNT(*) < ?", 2), []authorCount{{3, 1}}},
			}
			for _, tt := range tests {
				got, err := tt.q.Get(ctx)
				if err != nil || !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
				}
			}
			// Count of a grouped query counts the groups (NULL is one).
			if n, err := books.GroupBy("author_id").Count(ctx); err != nil || n != 4 {
				t.Errorf("Count of groups = %d, %v; want 4", n, err)
			}
			if n, err := counts.HavingRaw("COUNT(*) > ?", 1).Count(ctx); err != nil || n != 2 {
				t.Errorf("Count of groups having more than one = %d, %v; want 2", n, err)
			}
			if ok, err := counts.HavingRaw("COUNT(*) > ?", 5).Exists(ctx); err != nil || ok {
				t.Errorf("Exists of groups having more than 5 = %v, %v; want false", ok, err)
			}
		})

		t.Run("select raw", func(t *testing.T) {
			type xt struct {
				X int64
				T string
			}
			got, err := query.Table[xt](db, "books").SelectRaw("year + ? AS x, title AS t", 10).Where("id", "=", 6).First(ctx)
			if err != nil || got != (xt{1825, "Emma"}) {
				t.Errorf("got %+v, %v; want {1825 Emma}", got, err)
			}
			n, err := query.Table[int64](db, "books").SelectRaw("COUNT(*)").Where("year", ">", 2000).First(ctx)
			if err != nil || n != 2 {
				t.Errorf("SelectRaw(COUNT(*)) = %d, %v; want 2", n, err)
			}
		})

		t.Run("each", func(t *testing.T) {
			var seen []int64
			err := books.OrderBy("id").Each(ctx, func(b *book) bool {
				seen = append(seen, b.ID)
				return b.ID < 3
			})
			if err != nil || !slices.Equal(seen, []int64{1, 2, 3}) {
				t.Errorf("Each stopped after %v, %v; want [1 2 3]", seen, err)
			}
		})
	})
}

// TestTerminal covers the methods that run a query and return one thing.
func TestTerminal(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		mustExec(t, db, `CREATE TABLE empty (id INTEGER PRIMARY KEY, n INTEGER, s TEXT)`)
		books := query.Table[book](db, "books")
		none := books.Where("id", "<", 0)
		empty := db.Table("empty")

		b, err := books.OrderByDesc("year").First(ctx)
		if err != nil || b.ID != 5 {
			t.Errorf("First = %d, %v; want 5", b.ID, err)
		}
		if _, err := none.First(ctx); !errors.Is(err, query.ErrNotFound) {
			t.Errorf("First of none: %v, want ErrNotFound", err)
		}
		if b, err := books.Find(ctx, 6); err != nil || b.Title != "Emma" || *b.AuthorID != 3 || *b.Price != 9 {
			t.Errorf("Find(6) = %+v, %v; want Emma", b, err)
		}
		if _, err := books.Find(ctx, 99); !errors.Is(err, query.ErrNotFound) {
			t.Errorf("Find(99): %v, want ErrNotFound", err)
		}
		if b, err := books.Key("title").Find(ctx, "Botchan"); err != nil || b.ID != 2 {
			t.Errorf("Key(title).Find(Botchan) = %d, %v; want 2", b.ID, err)
		}
		if r, err := db.Table("authors").Find(ctx, 2); err != nil || r["name"] != "Murakami" {
			t.Errorf("Row Find(2) = %v, %v; want Murakami", r, err)
		}

		counts := []struct {
			name string
			q    query.Query[book]
			want int64
		}{
			{"all", books, 7},
			{"where", books.Where("year", ">", 2000), 2},
			{"none", none, 0},
			{"ignores limit and order", books.OrderBy("id").Limit(2).Offset(1), 7},
			{"joined", books.Join("authors", "books.author_id", "=", "authors.id").Where("authors.country", "=", "JP"), 5},
		}
		for _, c := range counts {
			if n, err := c.q.Count(ctx); err != nil || n != c.want {
				t.Errorf("Count %s = %d, %v; want %d", c.name, n, err, c.want)
			}
			if ok, err := c.q.Exists(ctx); err != nil || ok != (c.want > 0) {
				t.Errorf("Exists %s = %v, %v; want %v", c.name, ok, err, c.want > 0)
			}
		}
		if n, err := empty.Count(ctx); err != nil || n != 0 {
			t.Errorf("Count of an empty table = %d, %v", n, err)
		}

		var year int
		if err := books.Min(ctx, "year", &year); err != nil || year != 1815 {
			t.Errorf("Min(year) = %d, %v; want 1815", year, err)
		}
		if err := books.Max(ctx, "year", &year); err != nil || year != 2007 {
			t.Errorf("Max(year) = %d, %v; want 2007", year, err)
		}
		var title string
		if err := books.Min(ctx, "title", &title); err != nil || title != "Botchan" {
			t.Errorf("Min(title) = %q, %v; want Botchan", title, err)
		}
		var price float64
		if err := books.Where("author_id", "=", 2).Max(ctx, "price", &price); err != nil || price != 18 {
			t.Errorf("Max(price) of author 2 = %v, %v; want 18", price, err)
		}
		if s, err := books.Sum(ctx, "price"); err != nil || s != 72 {
			t.Errorf("Sum(price) = %v, %v; want 72", s, err)
		}
		if s, err := books.Sum(ctx, "year"); err != nil || s != 13631 {
			t.Errorf("Sum(year) = %v, %v; want 13631", s, err)
		}
		if a, err := books.WhereNotNull("price").Avg(ctx, "price"); err != nil || a != 12 {
			t.Errorf("Avg(price) = %v, %v; want 12", a, err)
		}

		// No rows: Min, Max and Avg have no answer, a sum is 0.
		for name, q := range map[string]query.Query[query.Row]{"empty table": empty, "no match": db.Table("books").Where("id", "<", 0)} {
			var n int64
			if err := q.Min(ctx, "id", &n); !errors.Is(err, query.ErrNotFound) {
				t.Errorf("%s: Min: %v, want ErrNotFound", name, err)
			}
			if err := q.Max(ctx, "id", &n); !errors.Is(err, query.ErrNotFound) {
				t.Errorf("%s: Max: %v, want ErrNotFound", name, err)
			}
			if s, err := q.Sum(ctx, "id"); err != nil || s != 0 {
				t.Errorf("%s: Sum = %v, %v; want 0, nil", name, s, err)
			}
			if _, err := q.Avg(ctx, "id"); !errors.Is(err, query.ErrNotFound) {
				t.Errorf("%s: Avg: %v, want ErrNotFound", name, err)
			}
			if ok, err := q.Exists(ctx); err != nil || ok {
				t.Errorf("%s: Exists = %v, %v", name, ok, err)
			}
		}
		if err := books.Min(ctx, "year", year); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("Min into a non-pointer: %v, want ErrInvalid", err)
		}
	})
}

func TestPaginate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		books := query.Table[book](db, "books").OrderBy("id")
		tests := []struct {
			name          string
			q             query.Query[book]
			page, perPage int
			want          []int64
			total         int64
			last          int
		}{
			{"first", books, 1, 3, []int64{1, 2, 3}, 7, 3},
			{"middle", books, 2, 3, []int64{4, 5, 6}, 7, 3},
			{"last, partial", books, 3, 3, []int64{7}, 7, 3},
			{"past the last", books, 4, 3, nil, 7, 3},
			{"one page", books, 1, 10, []int64{1, 2, 3, 4, 5, 6, 7}, 7, 1},
			{"exact pages", books, 2, 7, nil, 7, 1},
			{"filtered", books.Where("year", ">", 1950), 2, 2, []int64{5, 7}, 4, 2},
			{"no rows", books.Where("id", "<", 0), 1, 5, nil, 0, 1},
		}
		for _, tt := range tests {
			p, err := tt.q.Paginate(ctx, tt.page, tt.perPage)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if ids := bookIDs(p.Items); !slices.Equal(ids, tt.want) || p.Total != tt.total || p.LastPage != tt.last ||
				p.Page != tt.page || p.PerPage != tt.perPage {
				t.Errorf("%s: got items %v, total %d, last page %d, page %d/%d; want %v, %d, %d",
					tt.name, ids, p.Total, p.LastPage, p.Page, p.PerPage, tt.want, tt.total, tt.last)
			}
		}
		for _, bad := range [][2]int{{0, 5}, {1, 0}, {-1, 5}} {
			if _, err := books.Paginate(ctx, bad[0], bad[1]); !errors.Is(err, query.ErrInvalid) {
				t.Errorf("Paginate(%d, %d): %v, want ErrInvalid", bad[0], bad[1], err)
			}
		}

		// Keyset pagination: each page continues after the last row of
		// the one before.
		var all []int64
		q := query.Table[book](db, "books").Limit(3)
		page, err := q.OrderBy("id").Get(ctx)
		for pages := 0; err == nil && len(page) > 0; pages++ {
			if pages > 5 {
				t.Fatal("keyset pagination does not end")
			}
			all = append(all, bookIDs(page)...)
			page, err = q.After("id", page[len(page)-1].ID).Get(ctx)
		}
		if err != nil || !slices.Equal(all, []int64{1, 2, 3, 4, 5, 6, 7}) {
			t.Errorf("keyset pages: %v, %v", all, err)
		}
		all = nil
		for last := int64(100); ; {
			page, err := q.Before("id", last).Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, bookIDs(page)...)
			last = page[len(page)-1].ID
		}
		if !slices.Equal(all, []int64{7, 6, 5, 4, 3, 2, 1}) {
			t.Errorf("keyset pages backwards: %v", all)
		}
	})
}

func TestWrite(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		books := query.Table[book](db, "books")
		authors := query.Table[author](db, "authors")

		// The auto key is left to the database while it is zero.
		if n, err := books.Insert(ctx, book{Title: "Sanshiro", Year: 1908, AuthorID: ptr[int64](1)}); err != nil || n != 1 {
			t.Fatalf("Insert = %d, %v", n, err)
		}
		if b, err := books.Where("title", "=", "Sanshiro").First(ctx); err != nil || b.ID != 8 {
			t.Errorf("inserted book has id %d, %v; want 8", b.ID, err)
		}
		id, err := books.InsertID(ctx, book{Title: "Mon", Year: 1910, AuthorID: ptr[int64](1)})
		if err != nil || id != 9 {
			t.Errorf("InsertID = %d, %v; want 9", id, err)
		}
		if b, err := books.Find(ctx, id); err != nil || b.Title != "Mon" {
			t.Errorf("Find(%d) = %+v, %v", id, b, err)
		}
		rid, err := db.Table("authors").InsertID(ctx, query.Row{"name": "Tolstoy", "country": "RU"})
		if err != nil || rid != 5 {
			t.Errorf("Row InsertID = %d, %v; want 5", rid, err)
		}
		// A key given is inserted as it is.
		if _, err := books.Insert(ctx, book{ID: 100, Title: "Given", Year: 2020}); err != nil {
			t.Fatal(err)
		}
		if b, err := books.Find(ctx, 100); err != nil || b.Title != "Given" {
			t.Errorf("Find(100) = %+v, %v", b, err)
		}
		if n, err := books.Insert(ctx); err != nil || n != 0 {
			t.Errorf("Insert of nothing = %d, %v", n, err)
		}
		n, err := db.Table("books").Insert(ctx,
			query.Row{"title": "Row one", "year": 2001},
			query.Row{"title": "Row two", "year": 2002})
		if err != nil || n != 2 {
			t.Errorf("Insert of Rows = %d, %v", n, err)
		}
		if _, err := db.Table("books").Insert(ctx, query.Row{"title": "a", "year": 1}, query.Row{"title": "b", "genre": "x"}); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("Insert of Rows with different columns: %v, want ErrInvalid", err)
		}

		// Update and Delete report the rows they changed.
		if n, err := books.Where("author_id", "=", 1).Update(ctx, query.Set{"price": 11.5, "genre": nil}); err != nil || n != 4 {
			t.Errorf("Update = %d, %v; want 4", n, err)
		}
		if b, err := books.Find(ctx, 2); err != nil || b.Price == nil || *b.Price != 11.5 || b.Genre != nil {
			t.Errorf("updated book: %+v, %v", b, err)
		}
		if n, err := books.Where("id", "<", 0).Update(ctx, query.Set{"year": 1}); err != nil || n != 0 {
			t.Errorf("Update of none = %d, %v", n, err)
		}
		if _, err := books.Update(ctx, query.Set{}); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("Update with nothing to set: %v, want ErrInvalid", err)
		}
		if n, err := books.WhereIn("id", 100, 7).Delete(ctx); err != nil || n != 2 {
			t.Errorf("Delete = %d, %v; want 2", n, err)
		}
		if n, err := books.Count(ctx); err != nil || n != 10 {
			t.Errorf("Count after delete = %d, %v; want 10", n, err)
		}
		if _, err := books.Find(ctx, 7); !errors.Is(err, query.ErrNotFound) {
			t.Errorf("deleted book: %v, want ErrNotFound", err)
		}

		// Upsert: update on conflict, or leave the row alone.
		n, err = authors.Upsert(ctx, []string{"name"}, []string{"country"},
			author{Name: "Austen", Country: ptr("UK")}, author{Name: "Dostoevsky", Country: ptr("RU")})
		if err != nil || n != 2 {
			t.Errorf("Upsert = %d, %v; want 2", n, err)
		}
		if a, err := authors.Key("name").Find(ctx, "Austen"); err != nil || a.ID != 3 || *a.Country != "UK" {
			t.Errorf("upserted Austen: %+v, %v; want id 3 from UK", a, err)
		}
		n, err = authors.Upsert(ctx, []string{"name"}, nil, author{Name: "Austen", Country: ptr("XX")}, author{Name: "Chekhov"})
		if err != nil || n != 1 {
			t.Errorf("Upsert do nothing = %d, %v; want 1 (Chekhov only)", n, err)
		}
		if a, err := authors.Key("name").Find(ctx, "Austen"); err != nil || *a.Country != "UK" {
			t.Errorf("Austen after do nothing: %+v, %v; want UK", a, err)
		}
		if n, err := authors.Count(ctx); err != nil || n != 7 {
			t.Errorf("authors = %d, %v; want 7", n, err)
		}
		if _, err := authors.Upsert(ctx, nil, nil, author{Name: "x"}); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("Upsert without conflict columns: %v, want ErrInvalid", err)
		}

		// Writes take a plain table.
		aliased := query.Table[book](db, "books AS b")
		joined := books.Join("authors", "books.author_id", "=", "authors.id")
		for name, q := range map[string]query.Query[book]{"alias": aliased, "join": joined} {
			if _, err := q.Insert(ctx, book{Title: "x"}); !errors.Is(err, query.ErrInvalid) {
				t.Errorf("Insert with %s: %v, want ErrInvalid", name, err)
			}
			if _, err := q.Update(ctx, query.Set{"year": 1}); !errors.Is(err, query.ErrInvalid) {
				t.Errorf("Update with %s: %v, want ErrInvalid", name, err)
			}
			if _, err := q.Delete(ctx); !errors.Is(err, query.ErrInvalid) {
				t.Errorf("Delete with %s: %v, want ErrInvalid", name, err)
			}
		}
		if n, err := books.Count(ctx); err != nil || n != 10 {
			t.Errorf("Count after refused writes = %d, %v; want 10", n, err)
		}
	})
}

// TestInsertMany inserts more values than one statement may bind.
func TestInsertMany(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db, `CREATE TABLE nums (n BIGINT NOT NULL)`, `CREATE TABLE pairs (a BIGINT, b TEXT)`)
		type num struct{ N int64 }
		const rows = 40000
		ns := make([]num, rows)
		for i := range ns {
			ns[i].N = int64(i + 1)
		}
		nums := query.Table[num](db, "nums")
		if n, err := nums.Insert(ctx, ns...); err != nil || n != rows {
			t.Fatalf("Insert of %d rows = %d, %v", rows, n, err)
		}
		if c, err := nums.Count(ctx); err != nil || c != rows {
			t.Errorf("Count = %d, %v; want %d", c, err, rows)
		}
		if s, err := nums.Sum(ctx, "n"); err != nil || s != rows*(rows+1)/2 {
			t.Errorf("Sum = %v, %v; want %d", s, err, rows*(rows+1)/2)
		}

		// CopyFrom: COPY on PostgreSQL, multi-row INSERTs on SQLite.
		data := make([][]any, 2000)
		for i := range data {
			data[i] = []any{int64(i), fmt.Sprint("v", i)}
		}
		if n, err := query.CopyFrom(ctx, db, "pairs", []string{"a", "b"}, data); err != nil || n != int64(len(data)) {
			t.Fatalf("CopyFrom = %d, %v", n, err)
		}
		if v, err := query.One[string](ctx, db, "SELECT b FROM pairs WHERE a = "+ph(db, 1), 1234); err != nil || v != "v1234" {
			t.Errorf("copied row 1234 = %q, %v", v, err)
		}
		if _, err := query.CopyFrom(ctx, db, "pairs; DROP TABLE pairs", []string{"a"}, data); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("CopyFrom into a bad name: %v, want ErrInvalid", err)
		}
	})
}

func TestRawSQL(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		p1, p2 := ph(db, 1), ph(db, 2)

		got, err := query.All[book](ctx, db, "SELECT * FROM books WHERE year > "+p1+" AND title <> "+p2+" ORDER BY id", 1950, "Orphan")
		if ids := bookIDs(got); err != nil || !slices.Equal(ids, []int64{3, 4, 5}) {
			t.Errorf("All = %v, %v; want [3 4 5]", ids, err)
		}
		title, err := query.One[string](ctx, db, "SELECT title FROM books WHERE id = "+p1, 6)
		if err != nil || title != "Emma" {
			t.Errorf("One = %q, %v; want Emma", title, err)
		}
		if _, err := query.One[string](ctx, db, "SELECT title FROM books WHERE id = "+p1, 60); !errors.Is(err, query.ErrNotFound) {
			t.Errorf("One of none: %v, want ErrNotFound", err)
		}
		rows, err := query.All[query.Row](ctx, db, "SELECT id, title AS t FROM books WHERE id IN ("+p1+", "+p2+") ORDER BY id", 1, 2)
		if err != nil || len(rows) != 2 || rows[1]["t"] != "Botchan" {
			t.Errorf("All[Row] = %v, %v", rows, err)
		}

		n, err := db.Exec(ctx, "UPDATE books SET year = year + "+p1+" WHERE author_id = "+p2, 1, 2)
		if err != nil || n != 3 {
			t.Errorf("Exec = %d, %v; want 3", n, err)
		}
		r, err := db.Query(ctx, "SELECT id, year FROM books WHERE author_id = "+p1+" ORDER BY id", 2)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := r.Columns()
		if err != nil || !slices.Equal(cols, []string{"id", "year"}) {
			t.Errorf("Columns = %v, %v", cols, err)
		}
		var years []int
		for r.Next() {
			var id int64
			var y int
			if err := r.Scan(&id, &y); err != nil {
				t.Fatal(err)
			}
			years = append(years, y)
		}
		r.Close()
		if err := r.Err(); err != nil || !slices.Equal(years, []int{1988, 2003, 2008}) {
			t.Errorf("years = %v, %v; want [1988 2003 2008]", years, err)
		}
		// Several statements at once, without arguments.
		if _, err := db.Exec(ctx, "CREATE TABLE multi (x INTEGER); INSERT INTO multi (x) VALUES (1), (2)"); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Table("multi").Count(ctx); err != nil || n != 2 {
			t.Errorf("multi = %d, %v; want 2", n, err)
		}
	})
}

// TestForUpdate locks rows on PostgreSQL and is left out on SQLite, whose
// write transactions are serialised anyway.
func TestForUpdate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		sql, _, err := query.Table[book](db, "books").Where("id", "=", 1).ForUpdate().ToSQL()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.HasSuffix(sql, " FOR UPDATE"), tg.Name == "postgres"; got != want {
			t.Errorf("%s: FOR UPDATE in %q is %v, want %v", tg.Name, sql, got, want)
		}
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			b, err := query.Table[book](tx, "books").Where("id", "=", 1).ForUpdate().First(ctx)
			if err != nil {
				return err
			}
			if tg.Name == "postgres" {
				// Another transaction cannot take the lock.
				err := db.Conn(ctx, func(c *query.Conn) error {
					if _, err := c.Exec(ctx, "SET lock_timeout = '50ms'"); err != nil {
						return err
					}
					return c.Transaction(ctx, func(tx2 *query.Tx) error {
						_, err := query.Table[book](tx2, "books").Where("id", "=", 1).ForUpdate().First(ctx)
						return err
					})
				})
				if !errors.Is(err, query.ErrBusy) {
					t.Errorf("second FOR UPDATE: %v, want ErrBusy", err)
				}
			}
			_, err = query.Table[book](tx, "books").Where("id", "=", b.ID).Update(ctx, query.Set{"year": b.Year + 1})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if b, err := query.Table[book](db, "books").Find(ctx, 1); err != nil || b.Year != 1915 {
			t.Errorf("year after the locked update = %d, %v; want 1915", b.Year, err)
		}
	})
}

// TestToSQL checks the SQL built for both dialects, without a database.
func TestToSQL(t *testing.T) {
	type item struct {
		ID   int64
		Name string
	}
	for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
		rec := query.NewRecorder(d)
		items := query.Table[item](rec, "items")
		// $n on PostgreSQL, ? on SQLite.
		p := func(s string) string {
			if d.Name() == "postgres" {
				return s
			}
			for i := 9; i > 0; i-- {
				s = strings.ReplaceAll(s, fmt.Sprintf("$%d", i), "?")
			}
			return s
		}
		tests := []struct {
			name string
			q    query.Query[item]
			sql  string
			args []any
		}{
			{"plain", items, `SELECT "id", "name" FROM "items"`, nil},
			{"and, or", items.Where("a", "=", 1).OrWhere("b", "!=", 2).Where("c", "like", "x%"),
				`SELECT "id", "name" FROM "items" WHERE "a" = $1 OR "b" <> $2 AND "c" LIKE $3`, []any{1, 2, "x%"}},
			{"schema", query.Table[item](rec, "main.items").Where("main.items.id", ">=", 3),
				`SELECT "id", "name" FROM "main"."items" WHERE "main"."items"."id" >= $1`, []any{3}},
			{"in", items.WhereIn("id", []int{4, 5}).WhereNotIn("name", "x"),
				`SELECT "id", "name" FROM "items" WHERE "id" IN ($1, $2) AND "name" NOT IN ($3)`, []any{4, 5, "x"}},
			{"empty in", items.WhereIn("id").OrWhereIn("id", []string{}).WhereNotIn("id"),
				`SELECT "id", "name" FROM "items" WHERE 1 = 0 OR 1 = 0 AND 1 = 1`, nil},
			{"bytes are one value", items.WhereIn("name", []byte("ab")),
				`SELECT "id", "name" FROM "items" WHERE "name" IN ($1)`, []any{[]byte("ab")}},
			{"nulls and betweens", items.WhereNull("a").OrWhereNotNull("b").WhereBetween("c", 1, 2).WhereNotBetween("d", 3, 4),
				`SELECT "id", "name" FROM "items" WHERE "a" IS NULL OR "b" IS NOT NULL AND "c" BETWEEN $1 AND $2 AND "d" NOT BETWEEN $3 AND $4`,
				[]any{1, 2, 3, 4}},
			{"group", items.Where("a", "=", 1).WhereGroup(func(c query.Conds) query.Conds {
				return c.Where("b", "=", 2).OrWhere("c", "=", 3)
			}), `SELECT "id", "name" FROM "items" WHERE "a" = $1 AND ("b" = $2 OR "c" = $3)`, []any{1, 2, 3}},
			{"raw", items.Where("a", "=", 1).WhereRaw("lower(name) = ? OR name = '?'", "x"),
				`SELECT "id", "name" FROM "items" WHERE "a" = $1 AND (lower(name) = $2 OR name = '?')`, []any{1, "x"}},
			{"column", items.WhereColumn("a", "<", "items.b"), `SELECT "id", "name" FROM "items" WHERE "a" < "items"."b"`, nil},
			{"select", items.Select("id", "name AS n", "items.*", "*").Distinct(),
				`SELECT DISTINCT "id", "name" AS "n", "items".*, * FROM "items"`, nil},
			{"select raw", items.SelectRaw("count(*) + ? AS n", 1).Where("a", "=", 2),
				`SELECT count(*) + $1 AS n FROM "items" WHERE "a" = $2`, []any{1, 2}},
			{"joins", query.Table[item](rec, "items AS i").Join("owners AS o", "i.owner_id", "=", "o.id").
				LeftJoin("tags", "tags.item_id", "=", "i.id").RightJoin("x", "x.id", "<>", "i.id"),
				`SELECT "id", "name" FROM "items" AS "i" JOIN "owners" AS "o" ON "i"."owner_id" = "o"."id" ` +
					`LEFT JOIN "tags" ON "tags"."item_id" = "i"."id" RIGHT JOIN "x" ON "x"."id" <> "i"."id"`, nil},
			{"group by, having", items.Select("name").GroupBy("name", "id").Having("name", "<>", "x").HavingRaw("COUNT(*) > ?", 1),
				`SELECT "name" FROM "items" GROUP BY "name", "id" HAVING "name" <> $1 AND (COUNT(*) > $2)`, []any{"x", 1}},
			{"order, limit, offset", items.OrderBy("a").OrderByDesc("b").Limit(10).Offset(20),
				`SELECT "id", "name" FROM "items" ORDER BY "a", "b" DESC LIMIT 10 OFFSET 20`, nil},
			{"after", items.After("id", 7).Limit(5), `SELECT "id", "name" FROM "items" WHERE "id" > $1 ORDER BY "id" LIMIT 5`, []any{7}},
			{"before", items.Before("id", 7), `SELECT "id", "name" FROM "items" WHERE "id" < $1 ORDER BY "id" DESC`, []any{7}},
		}
		for _, tt := range tests {
			sql, args, err := tt.q.ToSQL()
			if err != nil {
				t.Errorf("%s %s: %v", d.Name(), tt.name, err)
				continue
			}
			if want := p(tt.sql); sql != want {
				t.Errorf("%s %s:\n got %s\nwant %s", d.Name(), tt.name, sql, want)
			}
			if fmt.Sprint(args) != fmt.Sprint(tt.args) {
				t.Errorf("%s %s: args %v, want %v", d.Name(), tt.name, args, tt.args)
			}
		}
		// What differs between the dialects.
		offset, _, _ := items.Offset(5).ToSQL()
		lock, _, _ := items.ForUpdate().ToSQL()
		wantOffset, wantLock := `SELECT "id", "name" FROM "items" LIMIT -1 OFFSET 5`, `SELECT "id", "name" FROM "items"`
		if d.Name() == "postgres" {
			wantOffset, wantLock = `SELECT "id", "name" FROM "items" OFFSET 5`, `SELECT "id", "name" FROM "items" FOR UPDATE`
		}
		if offset != wantOffset || lock != wantLock {
			t.Errorf("%s: offset %q, want %q; lock %q, want %q", d.Name(), offset, wantOffset, lock, wantLock)
		}

		// The writes' SQL, through the recorder.
		ctx := context.Background()
		rec.Reset()
		items.Where("id", "=", 1).Update(ctx, query.Set{"name": "n", "b": 2})
		items.Where("id", "=", 1).Delete(ctx)
		items.Insert(ctx, item{Name: "a"}, item{Name: "b"})
		items.Insert(ctx, item{ID: 3, Name: "c"})
		items.InsertID(ctx, item{Name: "d"})
		items.Upsert(ctx, []string{"name"}, []string{"id"}, item{ID: 1, Name: "e"})
		items.Upsert(ctx, []string{"name"}, nil, item{Name: "f"})
		items.Where("id", "=", 1).Exists(ctx)
		items.Where("id", "=", 1).Count(ctx)
		items.GroupBy("name").Count(ctx)
		items.Select("name").Distinct().Limit(3).OrderBy("name").Count(ctx)
		var n int64
		items.Where("id", "<", 2).Max(ctx, "id", &n)
		want := []string{
			`UPDATE "items" SET "b" = $1, "name" = $2 WHERE "id" = $3`,
			`DELETE FROM "items" WHERE "id" = $1`,
			`INSERT INTO "items" ("name") VALUES ($1), ($2)`,
			`INSERT INTO "items" ("id", "name") VALUES ($1, $2)`,
			`INSERT INTO "items" ("name") VALUES ($1) RETURNING "id"`,
			`INSERT INTO "items" ("id", "name") VALUES ($1, $2) ON CONFLICT ("name") DO UPDATE SET "id" = excluded."id"`,
			`INSERT INTO "items" ("name") VALUES ($1) ON CONFLICT ("name") DO NOTHING`,
			`SELECT 1 FROM "items" WHERE "id" = $1 LIMIT 1`,
			`SELECT COUNT(*) FROM "items" WHERE "id" = $1`,
			`SELECT COUNT(*) FROM (SELECT "name" FROM "items" GROUP BY "name") AS hatago_sub`,
			`SELECT COUNT(*) FROM (SELECT DISTINCT "name" FROM "items") AS hatago_sub`,
			`SELECT MAX("id") FROM "items" WHERE "id" < $1`,
		}
		stmts := rec.Statements()
		if len(stmts) != len(want) {
			t.Fatalf("%s: %d statements, want %d: %v", d.Name(), len(stmts), len(want), stmts)
		}
		for i, st := range stmts {
			if w := p(want[i]); st.SQL != w {
				t.Errorf("%s:\n got %s\nwant %s", d.Name(), st.SQL, w)
			}
		}
		if got := fmt.Sprint(stmts[0].Args); got != "[2 n 1]" {
			t.Errorf("%s: update args %s, want [2 n 1]", d.Name(), got)
		}
	}
}

// TestImmutable shares one base query between goroutines that each derive
// queries of their own from it.
func TestImmutable(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		library(t, db)
		// A base with spare capacity in its slices, where an append in
		// place would show.
		base := query.Table[book](db, "books").Where("year", ">", 0).Where("year", "<", 3000).
			WhereNotNull("title").OrderBy("id")
		baseSQL, baseArgs, err := base.ToSQL()
		if err != nil {
			t.Fatal(err)
		}
		a := base.Where("id", "=", 1)
		b := base.Where("id", "=", 2).OrderByDesc("year")
		if sa, _, _ := a.ToSQL(); strings.Contains(sa, "DESC") || strings.Count(sa, `"id" =`) != 1 {
			t.Errorf("deriving b changed a: %s", sa)
		}
		_ = b
		titles := map[int64]string{1: "Kokoro", 2: "Botchan", 3: "Norwegian Wood", 4: "Kafka on the Shore",
			5: "What I Talk About", 6: "Emma", 7: "Orphan"}
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for g := range 16 {
			wg.Go(func() {
				for i := range 8 {
					id := int64((g+i)%7 + 1)
					var err error
					switch i % 4 {
					case 0:
						var got book
						got, err = base.Find(ctx, id)
						if err == nil && got.Title != titles[id] {
							err = fmt.Errorf("Find(%d) = %q, want %q", id, got.Title, titles[id])
						}
					case 1:
						var got []book
						got, err = base.Where("id", ">=", id).Limit(2).Get(ctx)
						if err == nil && (len(got) == 0 || got[0].ID != id) {
							err = fmt.Errorf("from %d: got %v", id, bookIDs(got))
						}
					case 2:
						var n int64
						n, err = base.WhereIn("id", id, id+1).Count(ctx)
						if want := min(int64(2), 8-id); err == nil && n != want {
							err = fmt.Errorf("count from %d = %d, want %d", id, n, want)
						}
					case 3:
						var got []book
						got, err = base.WhereGroup(func(c query.Conds) query.Conds {
							return c.Where("id", "=", id).OrWhere("id", "=", id)
						}).Get(ctx)
						if err == nil && (len(got) != 1 || got[0].ID != id) {
							err = fmt.Errorf("group %d: got %v", id, bookIDs(got))
						}
					}
					if err != nil {
						errc <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		if sql, args, _ := base.ToSQL(); sql != baseSQL || fmt.Sprint(args) != fmt.Sprint(baseArgs) {
			t.Errorf("base changed:\n got %s %v\nwant %s %v", sql, args, baseSQL, baseArgs)
		}
		if got, err := base.Get(ctx); err != nil || len(got) != 7 {
			t.Errorf("base reads %d rows, %v; want 7", len(got), err)
		}
	})
}

// TestWhereNilAndSharedSlices: Where with nil means IS NULL, and WhereIn
// keeps its own copy of the values.
func TestWhereNilAndSharedSlices(t *testing.T) {
	db, err := query.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		q    query.Query[query.Row]
		want string
	}{
		{db.Table("t").Where("a", "=", nil), `SELECT * FROM "t" WHERE "a" IS NULL`},
		{db.Table("t").Where("a", "!=", nil), `SELECT * FROM "t" WHERE "a" IS NOT NULL`},
	} {
		if got, _, err := tc.q.ToSQL(); err != nil || got != tc.want {
			t.Errorf("got %q (%v), want %q", got, err, tc.want)
		}
	}
	if _, _, err := db.Table("t").Where("a", ">", nil).ToSQL(); !errors.Is(err, query.ErrInvalid) {
		t.Errorf("a > nil: %v, want ErrInvalid", err)
	}
	vals := []any{1, 2}
	q := db.Table("t").WhereIn("a", vals...)
	vals[0] = 99
	if _, args, _ := q.ToSQL(); args[0] != 1 {
		t.Errorf("WhereIn kept the caller's slice: args %v", args)
	}
}
