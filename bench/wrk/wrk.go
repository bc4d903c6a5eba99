// Package wrk runs the wrk HTTP load generator and reads its results.
//
// Every run goes through a Lua script whose done() hook prints the summary
// as one JSON line (requests, duration, errors, latency percentiles), so no
// figure depends on wrk's rounded human output; for pipelined runs the same
// script sends several requests per write, as TechEmpower's plaintext test
// does. Parse also reads wrk's human output (run with --latency) when that
// line is missing.
package wrk

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNotInstalled is returned by Check and Run when there is no wrk binary
// on the PATH.
var ErrNotInstalled = errors.New("wrk: not installed (Debian: apt-get install -y wrk)")

// Check returns ErrNotInstalled if wrk cannot be found.
func Check() error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return ErrNotInstalled
	}
	return nil
}

// Options describe one run.
type Options struct {
	URL         string
	Connections int
	Threads     int           // at most Connections; 0 means 1
	Duration    time.Duration // whole seconds; at least 1 s
	Timeout     time.Duration // a response slower than this counts as an error; 0 means wrk's 2 s
	// Pipeline is the number of requests sent in each write; 0 or 1 sends
	// one at a time.
	Pipeline int
	// Prefix is put before the wrk command, such as taskset -c 0.
	Prefix []string
}

// Result is what one run measured.
type Result struct {
	Requests int64         // responses completed
	Bytes    int64         // bytes read
	Duration time.Duration // how long the run took
	RPS      float64       // Requests per second of Duration, errors included, as wrk reports it
	P50, P90 time.Duration // latency percentiles
	P99, Max time.Duration
	Mean     time.Duration
	Errors   Errors
}

// OKPerSecond is the rate of good (2xx or 3xx) responses: a server that
// answers fast with errors does not gain by it.
func (r Result) OKPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(max(0, r.Requests-r.Errors.Status)) / r.Duration.Seconds()
}

// Errors counts what went wrong in a run, as wrk reports it.
type Errors struct {
	Connect, Read, Write, Timeout int64
	Status                        int64 // responses other than 2xx or 3xx
}

// Total is the sum of all errors.
func (e Errors) Total() int64 { return e.Connect + e.Read + e.Write + e.Timeout + e.Status }

// String lists the non-zero counts, such as "status 3, timeout 12".
func (e Errors) String() string {
	var parts []string
	for _, c := range []struct {
		name string
		n    int64
	}{{"connect", e.Connect}, {"read", e.Read}, {"write", e.Write}, {"timeout", e.Timeout}, {"status", e.Status}} {
		if c.n != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.name, c.n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// marker starts the line the script's done() hook prints.
const marker = "wrk-json: "

// Script returns the Lua script for a run that sends pipeline requests per
// write (0 or 1: one) and prints its summary as JSON.
func Script(pipeline int) string {
	var b strings.Builder
	if pipeline > 1 {
		fmt.Fprintf(&b, `init = function(args)
  local r = {}
  for i = 1, %d do r[i] = wrk.format() end
  req = table.concat(r)
end
request = function() return req end
`, pipeline)
	}
	b.WriteString(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('` + marker + `{"requests":%.0f,"bytes":%.0f,"duration_us":%.0f,` +
		`"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,` +
		`"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"mean_us":%.0f}\n',
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`)
	return b.String()
}

// Args returns wrk's arguments for o with the script at scriptPath.
func Args(o Options, scriptPath string) []string {
	threads := max(1, min(o.Threads, o.Connections))
	args := []string{
		"-t", strconv.Itoa(threads),
		"-c", strconv.Itoa(o.Connections),
		"-d", strconv.Itoa(max(1, int(o.Duration.Round(time.Second)/time.Second))) + "s",
		"--latency",
		"-s", scriptPath,
	}
	if o.Timeout > 0 {
		args = append(args, "--timeout", strconv.Itoa(max(1, int(o.Timeout.Round(time.Second)/time.Second)))+"s")
	}
	return append(args, o.URL)
}

// Run runs wrk as o describes and returns its result. Its error includes
// wrk's output when wrk fails or prints nothing Parse can read.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := Check(); err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "wrk")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "run.lua")
	if err := os.WriteFile(script, []byte(Script(o.Pipeline)), 0o644); err != nil {
		return Result{}, err
	}
	argv := append(append(append([]string(nil), o.Prefix...), "wrk"), Args(o, script)...)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return Result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := Parse(string(out))
	if err != nil {
		return Result{}, fmt.Errorf("%w\n%s", err, out)
	}
	return r, nil
}

// Parse reads a run's result from wrk's output: the script's JSON line if
// there is one, else the human summary (Requests/sec, the --latency
// distribution and the error lines).
func Parse(out string) (Result, error) {
	for line := range strings.Lines(out) {
		if js, ok := strings.CutPrefix(strings.TrimSpace(line), marker); ok {
			return parseJSON(js)
		}
	}
	return parseText(out)
}

func parseJSON(js string) (Result, error) {
	var v struct {
		Requests   float64 `json:"requests"`
		Bytes      float64 `json:"bytes"`
		DurationUS float64 `json:"duration_us"`
		Connect    float64 `json:"connect"`
		Read       float64 `json:"read"`
		Write      float64 `json:"write"`
		Status     float64 `json:"status"`
		Timeout    float64 `json:"timeout"`
		P50US      float64 `json:"p50_us"`
		P90US      float64 `json:"p90_us"`
		P99US      float64 `json:"p99_us"`
		MaxUS      float64 `json:"max_us"`
		MeanUS     float64 `json:"mean_us"`
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		return Result{}, fmt.Errorf("wrk: reading the summary line: %w", err)
	}
	us := func(f float64) time.Duration { return time.Duration(f * float64(time.Microsecond)) }
	r := Result{
		Requests: int64(v.Requests),
		Bytes:    int64(v.Bytes),
		Duration: us(v.DurationUS),
		P50:      us(v.P50US),
		P90:      us(v.P90US),
		P99:      us(v.P99US),
		Max:      us(v.MaxUS),
		Mean:     us(v.MeanUS),
		Errors: Errors{
			Connect: int64(v.Connect), Read: int64(v.Read), Write: int64(v.Write),
			Timeout: int64(v.Timeout), Status: int64(v.Status),
		},
	}
	if r.Duration <= 0 || r.Requests < 0 {
		return Result{}, fmt.Errorf("wrk: a summary without duration or with negative counts: %s", js)
	}
	r.RPS = float64(r.Requests) / r.Duration.Seconds()
	return r, nil
}

// parseText reads wrk's human output, such as
//
//	  Latency Distribution
//	     50%  1.20ms
//	     99%  5.43ms
//	  123456 requests in 10.00s, 15.2MB read
//	  Socket errors: connect 0, read 2, write 0, timeout 0
//	  Non-2xx or 3xx responses: 4
//	Requests/sec:  12345.67
func parseText(out string) (Result, error) {
	var r Result
	var haveRPS bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return Result{}, fmt.Errorf("wrk: %q: %w", sc.Text(), err)
			}
			r.RPS, haveRPS = v, true
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			d, err := parseDuration(f[1])
			if err != nil {
				continue // a line of the thread stats table
			}
			switch f[0] {
			case "50%", "50.000%":
				r.P50 = d
			case "90%", "90.000%":
				r.P90 = d
			case "99%", "99.000%":
				r.P99 = d
			}
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			r.Requests, _ = strconv.ParseInt(f[0], 10, 64)
			if d, err := parseDuration(strings.TrimSuffix(f[3], ",")); err == nil {
				r.Duration = d
			}
		case len(f) == 10 && f[0] == "Socket" && f[1] == "errors:":
			n := func(s string) int64 { v, _ := strconv.ParseInt(strings.TrimSuffix(s, ","), 10, 64); return v }
			r.Errors.Connect, r.Errors.Read, r.Errors.Write, r.Errors.Timeout = n(f[3]), n(f[5]), n(f[7]), n(f[9])
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Errors.Status, _ = strconv.ParseInt(f[4], 10, 64)
		case len(f) >= 2 && f[0] == "Latency" && f[1] != "Distribution":
			if len(f) >= 5 { // Latency  avg  stdev  max  +/-stdev
				r.Mean, _ = parseDuration(f[1])
				r.Max, _ = parseDuration(f[3])
			}
		}
	}
	if !haveRPS {
		return Result{}, errors.New("wrk: no Requests/sec in the output")
	}
	return r, nil
}

// parseDuration reads wrk's durations: 512.00us, 1.20ms, 2.00s, 1.50m, 1.00h.
func parseDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk: duration %q: %w", s, err)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("wrk: duration %q has no unit", s)
}
