package query_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
)

var kinds = []error{query.ErrNotFound, query.ErrConflict, query.ErrForeignKey, query.ErrNotNull,
	query.ErrCheck, query.ErrBusy, query.ErrSerialization, query.ErrInvalid}

// TestConstraintErrors violates each kind of constraint on both databases
// and expects the same kinds.
func TestConstraintErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db,
			`CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
			`CREATE TABLE people (
				id INTEGER PRIMARY KEY,
				email TEXT NOT NULL CONSTRAINT people_email_key UNIQUE,
				age INTEGER CONSTRAINT people_age_check CHECK (age >= 0),
				team_id INTEGER CONSTRAINT people_team_fk REFERENCES teams (id))`,
			`CREATE TABLE badges (id INTEGER PRIMARY KEY,
				person_id INTEGER NOT NULL CONSTRAINT badges_person_fk REFERENCES people (id) ON DELETE RESTRICT)`,
			`INSERT INTO teams (id, name) VALUES (1, 'a')`,
			`INSERT INTO people (id, email, age, team_id) VALUES (1, 'ann@example.com', 30, 1), (2, 'bob@example.com', 40, NULL)`,
			`INSERT INTO badges (id, person_id) VALUES (1, 1)`)
		people := db.Table("people")
		insert := func(id int, email any, age int, team any) func() error {
			return func() error {
				_, err := people.Insert(ctx, query.Row{"id": id, "email": email, "age": age, "team_id": team})
				return err
			}
		}
		tests := []struct {
			name       string
			run        func() error
			kind       error
			constraint string // on PostgreSQL
		}{
			{"unique", insert(3, "ann@example.com", 1, nil), query.ErrConflict, "people_email_key"},
			{"unique on update", func() error {
				_, err := people.Where("id", "=", 2).Update(ctx, query.Set{"email": "ann@example.com"})
				return err
			}, query.ErrConflict, "people_email_key"},
			{"upsert on another key", func() error {
				_, err := people.Upsert(ctx, []string{"id"}, []string{"email"}, query.Row{"id": 2, "email": "ann@example.com", "age": 1, "team_id": nil})
				return err
			}, query.ErrConflict, "people_email_key"},
			{"primary key", insert(1, "new@example.com", 1, nil), query.ErrConflict, "people_pkey"},
			{"foreign key", insert(3, "new@example.com", 1, 99), query.ErrForeignKey, "people_team_fk"},
			{"foreign key on delete", func() error {
				_, err := db.Table("teams").Where("id", "=", 1).Delete(ctx)
				return err
			}, query.ErrForeignKey, "people_team_fk"},
			{"foreign key on delete restrict", func() error {
				_, err := people.Where("id", "=", 1).Delete(ctx)
				return err
			}, query.ErrForeignKey, "badges_person_fk"},
			{"not null", insert(3, nil, 1, nil), query.ErrNotNull, ""},
			{"check", insert(3, "new@example.com", -1, nil), query.ErrCheck, "people_age_check"},
			{"check in raw SQL", func() error {
				_, err := db.Exec(ctx, "UPDATE people SET age = -5 WHERE id = 1")
				return err
			}, query.ErrCheck, "people_age_check"},
			{"unique in a transaction", func() error {
				return db.Transaction(ctx, func(tx *query.Tx) error {
					_, err := tx.Table("people").Insert(ctx, query.Row{"id": 5, "email": "bob@example.com"})
					return err
				})
			}, query.ErrConflict, "people_email_key"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.run()
				if !errors.Is(err, tt.kind) {
					t.Fatalf("got %v, want %v", err, tt.kind)
				}
				for _, k := range kinds {
					if k != tt.kind && errors.Is(err, k) {
						t.Errorf("%v is also %v", err, k)
					}
				}
				var qe *query.Error
				if !errors.As(err, &qe) || qe.Kind != tt.kind {
					t.Fatalf("errors.As(*query.Error) = %v", qe)
				}
				switch tg.Name {
				case "postgres":
					var pe *pgconn.PgError
					if !errors.As(err, &pe) {
						t.Fatalf("%v does not reach a *pgconn.PgError", err)
					}
					if qe.Constraint != tt.constraint || pe.ConstraintName != tt.constraint {
						t.Errorf("constraint %q (driver %q), want %q", qe.Constraint, pe.ConstraintName, tt.constraint)
					}
					if tt.constraint != "" && !strings.Contains(err.Error(), "("+tt.constraint+")") {
						t.Errorf("message %q does not name the constraint", err)
					}
				case "sqlite":
					var se *sqlite.Error
					if !errors.As(err, &se) {
						t.Fatalf("%v does not reach a *sqlite.Error", err)
					}
				}
			})
		}
		// Nothing of the failed writes stayed.
		n, err := people.Count(ctx)
		if err != nil || n != 2 {
			t.Errorf("people = %d, %v; want 2", n, err)
		}
		if a, err := people.Find(ctx, 1); err != nil || a["email"] != "ann@example.com" {
			t.Errorf("ann = %v, %v", a, err)
		}
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db, `CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)`)
		things := db.Table("things")
		var n int64
		for name, err := range map[string]error{
			"First": errOnly(things.First(ctx)),
			"Find":  errOnly(things.Find(ctx, 1)),
			"One":   errOnly(query.One[int64](ctx, db, "SELECT id FROM things")),
			"Min":   things.Min(ctx, "id", &n),
		} {
			if !errors.Is(err, query.ErrNotFound) || !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("%s: %v, want ErrNotFound wrapping sql.ErrNoRows", name, err)
			}
		}
	})
}

func errOnly[T any](_ T, err error) error { return err }

// TestDatabaseInvalid sends what the database refuses.
func TestDatabaseInvalid(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Parallel()
		ctx := t.Context()
		db := openDB(t, tg)
		mustExec(t, db, `CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)`)
		for name, err := range map[string]error{
			"no such table":  errOnly(db.Table("nothing").Count(ctx)),
			"no such column": errOnly(db.Table("things").Where("nope", "=", 1).Get(ctx)),
			"syntax":         errOnly(db.Exec(ctx, "SELEC 1")),
			"raw in Where":   errOnly(db.Table("things").WhereRaw("name = = ?", 1).Get(ctx)),
		} {
			if !errors.Is(err, query.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
}

// TestBusy holds SQLite's write lock while another writer waits past its
// busy timeout.
func TestBusy(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, dbtest.SQLite(t), query.Options{BusyTimeout: 50 * time.Millisecond})
	mustExec(t, db, `CREATE TABLE things (id INTEGER PRIMARY KEY)`)
	err := db.Transaction(ctx, func(tx *query.Tx) error {
		if _, err := tx.Table("things").Insert(ctx, query.Row{"id": 1}); err != nil {
			return err
		}
		_, err := db.Table("things").Insert(ctx, query.Row{"id": 2})
		if !errors.Is(err, query.ErrBusy) {
			t.Errorf("second writer: %v, want ErrBusy", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInvalidSendsNothing checks that what the builder refuses is refused
// before anything reaches the database.
func TestInvalidSendsNothing(t *testing.T) {
	ctx := context.Background()
	for _, d := range []dialect.Dialect{dialect.SQLite{}, dialect.Postgres{}} {
		rec := query.NewRecorder(d)
		things := query.Table[book](rec, "things")
		rows := query.Table[query.Row](rec, "things")
		var n int64
		tests := []struct {
			name  string
			err   error
			ident bool // an *dialect.IdentError inside
		}{
			{"table with a space", errOnly(query.Table[book](rec, "bad name").Get(ctx)), true},
			{"table with a semicolon", errOnly(query.Table[book](rec, "t; DROP TABLE t").Count(ctx)), true},
			{"table with a quote", errOnly(query.Table[book](rec, `t"`).Delete(ctx)), true},
			{"empty table", errOnly(query.Table[book](rec, "").First(ctx)), true},
			{"alias", errOnly(query.Table[book](rec, "t AS 1x").Get(ctx)), true},
			{"four parts", errOnly(query.Table[book](rec, "a.b.c.d").Get(ctx)), true},
			{"64 bytes", errOnly(query.Table[book](rec, strings.Repeat("a", 64)).Get(ctx)), true},
			{"non-ASCII", errOnly(query.Table[book](rec, "テーブル").Get(ctx)), true},
			{"select", errOnly(things.Select("a;b").Get(ctx)), true},
			{"select alias", errOnly(things.Select(`a AS "b"`).Get(ctx)), true},
			{"select * alias", errOnly(things.Select(`* AS x"; DROP TABLE t; --`).Get(ctx)), true},
			{"where column", errOnly(things.Where("a = 1 OR 1", "=", 1).Get(ctx)), true},
			{"where operator", errOnly(things.Where("a", "==", 1).Get(ctx)), false},
			{"where operator injection", errOnly(things.Where("a", "= 1 OR 1 =", 1).Get(ctx)), false},
			{"or where operator", errOnly(things.OrWhere("a", "in", 1).Get(ctx)), false},
			{"where in column", errOnly(things.WhereIn("(a)", 1).Get(ctx)), true},
			{"where null column", errOnly(things.WhereNull("a--").Get(ctx)), true},
			{"where between column", errOnly(things.WhereBetween("1", 1, 2).Get(ctx)), true},
			{"where column right", errOnly(things.WhereColumn("a", "=", "b c").Get(ctx)), true},
			{"where column operator", errOnly(things.WhereColumn("a", "=>", "b").Get(ctx)), false},
			{"group", errOnly(things.WhereGroup(func(c query.Conds) query.Conds { return c.Where("x y", "=", 1) }).Get(ctx)), true},
			{"join table", errOnly(things.Join("o o", "a", "=", "b").Get(ctx)), true},
			{"join column", errOnly(things.LeftJoin("o", "a)", "=", "b").Get(ctx)), true},
			{"join operator", errOnly(things.RightJoin("o", "a", "like", "b").Get(ctx)), false},
			{"group by", errOnly(things.GroupBy("").Get(ctx)), true},
			{"having", errOnly(things.Having("count(*)", ">", 1).Get(ctx)), true},
			{"having operator", errOnly(things.Having("a", "~", 1).Get(ctx)), false},
			{"order by", errOnly(things.OrderBy("1; DROP").Get(ctx)), true},
			{"order by desc", errOnly(things.OrderByDesc("a DESC").Get(ctx)), true},
			{"key", errOnly(things.Key("id = id").Find(ctx, 1)), true},
			{"limit", errOnly(things.Limit(-1).Get(ctx)), false},
			{"offset", errOnly(things.Offset(-5).Get(ctx)), false},
			{"paginate page", errOnly(things.Paginate(ctx, 0, 10)), false},
			{"paginate per page", errOnly(things.Paginate(ctx, 1, -10)), false},
			{"min column", things.Min(ctx, "id)", &n), true},
			{"min into nil", things.Min(ctx, "id", (*int64)(nil)), false},
			{"sum column", errOnly(things.Sum(ctx, "*")), true},
			{"count of a bad query", errOnly(things.OrderBy("x-y").Count(ctx)), true},
			{"exists of a bad query", errOnly(things.Where("x-y", "=", 1).Exists(ctx)), true},
			{"update column", errOnly(rows.Update(ctx, query.Set{"a = 1, b": 2})), true},
			{"update nothing", errOnly(rows.Update(ctx, query.Set{})), false},
			{"update bad query", errOnly(rows.Where("x y", "=", 1).Update(ctx, query.Set{"a": 1})), true},
			{"delete bad query", errOnly(rows.Where("x", "≠", 1).Delete(ctx)), false},
			{"insert column", errOnly(rows.Insert(ctx, query.Row{"a) VALUES (1); --": 1})), true},
			{"insert id column", errOnly(rows.InsertID(ctx, query.Row{"a b": 1})), true},
			{"insert a scalar", errOnly(query.Table[int64](rec, "t").Insert(ctx, 1)), false},
			{"upsert conflict", errOnly(rows.Upsert(ctx, []string{"a b"}, nil, query.Row{"a": 1})), true},
			{"upsert update", errOnly(rows.Upsert(ctx, []string{"a"}, []string{"b;"}, query.Row{"a": 1})), true},
			{"copy table", errOnly(query.CopyFrom(ctx, rec, "t t", []string{"a"}, [][]any{{1}})), true},
			{"copy column", errOnly(query.CopyFrom(ctx, rec, "t", []string{"a'"}, [][]any{{1}})), true},
			{"raw with too many ?", errOnly(rows.WhereRaw("a = ? AND b = ?", 1).Get(ctx)), false},
			{"raw with too few ?", errOnly(rows.WhereRaw("a = ?", 1, 2).Get(ctx)), false},
			{"raw having with too many ?", errOnly(rows.HavingRaw("?", 1, 2).Get(ctx)), false},
			{"select raw with too many ?", errOnly(rows.SelectRaw("?").Get(ctx)), false},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, query.ErrInvalid) {
				t.Errorf("%s %s: %v, want ErrInvalid", d.Name(), tt.name, tt.err)
				continue
			}
			var ie *dialect.IdentError
			if errors.As(tt.err, &ie) != tt.ident {
				t.Errorf("%s %s: %v: IdentError inside is %v, want %v", d.Name(), tt.name, tt.err, !tt.ident, tt.ident)
			}
		}
		if st := rec.Statements(); len(st) != 0 {
			t.Errorf("%s: refused queries sent %v", d.Name(), st)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	cause := errors.New("driver says no")
	tests := []struct {
		err  *query.Error
		want string
	}{
		{&query.Error{Kind: query.ErrConflict, Constraint: "users_email_key", Err: cause},
			"hatago/query: unique constraint violated (users_email_key): driver says no"},
		{&query.Error{Kind: query.ErrNotNull, Err: cause}, "hatago/query: not-null constraint violated: driver says no"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Kind) || !errors.Is(tt.err, cause) || errors.Unwrap(tt.err) != cause {
			t.Errorf("%v does not unwrap to its kind and cause", tt.err)
		}
	}
}
