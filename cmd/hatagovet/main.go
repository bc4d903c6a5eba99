// Command hatagovet reports writes to state that every request goroutine
// shares, done from HTTP handlers without a lock. It runs the
// [sharedstate.Analyzer] on the packages it is given:
//
//	go run github.com/hatago/hatago/cmd/hatagovet ./...
//
// and speaks the protocol of go vet, after go install:
//
//	go vet -vettool=$(go env GOPATH)/bin/hatagovet ./...
//
// The flag -tests also checks _test.go files. It exits with status 3 when it
// reports a problem, 1 when it cannot load the packages.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/hatago/hatago/analysis/sharedstate"
)

func main() { singlechecker.Main(sharedstate.Analyzer) }
