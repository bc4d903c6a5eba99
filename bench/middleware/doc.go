// Package middleware compares Hatago's middleware
// (github.com/hatago/hatago/middleware) with the popular equivalents, side by
// side, in benchmarks that call ServeHTTP directly on a reused, discarding
// http.ResponseWriter, so that they measure the middleware and not a server
// or httptest:
//
//   - RequestID, RealIP, Recover and Timeout against chi's middleware;
//   - Compress against chi's Compress and gorilla/handlers' CompressHandler;
//   - CORS against rs/cors, for an actual request and a preflight;
//   - a stack of five (RealIP, RequestID, Recover, Timeout, CORS) in a
//     Hatago Stack against the same five in a chi.Chain and a chi Router.
//
// Every sub-benchmark is named …/vs=PEER/impl=peer or …/vs=PEER/impl=hatago,
// so benchstat puts the two side by side:
//
//	go test -run XXX -bench . -benchmem -count 10 ./middleware/ > /tmp/mwbench.txt
//	benchstat -filter '-.name:Baseline' -col '/impl@(peer hatago)' /tmp/mwbench.txt
//
// Before its loop, each benchmark serves the request once and checks that
// the middleware did its work (the ID was made, the address found, the body
// gzipped, the CORS headers set); TestEquivalent runs the same checks as an
// ordinary test. README.md has the results and what explains the gaps.
//
// This package holds only those tests and benchmarks. It lives in the
// benchmark module so that the peers never enter Hatago's go.mod.
package middleware
