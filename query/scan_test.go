package query_test

import (
	"bytes"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

// audit is embedded in profile: its fields are profile's columns.
type audit struct {
	CreatedBy string
	Note      *string
}

type profile struct {
	ID           int64
	RandomNumber int
	HTTPStatus   int
	UserID       int64
	Tagged       string `db:"custom_col"`
	Skipped      string `db:"-"`
	secret       string //lint:ignore U1000 an unexported field is no column
	audit
	NullName  sql.NullString
	NullCount sql.NullInt64
	NullRatio sql.NullFloat64
	Maybe     *int64
}

func TestStructColumns(t *testing.T) {
	sql, _, err := query.Table[profile](query.NewRecorder(dialect.SQLite{}), "profiles").ToSQL()
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT "id", "random_number", "http_status", "user_id", "custom_col", "created_by", "note", ` +
		`"null_name", "null_count", "null_ratio", "maybe" FROM "profiles"`
	if sql != want {
		t.Errorf("got  %s\nwant %s", sql, want)
	}
	// Field names map to snake_case.
	type names struct {
		A          int
		ID         int
		UserID     int
		HTTPStatus int
		RandomNum2 int
		Already_   int
		XMLHttp    int
	}
	sql, _, _ = query.Table[names](query.NewRecorder(dialect.SQLite{}), "t").ToSQL()
	want = `SELECT "a", "id", "user_id", "http_status", "random_num2", "already_", "xml_http" FROM "t"`
	if sql != want {
		t.Errorf("got  %s\nwant %s", sql, want)
	}
	// Types that cannot map are refused.
	type twice struct {
		A int `db:"x"`
		B int `db:"x"`
	}
	type badTag struct {
		A int `db:"a b"`
	}
	type none struct{ _ int }
	rec := query.NewRecorder(dialect.SQLite{})
	for name, err := range map[string]error{
		"two fields, one column": errOf(query.Table[twice](rec, "t").ToSQL()),
		"bad tag":                errOf(query.Table[badTag](rec, "t").ToSQL()),
		"no fields":              errOf(query.Table[none](rec, "t").ToSQL()),
	} {
		if !errors.Is(err, query.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if len(rec.Statements()) != 0 {
		t.Errorf("refused types ran %v", rec.Statements())
	}
}

func errOf(_ string, _ []any, err error) error { return err }

func TestScan(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db, `CREATE TABLE profiles (id {increments}, random_number INTEGER NOT NULL, http_status INTEGER NOT NULL,
			user_id BIGINT NOT NULL, custom_col TEXT NOT NULL, created_by TEXT NOT NULL, note TEXT,
			null_name TEXT, null_count BIGINT, null_ratio {float}, maybe BIGINT)`)
		profiles := query.Table[profile](db, "profiles")
		full := profile{RandomNumber: 7, HTTPStatus: 200, UserID: 9, Tagged: "tag", audit: audit{"ann", ptr("note")},
			NullName: sql.NullString{String: "n", Valid: true}, NullCount: sql.NullInt64{Int64: 3, Valid: true},
			NullRatio: sql.NullFloat64{Float64: 0.5, Valid: true}, Maybe: ptr[int64](42), Skipped: "not stored"}
		empty := profile{RandomNumber: 1, HTTPStatus: 404, UserID: 10, Tagged: "", audit: audit{CreatedBy: "bob"}}
		// Row 1 has every value, row 2 NULLs, row 3 values again.
		if _, err := profiles.Insert(ctx, full, empty, full); err != nil {
			t.Fatal(err)
		}
		wantFull, wantEmpty := full, empty
		wantFull.Skipped = ""
		check := func(how string, got []profile) {
			t.Helper()
			if len(got) != 3 {
				t.Fatalf("%s: %d rows, want 3", how, len(got))
			}
			for i, want := range []profile{wantFull, wantEmpty, wantFull} {
				want.ID = int64(i + 1)
				g := got[i]
				if g.ID != want.ID || g.RandomNumber != want.RandomNumber || g.HTTPStatus != want.HTTPStatus ||
					g.UserID != want.UserID || g.Tagged != want.Tagged || g.Skipped != "" || g.CreatedBy != want.CreatedBy ||
					g.NullName != want.NullName || g.NullCount != want.NullCount || g.NullRatio != want.NullRatio ||
					!eqPtr(g.Note, want.Note) || !eqPtr(g.Maybe, want.Maybe) {
					t.Errorf("%s: row %d = %+v (note %v, maybe %v), want %+v", how, i+1, g, deref(g.Note), deref(g.Maybe), want)
				}
			}
			if got[0].Note == got[2].Note || got[0].Maybe == got[2].Maybe {
				t.Errorf("%s: rows 1 and 3 share a pointer", how)
			}
		}
		got, err := profiles.OrderBy("id").Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("Get", got)
		got = nil
		err = profiles.OrderBy("id").Each(ctx, func(p *profile) bool { got = append(got, *p); return true })
		if err != nil {
			t.Fatal(err)
		}
		check("Each", got)
		got, err = query.All[profile](ctx, db, "SELECT * FROM profiles ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		check("All", got)

		// Columns are matched by name, in any order, a subset will do, and
		// case does not matter.
		type part struct {
			Maybe *int64
			ID    int64
		}
		parts, err := query.All[part](ctx, db, `SELECT id AS "ID", maybe FROM profiles ORDER BY id`)
		if err != nil || len(parts) != 3 || parts[1].ID != 2 || parts[1].Maybe != nil || *parts[2].Maybe != 42 {
			t.Errorf("part = %+v, %v", parts, err)
		}
		// An unknown column is refused, by name.
		_, err = query.All[part](ctx, db, "SELECT id, maybe, random_number AS surprise FROM profiles")
		if !errors.Is(err, query.ErrInvalid) || !strings.Contains(err.Error(), `"surprise"`) {
			t.Errorf("unknown column: %v, want ErrInvalid naming surprise", err)
		}
		_, err = profiles.Select("id", "random_number AS surprise").Get(ctx)
		if !errors.Is(err, query.ErrInvalid) || !strings.Contains(err.Error(), `"surprise"`) {
			t.Errorf("unknown selected column: %v, want ErrInvalid naming surprise", err)
		}

		// Rows.
		rows, err := db.Table("profiles").Select("id", "note", "custom_col").OrderBy("id").Get(ctx)
		if err != nil || len(rows) != 3 {
			t.Fatalf("Rows: %v, %v", rows, err)
		}
		if rows[0]["note"] != "note" || rows[1]["note"] != nil || rows[1]["custom_col"] != "" || len(rows[1]) != 3 {
			t.Errorf("Rows = %v", rows)
		}

		// Single values.
		ids, err := query.All[int64](ctx, db, "SELECT id FROM profiles ORDER BY id")
		if err != nil || !slices.Equal(ids, []int64{1, 2, 3}) {
			t.Errorf("All[int64] = %v, %v", ids, err)
		}
		names, err := query.All[string](ctx, db, "SELECT created_by FROM profiles ORDER BY id")
		if err != nil || !slices.Equal(names, []string{"ann", "bob", "ann"}) {
			t.Errorf("All[string] = %v, %v", names, err)
		}
		notes, err := query.All[*string](ctx, db, "SELECT note FROM profiles ORDER BY id")
		if err != nil || len(notes) != 3 || *notes[0] != "note" || notes[1] != nil || *notes[2] != "note" {
			t.Errorf("All[*string] = %v, %v", notes, err)
		}
		nulls, err := query.All[sql.NullString](ctx, db, "SELECT note FROM profiles ORDER BY id")
		if err != nil || len(nulls) != 3 || nulls[1].Valid || !nulls[2].Valid {
			t.Errorf("All[sql.NullString] = %v, %v", nulls, err)
		}
		var fromTable []int64
		fromTable, err = query.Table[int64](db, "profiles").Select("id").OrderByDesc("id").Get(ctx)
		if err != nil || !slices.Equal(fromTable, []int64{3, 2, 1}) {
			t.Errorf("Table[int64] = %v, %v", fromTable, err)
		}
		if _, err := query.All[int64](ctx, db, "SELECT id, user_id FROM profiles"); !errors.Is(err, query.ErrInvalid) {
			t.Errorf("two columns into an int64: %v, want ErrInvalid", err)
		}
		rs, err := db.Query(ctx, "SELECT id FROM profiles ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		if ids, err := query.ScanAll[int64](rs); err != nil || !slices.Equal(ids, []int64{1, 2, 3}) {
			t.Errorf("ScanAll = %v, %v", ids, err)
		}
	})
}

// TestValues round-trips the values that most often go wrong.
func TestValues(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db, `CREATE TABLE vals (id INTEGER PRIMARY KEY, i BIGINT, f {float}, s TEXT, b {bytes}, ts {timestamp}, ok BOOLEAN)`)
		type val struct {
			ID int64 `db:"id,pk"`
			I  *int64
			F  *float64
			S  *string
			B  []byte
			TS *time.Time `db:"ts"`
			OK *bool
		}
		vals := query.Table[val](db, "vals")
		jst := time.FixedZone("JST", 9*60*60)
		nyc := time.FixedZone("EST", -5*60*60)
		at := time.Date(2024, 2, 29, 23, 59, 58, 123456000, jst) // PostgreSQL keeps microseconds
		long := strings.Repeat("長い", 5000)
		tests := []val{
			{ID: 1, I: ptr[int64](math.MaxInt64), S: ptr("日本語のテキスト")},
			{ID: 2, I: ptr[int64](math.MinInt64), S: ptr("emoji 🍣🎌 and a family 👨‍👩‍👧 and a flag 🇯🇵")},
			{ID: 3, I: ptr[int64](0), S: ptr("")},
			{ID: 4, I: ptr[int64](-1), S: ptr(`quotes ' and " and \ and ; -- and /* */`)},
			{ID: 5, S: ptr("line\nbreak\ttab\r\u2028"), F: ptr(0.1)},
			{ID: 6, S: ptr(long), F: ptr(-1e300)},
			{ID: 7, B: []byte{0, 1, 2, 0xfe, 0xff}, F: ptr(math.SmallestNonzeroFloat64)},
			{ID: 8, B: bytes.Repeat([]byte{0}, 1000)},
			{ID: 9, TS: ptr(at), OK: ptr(true)},
			{ID: 10, TS: ptr(at.In(nyc)), OK: ptr(false)},
			{ID: 11, TS: ptr(at.UTC())},
			{ID: 12, TS: ptr(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))},
			{ID: 13},                          // all NULL
			{ID: 14, B: []byte{}, S: ptr("")}, // empty, not NULL
		}
		if _, err := vals.Insert(ctx, tests...); err != nil {
			t.Fatal(err)
		}
		got, err := vals.OrderBy("id").Get(ctx)
		if err != nil || len(got) != len(tests) {
			t.Fatalf("Get: %d rows, %v", len(got), err)
		}
		for i, want := range tests {
			g := got[i]
			if tg.Name == "sqlite" && want.B != nil && len(want.B) == 0 {
				// SQLite stores an empty BLOB, not NULL (see "empty
				// bytes are not NULL" below), but the driver reads it
				// back as a nil []byte.
				want.B = nil
			}
			if !eqPtr(g.I, want.I) || !eqPtr(g.F, want.F) || !eqPtr(g.S, want.S) || !bytes.Equal(g.B, want.B) ||
				(g.B == nil) != (want.B == nil) || !eqPtr(g.OK, want.OK) {
				t.Errorf("row %d: got %v %v %.40q %v %v, want %v %v %.40q %v %v", want.ID,
					deref(g.I), deref(g.F), deref(g.S), g.B, deref(g.OK), deref(want.I), deref(want.F), deref(want.S), want.B, deref(want.OK))
			}
			if (g.TS == nil) != (want.TS == nil) || g.TS != nil && !g.TS.Equal(*want.TS) {
				t.Errorf("row %d: time %v, want the instant %v", want.ID, deref(g.TS), deref(want.TS))
			}
			// What comes back: SQLite and PostgreSQL both return the
			// instant in UTC (PostgreSQL in the session's time zone,
			// UTC here).
			if g.TS != nil && tg.Name == "sqlite" && g.TS.Location() != time.UTC {
				t.Errorf("row %d: SQLite returned a time in %v, want UTC", want.ID, g.TS.Location())
			}
		}
		// Values compare as they should in SQL.
		for _, tt := range []struct {
			name string
			q    query.Query[val]
			want []int64
		}{
			{"max int", vals.Where("i", "=", int64(math.MaxInt64)), []int64{1}},
			{"min int", vals.Where("i", "<", int64(math.MinInt64+1)), []int64{2}},
			{"unicode", vals.Where("s", "=", "日本語のテキスト"), []int64{1}},
			{"emoji like", vals.Where("s", "like", "%🍣%"), []int64{2}},
			{"empty string is not NULL", vals.Where("s", "=", ""), []int64{3, 14}},
			{"NULL is not the empty string", vals.WhereNull("s").WhereNull("ts").WhereNull("b"), []int64{13}},
			{"empty bytes are not NULL", vals.WhereNotNull("b"), []int64{7, 8, 14}},
			{"bytes", vals.Where("b", "=", []byte{0, 1, 2, 0xfe, 0xff}), []int64{7}},
			{"same instant, any zone", vals.Where("ts", "=", at.In(time.FixedZone("X", -7*3600+1800))), []int64{9, 10, 11}},
			{"later instant", vals.Where("ts", ">", at.Add(-time.Second).In(nyc)), []int64{9, 10, 11}},
			{"earlier instant", vals.Where("ts", "<", at.In(time.UTC)), []int64{12}},
			{"true", vals.Where("ok", "=", true), []int64{9}},
		} {
			got, err := tt.q.OrderBy("id").Get(ctx)
			if ids := valIDs(got, func(v val) int64 { return v.ID }); err != nil || !slices.Equal(ids, tt.want) {
				t.Errorf("%s: got %v, %v; want %v", tt.name, ids, err, tt.want)
			}
		}

		// Times order by instant, whatever zone they were written in.
		mustExec(t, db, `CREATE TABLE events (id INTEGER PRIMARY KEY, at {timestamp} NOT NULL)`)
		type event struct {
			ID int64 `db:"id,pk"`
			At time.Time
		}
		events := query.Table[event](db, "events")
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := events.Insert(ctx,
			event{1, base.Add(3 * time.Hour).In(jst)}, // 03:00 UTC, 12:00 JST
			event{2, base.Add(5 * time.Hour)},         // 05:00 UTC
			event{3, base.Add(1 * time.Hour).In(nyc)}, // 01:00 UTC, 20:00 EST the day before
		); err != nil {
			t.Fatal(err)
		}
		evs, err := events.OrderBy("at").Get(ctx)
		if ids := valIDs(evs, func(e event) int64 { return e.ID }); err != nil || !slices.Equal(ids, []int64{3, 1, 2}) {
			t.Errorf("events by time: %v, %v; want [3 1 2]", ids, err)
		}
		var first, last time.Time
		if err := events.Min(ctx, "at", &first); err != nil || !first.Equal(base.Add(time.Hour)) {
			t.Errorf("Min(at) = %v, %v; want %v", first, err, base.Add(time.Hour))
		}
		if err := events.Max(ctx, "at", &last); err != nil || !last.Equal(base.Add(5*time.Hour)) {
			t.Errorf("Max(at) = %v, %v; want %v", last, err, base.Add(5*time.Hour))
		}
		if err := events.Where("id", "<", 0).Max(ctx, "at", &last); !errors.Is(err, query.ErrNotFound) {
			t.Errorf("Max(at) of none: %v, want ErrNotFound", err)
		}
		times, err := query.All[time.Time](ctx, db, "SELECT at FROM events ORDER BY id")
		if err != nil || len(times) != 3 || !times[0].Equal(base.Add(3*time.Hour)) {
			t.Errorf("All[time.Time] = %v, %v", times, err)
		}
	})
}

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func valIDs[T any](vs []T, id func(T) int64) []int64 {
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = id(v)
	}
	return ids
}
