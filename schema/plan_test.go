package schema

import (
	"strings"
	"testing"

	"github.com/hatago/hatago/query/dialect"
)

// TestPostgresAlterSQL compares an Alter's statements on PostgreSQL with
// the ones it should run.
func TestPostgresAlterSQL(t *testing.T) {
	p, err := newPlan(dialect.Postgres{}, "users", true, func(t *Table) {
		t.String("nick", 50).Nullable().Unique()
		t.BigInt("team_id").Nullable().References("teams", "id").OnDelete(SetNull)
		t.Integer("age").Default(18).Change()
		t.Text("bio").Nullable().Change()
		t.DropColumn("legacy", "old")
		t.RenameColumn("name", "full_name")
		t.Index("nick", "age")
		t.DropIndex("email")
		t.DropUnique("a", "b")
		t.DropIndexNamed("custom")
		t.Foreign("org_id").References("orgs", "id").OnUpdate(Cascade)
		t.DropForeign("owner_id")
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`ALTER TABLE "users" ADD COLUMN "nick" VARCHAR(50)`,
		`CREATE UNIQUE INDEX "uniq_users_nick" ON "users" ("nick")`,
		`ALTER TABLE "users" ADD COLUMN "team_id" BIGINT`,
		`ALTER TABLE "users" ADD CONSTRAINT "fk_users_team_id" FOREIGN KEY ("team_id") REFERENCES "teams" ("id") ON DELETE SET NULL`,
		`ALTER TABLE "users" ALTER COLUMN "age" DROP DEFAULT`,
		`ALTER TABLE "users" ALTER COLUMN "age" TYPE INTEGER`,
		`ALTER TABLE "users" ALTER COLUMN "age" SET NOT NULL`,
		`ALTER TABLE "users" ALTER COLUMN "age" SET DEFAULT 18`,
		`ALTER TABLE "users" ALTER COLUMN "bio" DROP DEFAULT`,
		`ALTER TABLE "users" ALTER COLUMN "bio" TYPE TEXT`,
		`ALTER TABLE "users" ALTER COLUMN "bio" DROP NOT NULL`,
		`ALTER TABLE "users" DROP COLUMN "legacy"`,
		`ALTER TABLE "users" DROP COLUMN "old"`,
		`ALTER TABLE "users" RENAME COLUMN "name" TO "full_name"`,
		`CREATE INDEX "idx_users_nick_age" ON "users" ("nick", "age")`,
		`DROP INDEX "idx_users_email"`,
		`DROP INDEX "uniq_users_a_b"`,
		`DROP INDEX "custom"`,
		`ALTER TABLE "users" ADD CONSTRAINT "fk_users_org_id" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id") ON UPDATE CASCADE`,
		`ALTER TABLE "users" DROP CONSTRAINT "fk_users_owner_id"`,
	}
	got := p.postgresAlterSQL()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	p, err = newPlan(dialect.Postgres{}, "app.users", true, func(t *Table) {
		t.Primary("a", "b")
		t.Integer("c").Primary()
		t.DropIndex("c")
	})
	if err == nil {
		t.Errorf("two primary keys in one alter: got %q, want an error", p.postgresAlterSQL())
	}
	p, err = newPlan(dialect.Postgres{}, "app.users", true, func(t *Table) {
		t.Primary("a", "b")
		t.DropIndex("c")
	})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		`ALTER TABLE "app"."users" ADD PRIMARY KEY ("a", "b")`,
		`DROP INDEX "app"."idx_users_c"`,
	}
	if got := p.postgresAlterSQL(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSQLiteNative checks which changes SQLite's ALTER TABLE makes itself,
// and with what statements; the others rebuild the table.
func TestSQLiteNative(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(t *Table)
		want string // "" for a rebuild
	}{
		{"nullable", func(t *Table) { t.String("a", 5).Nullable() }, `ALTER TABLE "t" ADD COLUMN "a" VARCHAR(5)`},
		{"default", func(t *Table) { t.Boolean("a").Default(true) }, `ALTER TABLE "t" ADD COLUMN "a" BOOLEAN NOT NULL DEFAULT 1`},
		{"key", func(t *Table) { t.BigInt("a").Nullable().References("p", "id").OnDelete(Cascade) },
			`ALTER TABLE "t" ADD COLUMN "a" BIGINT CONSTRAINT "fk_t_a" REFERENCES "p" ("id") ON DELETE CASCADE`},
		{"rename", func(t *Table) { t.RenameColumn("a", "b") }, `ALTER TABLE "t" RENAME COLUMN "a" TO "b"`},
		{"drop", func(t *Table) { t.DropColumn("a") }, `ALTER TABLE "t" DROP COLUMN "a"`},
		{"index", func(t *Table) { t.Unique("a") }, `CREATE UNIQUE INDEX "uniq_t_a" ON "t" ("a")`},
		{"drop index", func(t *Table) { t.DropIndex("a") }, `DROP INDEX "idx_t_a"`},
		{"not null", func(t *Table) { t.String("a", 5) }, ""},
		{"now", func(t *Table) { t.Timestamp("a").Nullable().DefaultNow() }, ""},
		{"raw", func(t *Table) { t.Integer("a").DefaultRaw("1") }, ""},
		{"key with default", func(t *Table) { t.BigInt("a").Default(1).References("p", "id") }, ""},
		{"increments", func(t *Table) { t.Increments("id") }, ""},
		{"primary", func(t *Table) { t.Integer("a").Default(0).Primary() }, ""},
		{"change", func(t *Table) { t.Integer("a").Change() }, ""},
		{"foreign", func(t *Table) { t.Foreign("a").References("p", "id") }, ""},
		{"drop foreign", func(t *Table) { t.DropForeign("a") }, ""},
		{"table primary", func(t *Table) { t.Primary("a") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newPlan(dialect.SQLite{}, "t", true, tc.fn)
			if err != nil {
				t.Fatal(err)
			}
			s := p.steps[0]
			if native := nativeSQLite(s); native != (tc.want != "") {
				t.Fatalf("native: got %v, want %v", native, tc.want != "")
			}
			if tc.want != "" {
				if got := p.sqliteNative(s); len(got) != 1 || got[0] != tc.want {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestDefaultExpr(t *testing.T) {
	for in, want := range map[string]string{
		"0":                 "0",
		"-1.5":              "-1.5",
		"'a''b'":            "'a''b'",
		"'a' || 'b'":        "('a' || 'b')",
		"CURRENT_TIMESTAMP": "CURRENT_TIMESTAMP",
		"null":              "null",
		"1+2":               "(1+2)",
		"X'00'":             "(X'00')",
	} {
		if got := defaultExpr(in); got != want {
			t.Errorf("defaultExpr(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestSQLWords(t *testing.T) {
	got := sqlWords(`CREATE TABLE "check" ('collate' INT, [strict] x, ` + "`as`" + ` -- CHECK
		/* GENERATED */ y INTEGER PRIMARY KEY AUTOINCREMENT, "a""CHECK" b)`)
	for _, w := range []string{"CREATE", "TABLE", "INT", "X", "Y", "INTEGER", "PRIMARY", "KEY", "AUTOINCREMENT", "B"} {
		if !got[w] {
			t.Errorf("missing %s", w)
		}
	}
	for _, w := range []string{"CHECK", "COLLATE", "STRICT", "AS", "GENERATED"} {
		if got[w] {
			t.Errorf("%s, quoted or in a comment, found", w)
		}
	}
}

// FuzzSQLWords reads any text: no word comes out of a quoted identifier.
func FuzzSQLWords(f *testing.F) {
	f.Add(`CREATE TABLE "t" (a INT CHECK (a > 0))`, "CHECK")
	f.Add(`x /* unterminated`, "y")
	f.Add(`'it''s' "a""b" [c] `+"`d`", "e")
	f.Fuzz(func(t *testing.T, sql, ident string) {
		sqlWords(sql) // does not panic or loop
		if dialect.ValidIdent(ident) != nil || strings.Contains(ident, ".") {
			return
		}
		w := sqlWords(string(dialect.AppendIdent([]byte("CREATE TABLE "), ident)))
		if len(w) != 2 || !w["CREATE"] || !w["TABLE"] {
			t.Errorf("words of a quoted %q: got %v", ident, w)
		}
	})
}
