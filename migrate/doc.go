// Package migrate applies and reverts versioned migrations on a database
// opened with package query, on SQLite and PostgreSQL alike.
//
// A [Migration] is a version, a name and two functions, Up and Down, that
// get a transaction. Write them in Go, or as SQL files read from an
// embed.FS (or any fs.FS) by [FromFS]:
//
//	migrations/
//	  20261122150405_create_users.up.sql     CREATE TABLE users (...);
//	  20261122150405_create_users.down.sql   DROP TABLE users;
//	  20261123091500_add_email.up.sql
//	  20261123091500_add_email.down.sql
//
// A [Migrator], made by [New], applies the pending ones in version order
// ([Migrator.Up], [Migrator.UpTo]), reverts the newest ([Migrator.Down],
// [Migrator.DownTo]) and reports which are applied ([Migrator.Status]).
//
// # Transactions and history
//
// Each migration runs in a transaction of its own, which also adds its row
// to the history table, hatago_migrations (version, name, applied_at), or
// removes it from there. A migration that fails halfway, by an error or a
// panic, leaves neither its changes nor a history row, and stops the run;
// the migrations before it stay applied. Both databases roll back schema
// changes (CREATE, ALTER, DROP) with the rest, so a migration may mix
// them with data changes. Statements that cannot run in a transaction
// (PostgreSQL's CREATE INDEX CONCURRENTLY) cannot go in a migration.
//
// # Several processes at once
//
// The workers of a cluster may all run Up as they start; each migration is
// still applied exactly once, and every runner returns without error. On
// PostgreSQL a runner holds an advisory lock for its whole run (see
// [WithLock]); the others wait for it, then find the migrations applied.
// On SQLite each migration's transaction takes the database's write lock
// when it begins; inside it the runner reads the history again and skips
// a migration that another runner applied meanwhile. Either way the
// history is checked inside the transaction that applies the migration.
//
// # Command line
//
// `hatago migrate` ([CLI]) runs the SQL files of a directory:
//
//	hatago migrate new create_users --dir migrations
//	hatago migrate up --db sqlite:app.db --dir migrations
//	hatago migrate status --db postgres://app:secret@localhost/app
//	hatago migrate down 2 --db ...
//
// A program that embeds its migrations offers the same commands over them
// by running a CLI with Migrations set.
package migrate
