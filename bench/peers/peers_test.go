package peers_test

import (
	"context"
	"os"
	"testing"

	"github.com/hatago/hatago/bench/harness"
	"github.com/hatago/hatago/bench/tfb"
	"github.com/hatago/hatago/bench/verify"
)

// TestPeers builds every peer, starts it against the benchmark database
// (created and seeded on the server of HATAGO_TEST_POSTGRES) and checks its
// seven endpoints against the rules, Date refresh included.
func TestPeers(t *testing.T) {
	testURL := os.Getenv(harness.EnvTestDB)
	if testURL == "" {
		t.Skip(harness.EnvTestDB + " is not set")
	}
	ctx := t.Context()
	dbURL, admin, err := harness.DatabaseURL("", func(k string) string {
		if k == harness.EnvTestDB {
			return testURL
		}
		return os.Getenv(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if admin != "" {
		if err := tfb.CreateDatabase(ctx, dbURL, admin); err != nil {
			t.Fatal(err)
		}
	}
	if err := tfb.Setup(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	pool, err := tfb.Open(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // after the parallel subtests
	lookup := func(ctx context.Context, id int) (int, error) {
		var n int
		err := pool.QueryRow(ctx, "SELECT randomnumber FROM world WHERE id = $1", id).Scan(&n)
		return n, err
	}

	cwd, _ := os.Getwd()
	dirs, err := harness.FindDirs(cwd)
	if err != nil {
		t.Fatal(err)
	}
	peers := harness.Peers()
	bins, errs := harness.Build(ctx, dirs, peers, t.TempDir(), nil)
	for _, s := range peers {
		t.Run(s.Name, func(t *testing.T) {
			if err := errs[s.Name]; err != nil {
				t.Fatal(err)
			}
			t.Parallel()
			addr, err := harness.FreeAddr()
			if err != nil {
				t.Fatal(err)
			}
			p, err := harness.Start(t.Context(), s, harness.StartOptions{Bin: bins[s.Name], Addr: addr, DBURL: dbURL, Pool: 4})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			c := &verify.Checker{BaseURL: "http://" + addr, Lookup: lookup, DateChange: true}
			for _, problem := range c.Check(t.Context()) {
				t.Error(problem)
			}
			if exited, err := p.Exited(); exited {
				t.Errorf("the server exited: %v\n%s", err, p.Output())
			}
		})
	}
}
