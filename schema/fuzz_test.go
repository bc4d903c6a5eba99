package schema_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
	"github.com/hatago/hatago/query/dialect"
	"github.com/hatago/hatago/schema"
)

var errRollback = errors.New("roll back")

// FuzzDefault writes strings into the DDL as defaults: each is refused
// with ErrInvalid (not UTF-8, or with a NUL) or reads back exactly as it
// was, on every dialect.
func FuzzDefault(f *testing.F) {
	for _, s := range []string{"", "a", "it's", `\`, `\'`, `'); DROP TABLE x; --`, `E'\x41'`, "$$ $a$", "\n\t", "ünï 😀", "a\x00", "\xff"} {
		f.Add(s)
	}
	var dbs []*query.DB
	for _, tg := range dbtest.Targets(f) {
		dbs = append(dbs, open(f, tg))
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx := t.Context()
		valid := utf8.ValidString(s) && !strings.Contains(s, "\x00")
		for _, db := range dbs {
			err := db.Transaction(ctx, func(tx *query.Tx) error {
				err := schema.Create(ctx, tx, "fuzz", func(t *schema.Table) {
					t.Integer("k")
					t.Text("v").Default(s)
				})
				if err != nil {
					return err
				}
				if _, err := query.Table[query.Row](tx, "fuzz").Insert(ctx, query.Row{"k": 1}); err != nil {
					return err
				}
				got, err := query.One[string](ctx, tx, "SELECT v FROM fuzz")
				if err != nil {
					return err
				}
				if got != s {
					t.Errorf("%s: default %q reads back as %q", db.Dialect().Name(), s, got)
				}
				return errRollback
			})
			if valid && !errors.Is(err, errRollback) || !valid && !errors.Is(err, query.ErrInvalid) {
				t.Errorf("%s: default %q: got %v", db.Dialect().Name(), s, err)
			}
		}
	})
}

// FuzzNames gives Create any name for its table and column: a name is
// refused with ErrInvalid unless it is a valid identifier, and a table
// made with a valid one has that name and column and nothing else.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"users", "Users", "a.b", "1x", `a"b`, "a b", "_", "x.y.z", "select", strings.Repeat("a", 64), "ä"} {
		f.Add(s, "c")
		f.Add("t", s)
	}
	db := open(f, dbtest.SQLite(f))
	f.Fuzz(func(t *testing.T, table, col string) {
		ctx := t.Context()
		fn := func(t *schema.Table) { t.Text(col) }
		_, err := schema.CreateSQL(dialect.SQLite{}, table, fn)
		validTable := dialect.ValidIdent(table) == nil && strings.Count(table, ".") <= 1
		validCol := dialect.ValidIdent(col) == nil && !strings.Contains(col, ".")
		if validTable && validCol {
			if err != nil {
				t.Fatalf("CreateSQL(%q, column %q): %v", table, col, err)
			}
		} else {
			if !errors.Is(err, query.ErrInvalid) {
				t.Fatalf("CreateSQL(%q, column %q): got %v, want ErrInvalid", table, col, err)
			}
			return
		}
		if strings.Contains(table, ".") || strings.HasPrefix(strings.ToLower(table), "sqlite_") {
			return // another database, or a name SQLite keeps for itself
		}
		err = db.Transaction(ctx, func(tx *query.Tx) error {
			if err := schema.Create(ctx, tx, table, fn); err != nil {
				return err
			}
			names, err := query.All[string](ctx, tx, "SELECT name FROM sqlite_master")
			if err != nil {
				return err
			}
			if len(names) != 1 || names[0] != table {
				t.Errorf("Create(%q): the schema has %q", table, names)
			}
			ok, err := schema.HasColumn(ctx, tx, table, col)
			if err != nil || !ok {
				t.Errorf("HasColumn(%q, %q): got %v, %v", table, col, ok, err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Errorf("Create(%q, column %q): %v", table, col, err)
		}
	})
}
