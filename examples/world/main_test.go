package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/hatago/hatago/examples/world/verify"
	"github.com/hatago/hatago/internal/dbtest"
	"github.com/hatago/hatago/query"
)

// TestVerify runs the application on each database and checks it against
// every rule of the benchmark.
func TestVerify(t *testing.T) {
	t.Setenv("HATAGO_ACCESS_LOG", "false")
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		var out bytes.Buffer
		w, err := start(t.Context(), []string{"-b", "tcp://127.0.0.1:0", "--control-url", "tcp://127.0.0.1:0", "--db", tg.URL}, &out)
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		defer w.close()
		if err := w.srv.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer w.srv.Close()
		worlds := query.Table[struct {
			ID           int `db:"id"`
			RandomNumber int `db:"randomnumber"`
		}](w.db, "world")
		verify.Run(t, verify.Target{
			BaseURL: "http://" + w.srv.Addrs()[0].String(),
			Table: func(ctx context.Context) (map[int]int, error) {
				rows, err := worlds.Get(ctx)
				m := make(map[int]int, len(rows))
				for _, r := range rows {
					m[r.ID] = r.RandomNumber
				}
				return m, err
			},
			DateChange: true,
		})
	})
}

// TestOneQueryPerRow counts, in PostgreSQL itself (pg_stat_statements),
// the queries that /queries and /updates run: one per row, never one IN
// query for all of them.
func TestOneQueryPerRow(t *testing.T) {
	t.Setenv("HATAGO_ACCESS_LOG", "false")
	tg := dbtest.Postgres(t)
	ctx := t.Context()
	var out bytes.Buffer
	w, err := start(ctx, []string{"-b", "tcp://127.0.0.1:0", "--control-url", "", "--db", tg.URL}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	defer w.close()
	if err := w.srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.srv.Close()
	// The statements on this test's own world table: its schema is the
	// first in the search path, and pg_stat_statements keeps the text.
	calls := func() int64 {
		n, err := query.One[int64](ctx, w.db, `SELECT coalesce(sum(calls), 0)::bigint FROM public.pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query LIKE 'SELECT % FROM "world" WHERE "id" = $1%'`)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("pg_stat_statements: %v (scripts/postgres loads it)", err)
			}
			t.Skipf("pg_stat_statements not available (%v): run scripts/postgres", err)
		}
		return n
	}
	base := "http://" + w.srv.Addrs()[0].String()
	for _, path := range []string{"/queries?queries=20", "/updates?queries=20"} {
		before := calls()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := calls() - before; got < 20 {
			t.Errorf("%s: the database ran %d queries for one row each, want 20", path, got)
		}
	}
}
