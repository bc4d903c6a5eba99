package tfb

import (
	"os"
	"slices"
	"testing"
)

// TestDB prepares the benchmark database on the server of
// HATAGO_TEST_POSTGRES and runs every query of the tests on it.
func TestDB(t *testing.T) {
	admin := os.Getenv("HATAGO_TEST_POSTGRES")
	if admin == "" {
		t.Skip("HATAGO_TEST_POSTGRES is not set")
	}
	ctx := t.Context()
	url, err := WithDatabase(admin, "hatago_bench")
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateDatabase(ctx, url, admin); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds everything in place
		if err := Setup(ctx, url); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := DB{Pool: pool}

	cache, err := db.LoadWorlds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range cache {
		if int(w.ID) != i+1 || w.RandomNumber < 1 || w.RandomNumber > WorldRows {
			t.Fatalf("cache[%d] = %+v", i, w)
		}
	}

	worlds := make([]World, 20)
	if err := db.Update(ctx, worlds); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(worlds, func(a, b World) int { return int(a.ID - b.ID) }) {
		t.Errorf("updated rows not sorted by id: %v", worlds)
	}
	for _, w := range worlds {
		var n int32
		if err := pool.QueryRow(ctx, SelectWorld, w.ID).Scan(new(int32), &n); err != nil {
			t.Fatal(err)
		}
		// An id drawn twice holds the number of one of its draws.
		if !slices.ContainsFunc(worlds, func(o World) bool { return o.ID == w.ID && o.RandomNumber == n }) {
			t.Errorf("world %d holds %d after the update, want one of the numbers returned", w.ID, n)
		}
	}

	fortunes, err := db.Fortunes(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fortunes) != 13 || fortunes[0].ID != 11 || fortunes[12].ID != 12 {
		t.Errorf("fortunes %v", fortunes)
	}
}
