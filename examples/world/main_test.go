package main

import (
	"bytes"
	"context"
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
			RandomNumber int `db:"randomnumber"`
		}](w.db, "world")
		verify.Run(t, verify.Target{
			BaseURL: "http://" + w.srv.Addrs()[0].String(),
			Lookup: func(ctx context.Context, id int) (int, error) {
				r, err := worlds.Where("id", "=", id).First(ctx)
				return r.RandomNumber, err
			},
			DateChange: true,
		})
	})
}
