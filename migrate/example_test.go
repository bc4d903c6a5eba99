package migrate_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/hatago/hatago/migrate"
	"github.com/hatago/hatago/query"
)

// Migrations written in Go, applied, listed and reverted on an in-memory
// SQLite database.
func Example() {
	ctx := context.Background()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	m, err := migrate.New(db, []migrate.Migration{
		{
			Version: 1,
			Name:    "create_users",
			Up:      migrate.SQL(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`),
			Down:    migrate.SQL(`DROP TABLE users`),
		},
		{
			Version: 2,
			Name:    "add_admin",
			Up: func(ctx context.Context, tx *query.Tx) error {
				_, err := tx.Table("users").Insert(ctx, query.Row{"id": 1, "name": "admin"})
				return err
			},
			Down: migrate.SQL(`DELETE FROM users WHERE id = 1`),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	applied, err := m.Up(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("applied:", applied)

	reverted, err := m.Down(ctx, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("reverted:", reverted)

	states, err := m.Status(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range states {
		fmt.Println(s.Version, s.Name, s.Applied)
	}
	// Output:
	// applied: [1_create_users 2_add_admin]
	// reverted: [2_add_admin]
	// 1 create_users true
	// 2 add_admin false
}

// Migrations as SQL files: an embed.FS works the same as this MapFS.
func ExampleFromFS() {
	files := fstest.MapFS{
		"migrations/0001_create_world.up.sql":   {Data: []byte(`CREATE TABLE world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL);`)},
		"migrations/0001_create_world.down.sql": {Data: []byte(`DROP TABLE world;`)},
		"migrations/0002_seed_world.up.sql": {Data: []byte(`
			INSERT INTO world (id, randomnumber) VALUES (1, 42);
			INSERT INTO world (id, randomnumber) VALUES (2, 7);`)},
		"migrations/0002_seed_world.down.sql": {Data: []byte(`DELETE FROM world;`)},
	}
	migrations, err := migrate.FromFS(files, "migrations")
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	db, err := query.Open(ctx, "sqlite::memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	m, err := migrate.New(db, migrations)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := m.Up(ctx); err != nil {
		fmt.Println(err)
		return
	}
	n, err := db.Table("world").Count(ctx)
	fmt.Println(n, err)
	// Output:
	// 2 <nil>
}
