package query_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

func TestOpenURLs(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	urls := []string{
		"sqlite:" + filepath.Join(dir, "a.db"),
		"sqlite://" + filepath.Join(dir, "b.db"), // sqlite:///abs/path
		"sqlite::memory:",
	}
	if pg := os.Getenv(dbtest.EnvPostgres); pg != "" {
		urls = append(urls, pg, "postgresql://"+strings.TrimPrefix(pg, "postgres://"))
	}
	for _, u := range urls {
		db, err := query.Open(ctx, u)
		if err != nil {
			t.Errorf("Open(%q): %v", u, err)
			continue
		}
		var one int64
		if one, err = query.One[int64](ctx, db, "SELECT 1"); err != nil || one != 1 {
			t.Errorf("%s: SELECT 1 = %d, %v", u, one, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("%s: Ping: %v", u, err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("%s: Close: %v", u, err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("%s: second Close: %v", u, err)
		}
		if err := db.Ping(ctx); err == nil {
			t.Errorf("%s: Ping after Close succeeded", u)
		}
	}
	for _, name := range []string{"a.db", "b.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}
}

func TestOpenSQLitePragmas(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name        string
		url         string
		opts        query.Options
		journal     string
		busyTimeout int64
	}{
		{"file", dbtest.SQLite(t).URL, query.Options{}, "wal", 5000},
		{"file with busy timeout", dbtest.SQLite(t).URL, query.Options{BusyTimeout: 1234 * time.Millisecond}, "wal", 1234},
		{"memory", "sqlite::memory:", query.Options{}, "memory", 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := query.Open(ctx, tt.url, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Every connection of the pool has the settings: hold several.
			for range 3 {
				err := db.Conn(ctx, func(c *query.Conn) error {
					journal, err := query.One[string](ctx, c, "PRAGMA journal_mode")
					if err != nil {
						return err
					}
					if journal != tt.journal {
						t.Errorf("journal_mode = %q, want %q", journal, tt.journal)
					}
					fk, err := query.One[int64](ctx, c, "PRAGMA foreign_keys")
					if err != nil {
						return err
					}
					if fk != 1 {
						t.Errorf("foreign_keys = %d, want 1", fk)
					}
					busy, err := query.One[int64](ctx, c, "PRAGMA busy_timeout")
					if err != nil {
						return err
					}
					if busy != tt.busyTimeout {
						t.Errorf("busy_timeout = %d, want %d", busy, tt.busyTimeout)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			// Through db.Query too, on any pooled connection.
			rows, err := db.Query(ctx, "PRAGMA foreign_keys")
			if err != nil {
				t.Fatal(err)
			}
			fks, err := query.ScanAll[int64](rows)
			if err != nil || len(fks) != 1 || fks[0] != 1 {
				t.Errorf("db.Query(PRAGMA foreign_keys) = %v, %v; want [1]", fks, err)
			}
		})
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := t.Context()
		db := openDB(t, tg, query.Options{MaxConns: 3, MinConns: 1, MaxIdleTime: time.Minute, MaxLifetime: 2 * time.Minute})
		if got := db.Dialect().Name(); got != tg.Name {
			t.Errorf("Dialect().Name() = %q, want %q", got, tg.Name)
		}
		if tg.Name == "postgres" {
			// The password hidden, the rest as it was.
			u, err := url.Parse(tg.URL)
			if err != nil {
				t.Fatal(err)
			}
			if _, has := u.User.Password(); !has || db.String() != u.Redacted() {
				t.Errorf("String() = %q, want %q", db.String(), u.Redacted())
			}
		}
		switch tg.Name {
		case "postgres":
			cfg := db.Pgx().Config()
			if cfg.MaxConns != 3 || cfg.MinConns != 1 || cfg.MaxConnIdleTime != time.Minute || cfg.MaxConnLifetime != 2*time.Minute {
				t.Errorf("pgx config MaxConns %d, MinConns %d, idle %v, lifetime %v; want 3, 1, 1m, 2m",
					cfg.MaxConns, cfg.MinConns, cfg.MaxConnIdleTime, cfg.MaxConnLifetime)
			}
			if db.SQL() != nil {
				t.Error("SQL() is not nil on PostgreSQL")
			}
		case "sqlite":
			if got := db.SQL().Stats().MaxOpenConnections; got != 3 {
				t.Errorf("MaxOpenConnections = %d, want 3", got)
			}
			if db.Pgx() != nil {
				t.Error("Pgx() is not nil on SQLite")
			}
		}
		// MaxConns bounds the connections held at once.
		held := make(chan struct{})
		release := make(chan struct{})
		errc := make(chan error, 3)
		for range 3 {
			go func() {
				errc <- db.Conn(ctx, func(*query.Conn) error {
					held <- struct{}{}
					<-release
					return nil
				})
			}()
		}
		for range 3 {
			<-held
		}
		if s := db.Stats(); s.InUse != 3 || s.Open != 3 {
			t.Errorf("Stats() with 3 held = %+v, want 3 open, 3 in use", s)
		}
		close(release)
		for range 3 {
			if err := <-errc; err != nil {
				t.Error(err)
			}
		}
	})
	if _, err := query.Open(t.Context(), "sqlite::memory:", query.Options{MaxConns: -1}); err == nil {
		t.Error("Open with MaxConns -1 succeeded")
	}
}

func TestOpenBadURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tests := []struct{ name, url string }{
		{"unknown scheme", "mysql://root:s3cr3tpw@localhost/db"},
		{"no scheme", "root:s3cr3tpw@localhost/db"},
		{"empty", ""},
		{"sqlite without path", "sqlite:"},
		{"sqlite missing directory", "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")},
		{"postgres bad port", "postgres://root:s3cr3tpw@localhost:99999999x/db"},
		{"postgres bad sslmode", "postgres://root:s3cr3tpw@localhost/db?sslmode=bogus"},
		{"postgres bad escape", "postgres://root:s3cr3tpw@localhost/%zz"},
		{"postgres refused", "postgres://root:s3cr3tpw@127.0.0.1:1/db?connect_timeout=2"},
		{"postgres refused, password parameter", "postgres://root@127.0.0.1:1/db?password=s3cr3tpw&connect_timeout=2"},
		{"postgres bad sslmode, password parameter", "postgres://root@localhost/db?password=s3cr3tpw&sslmode=bogus"},
		{"postgres escaped password", "postgres://root:s3cr3tpw%21@localhost/db?sslmode=bogus"},
		{"postgres unescaped @ in password", "postgres://root:s3cr3tpw@x@localhost:99999999x/db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := query.Open(ctx, tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tt.url)
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cr3tpw") {
				t.Errorf("error shows the password: %v", msg)
			}
			if strings.Contains(tt.url, "root") && !strings.Contains(msg, "root") {
				t.Errorf("error hides more than the password: %v", msg)
			}
			if !strings.HasPrefix(msg, "hatago/query: ") {
				t.Errorf("error %q does not say where it comes from", msg)
			}
		})
	}
}

// TestOpenMemory checks that sqlite::memory: is one database shared by the
// pool's connections, private to its DB, and kept while the pool closes
// idle connections.
func TestOpenMemory(t *testing.T) {
	ctx := t.Context()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Two connections held at once see the same table.
	err = db.Conn(ctx, func(c1 *query.Conn) error {
		if _, err := c1.Exec(ctx, "CREATE TABLE shared (x INTEGER)"); err != nil {
			return err
		}
		return db.Conn(ctx, func(c2 *query.Conn) error {
			if _, err := c2.Exec(ctx, "INSERT INTO shared (x) VALUES (?)", 42); err != nil {
				return err
			}
			x, err := query.One[int64](ctx, c1, "SELECT x FROM shared")
			if err != nil || x != 42 {
				t.Errorf("first connection reads %d, %v; want 42", x, err)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := db.Stats(); s.Open < 2 {
		t.Errorf("Stats().Open = %d, want at least the 2 connections just used", s.Open)
	}

	// Another Open has a database of its own.
	other, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(ctx, "SELECT x FROM shared"); !errors.Is(err, query.ErrInvalid) {
		t.Errorf("second DB reads the first's table: err = %v, want ErrInvalid (no such table)", err)
	}

	// The pool may close every connection; the database stays.
	db.SQL().SetMaxIdleConns(0)
	for range 3 {
		if _, err := db.Exec(ctx, "INSERT INTO shared (x) VALUES (1)"); err != nil {
			t.Fatalf("insert after the pool closed its connections: %v", err)
		}
	}
	if n, err := db.Table("shared").Count(ctx); err != nil || n != 4 {
		t.Errorf("Count = %d, %v; want 4", n, err)
	}
}

func TestConn(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := t.Context()
		db := openDB(t, tg)
		err := db.Conn(ctx, func(c *query.Conn) error {
			if c.Dialect().Name() != tg.Name {
				t.Errorf("Conn dialect %q", c.Dialect().Name())
			}
			// A temporary table lives on its connection only.
			if _, err := c.Exec(ctx, "CREATE TEMPORARY TABLE scratch (x INTEGER)"); err != nil {
				return err
			}
			if _, err := c.Table("scratch").Insert(ctx, query.Row{"x": 1}, query.Row{"x": 2}); err != nil {
				return err
			}
			return c.Transaction(ctx, func(tx *query.Tx) error {
				n, err := tx.Table("scratch").Count(ctx)
				if err != nil || n != 2 {
					t.Errorf("Count in the connection's transaction = %d, %v; want 2", n, err)
				}
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
