package harness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hatago/hatago/bench/verify"
)

// Step is one wrk run against one server.
type Step struct {
	Test     string // the test name, one of verify.Tests
	Label    string // the request without its leading slash, such as "queries?queries=20"
	Conns    int    // wrk's connections
	Pipeline int    // requests per write; 0 or 1 for none
}

// Path is the step's request path.
func (s Step) Path() string { return "/" + s.Label }

// Plan is what the harness runs against every server.
type Plan struct {
	Mode     string        // "quick" or "full"
	Duration time.Duration // of each run
	Warmup   time.Duration // of each of the two warm-up runs per server
	Steps    []Step
}

// Per-run and per-server costs beyond the measured seconds, for the
// estimate: wrk's start and the pause between runs, and a server's build
// check, start, verification and stop.
const (
	stepOverhead   = 400 * time.Millisecond
	serverOverhead = 3 * time.Second
)

// pipelineDepth is how many plaintext requests wrk sends per write, as
// TechEmpower's load does.
const pipelineDepth = 16

// QuickPlan is one concurrency level per test, three seconds a run: about
// three minutes for six servers on a two-core machine.
func QuickPlan() Plan {
	const c = 256
	return Plan{
		Mode:     "quick",
		Duration: 3 * time.Second,
		Warmup:   time.Second,
		Steps: []Step{
			{Test: verify.JSON, Label: "json", Conns: c},
			{Test: verify.DB, Label: "db", Conns: c},
			{Test: verify.Queries, Label: "queries?queries=20", Conns: c},
			{Test: verify.Fortunes, Label: "fortunes", Conns: c},
			{Test: verify.Updates, Label: "updates?queries=20", Conns: c},
			{Test: verify.Plaintext, Label: "plaintext", Conns: c, Pipeline: pipelineDepth},
			{Test: verify.CachedQueries, Label: "cached-queries?count=100", Conns: c},
		},
	}
}

// FullPlan is TechEmpower's shape scaled to a small machine: JSON, single
// query and fortunes at 16, 64, 256 and 512 connections (TechEmpower:
// 16..512, doubling); plaintext at 256, 1024 and 4096 connections with 16
// requests per write (TechEmpower goes on to 16384); queries and updates
// at 512 connections with N = 1, 5, 10, 15, 20, and cached queries at 512
// with N = 1, 10, 20, 50, 100, as TechEmpower does. Ten seconds a run
// (TechEmpower: fifteen).
func FullPlan() Plan {
	p := Plan{Mode: "full", Duration: 10 * time.Second, Warmup: 5 * time.Second}
	add := func(test, label string, conns []int, pipeline int) {
		for _, c := range conns {
			p.Steps = append(p.Steps, Step{Test: test, Label: label, Conns: c, Pipeline: pipeline})
		}
	}
	levels := []int{16, 64, 256, 512}
	add(verify.JSON, "json", levels, 0)
	add(verify.DB, "db", levels, 0)
	for _, n := range []int{1, 5, 10, 15, 20} {
		add(verify.Queries, "queries?queries="+strconv.Itoa(n), []int{512}, 0)
	}
	add(verify.Fortunes, "fortunes", levels, 0)
	for _, n := range []int{1, 5, 10, 15, 20} {
		add(verify.Updates, "updates?queries="+strconv.Itoa(n), []int{512}, 0)
	}
	add(verify.Plaintext, "plaintext", []int{256, 1024, 4096}, pipelineDepth)
	for _, n := range []int{1, 10, 20, 50, 100} {
		add(verify.CachedQueries, "cached-queries?count="+strconv.Itoa(n), []int{512}, 0)
	}
	return p
}

// Only returns the plan with only the steps of the named tests; none named
// keeps them all. An unknown name is an error.
func (p Plan) Only(tests []string) (Plan, error) {
	if len(tests) == 0 {
		return p, nil
	}
	for _, t := range tests {
		if !slices.Contains(verify.Tests, t) {
			return Plan{}, fmt.Errorf("unknown test %q (tests: %s)", t, strings.Join(verify.Tests, ", "))
		}
	}
	var steps []Step
	for _, s := range p.Steps {
		if slices.Contains(tests, s.Test) {
			steps = append(steps, s)
		}
	}
	p.Steps = steps
	return p, nil
}

// PerServer estimates how long the plan takes for one server.
func (p Plan) PerServer() time.Duration {
	return serverOverhead + 2*p.Warmup + time.Duration(len(p.Steps))*(p.Duration+stepOverhead)
}

// Estimate is an estimated time left: the planned time left, scaled by how
// the time spent so far compares with the time planned for it.
func Estimate(planned, plannedDone, spent time.Duration) time.Duration {
	left := planned - plannedDone
	if plannedDone > 0 && spent > 0 {
		left = time.Duration(float64(left) * float64(spent) / float64(plannedDone))
	}
	return max(0, left).Round(time.Second)
}
