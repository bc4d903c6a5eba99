// Command harness runs the TechEmpower tests with wrk against Hatago and
// its peers, one server at a time, and writes the results to
// bench/results (see package harness and bench/README.md).
//
//	cd bench && go run ./cmd/harness -quick
//	bench/run -servers nethttp,fasthttp -tests json,plaintext
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hatago/hatago/bench/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := harness.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
