// Package peers holds the servers Hatago is measured against, each its own
// main package serving the seven TechEmpower tests on 127.0.0.1 with the
// flags -addr host:port, -db URL and -pool N:
//
//   - nethttp: the standard library's net/http
//   - fasthttp: valyala/fasthttp; with -prefork, one process per core
//   - fiber: Fiber v3
//   - gin: Gin
//
// This package itself only holds their test, which builds and starts each
// one against a real PostgreSQL and checks every endpoint against the
// rules (package verify).
package peers
