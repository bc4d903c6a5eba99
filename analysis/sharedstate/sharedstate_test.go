package sharedstate_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/hatago/hatago/analysis/sharedstate"
)

// The packages under testdata/src are the analyzer's executable
// documentation: each line it must report carries a // want comment, and
// every other line is a case it must accept.
func TestAnalyzer(t *testing.T) {
	// One run loads every package at once, which is much faster than a
	// run per package; failures name the file and line.
	analysistest.Run(t, analysistest.TestData(), sharedstate.Analyzer,
		"rack",       // the Rack middleware @val += 1 and its fixes
		"counter",    // the hands-on request counter and its fixes
		"locks",      // Lock, RLock, defer, nested blocks, TryLock
		"flow",       // lock state out of branches and loops
		"helpers",    // lock helpers and withLock callbacks
		"reach",      // calls from handlers, cycles, guarded callees, fooLocked
		"closures",   // variables captured by handler closures
		"valuerecv",  // value receivers
		"once",       // sync.Once, OnceFunc, OnceValue
		"chansem",    // channels as semaphores
		"nested",     // go, defer and callbacks inside handlers
		"escape",     // handler closures that escape a per-request function
		"fresh",      // handler values built for one request
		"addr",       // &shared passed to another package
		"perrequest", // types built by middleware.PerRequest
		"directive",  // //hatagovet:ignore
		"testsoff",   // _test.go files are skipped by default
	)
	// The -tests flag is tested end to end, through the command, in
	// cmd/hatagovet: a second run here would load net/http again.
}
