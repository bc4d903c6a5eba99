// Package seed fills databases with the data an application needs to run
// or to be tried: reference tables, demo data, benchmark tables (see
// package [github.com/hatago/hatago/seed/techempower]).
//
// A [Seeder] is a name and a function that writes rows. Seeders are
// idempotent: each checks what is there and writes only what is missing,
// so [Run] may seed at every start, from every worker of a cluster at
// once. Run gives each seeder a transaction of its own, so a seeder that
// fails leaves nothing half written, and holds a lock across the run so
// that concurrent runs take turns (see migrate.WithLock).
//
// Large seeds go in bulk: [Copy] writes rows in chunks of [ChunkSize]
// through query.CopyFrom, PostgreSQL's COPY protocol or multi-row INSERTs
// on SQLite, and counts each chunk on a [Progress], which draws a bar on a
// terminal and writes plain lines elsewhere.
//
// [CLI] is the command line over a set of seeders; `hatago seed
// techempower` is one.
package seed
