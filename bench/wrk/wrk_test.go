package wrk

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// A run of wrk 4.1.0 with Script(16) and --latency.
const withJSON = `Running 1s test @ http://127.0.0.1:18555/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.79ms    6.59ms  57.27ms   92.83%
    Req/Sec    48.22k    11.47k   67.81k    80.00%
  Latency Distribution
     50%    1.73ms
     75%    3.74ms
     90%    7.94ms
     99%   40.04ms
  49093 requests in 1.04s, 6.09MB read
Requests/sec:  47049.77
Transfer/sec:      5.83MB
wrk-json: {"requests":49093,"bytes":6382090,"duration_us":1043427,"connect":0,"read":2,"write":0,"status":5,"timeout":1,"p50_us":1733,"p90_us":7938,"p99_us":40044,"max_us":57267,"mean_us":3788}
`

// The same kind of run without a script, with errors.
const textOnly = `Running 10s test @ http://127.0.0.1:8080/db
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.50ms    3.10ms   1.02s    91.00%
    Req/Sec    10.10k   800.00     12.00k    70.00%
  Latency Distribution
     50%  512.00us
     75%    1.20ms
     90%    2.00s
     99%    1.50m
  201234 requests in 10.00s, 30.00MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 17
Requests/sec:  20123.40
Transfer/sec:      3.00MB
`

func TestParseJSON(t *testing.T) {
	r, err := Parse(withJSON)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Requests: 49093, Bytes: 6382090, Duration: 1043427 * time.Microsecond,
		P50: 1733 * time.Microsecond, P90: 7938 * time.Microsecond, P99: 40044 * time.Microsecond,
		Max: 57267 * time.Microsecond, Mean: 3788 * time.Microsecond,
		Errors: Errors{Read: 2, Status: 5, Timeout: 1},
	}
	rps := r.RPS
	r.RPS = 0
	if r != want {
		t.Errorf("got %+v, want %+v", r, want)
	}
	if math.Abs(rps-47050.1) > 1 {
		t.Errorf("RPS %v, want about 47050", rps)
	}
	if ok := r.OKPerSecond(); math.Abs(ok-(49093-5)/1.043427) > 0.01 {
		t.Errorf("OKPerSecond() = %v", ok)
	}
	if got := r.Errors.String(); got != "read 2, timeout 1, status 5" {
		t.Errorf("Errors.String() = %q", got)
	}
}

func TestParseText(t *testing.T) {
	r, err := Parse(textOnly)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Requests: 201234, Duration: 10 * time.Second, RPS: 20123.40,
		P50: 512 * time.Microsecond, P90: 2 * time.Second, P99: 90 * time.Second,
		Max: 1020 * time.Millisecond, Mean: 12500 * time.Microsecond,
		Errors: Errors{Connect: 1, Read: 2, Write: 3, Timeout: 4, Status: 17},
	}
	if r != want {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if r.Errors.Total() != 27 {
		t.Errorf("Total() = %d, want 27", r.Errors.Total())
	}
}

func TestParseFails(t *testing.T) {
	for _, out := range []string{
		"",
		"unable to connect to 127.0.0.1:1 Connection refused\n",
		"wrk-json: {not json\n",
		`wrk-json: {"requests":0,"duration_us":0}` + "\n",
		`wrk-json: {"requests":-5,"duration_us":1000}` + "\n",
	} {
		if r, err := Parse(out); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", out, r)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"512.00us", 512 * time.Microsecond}, {"1.20ms", 1200 * time.Microsecond},
		{"2.00s", 2 * time.Second}, {"1.50m", 90 * time.Second}, {"1.00h", time.Hour},
	}
	for _, tt := range tests {
		if got, err := parseDuration(tt.in); err != nil || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12", "x.yms", "80.00%"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q): no error", bad)
		}
	}
}

func TestScript(t *testing.T) {
	plain := Script(1)
	if strings.Contains(plain, "request =") || !strings.Contains(plain, "done = function") {
		t.Errorf("Script(1) pipelines or lacks done():\n%s", plain)
	}
	piped := Script(16)
	if !strings.Contains(piped, "for i = 1, 16 do") || !strings.Contains(piped, "request = function() return req end") {
		t.Errorf("Script(16) does not pipeline 16:\n%s", piped)
	}
}

func TestArgs(t *testing.T) {
	got := Args(Options{URL: "http://h/x", Connections: 4, Threads: 8, Duration: 2500 * time.Millisecond, Timeout: 8 * time.Second}, "/s.lua")
	want := []string{"-t", "4", "-c", "4", "-d", "3s", "--latency", "-s", "/s.lua", "--timeout", "8s", "http://h/x"}
	if !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(withJSON)
	f.Add(textOnly)
	f.Add("wrk-json: {}\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := Parse(out)
		if err == nil && (r.RPS < 0 || math.IsNaN(r.RPS)) {
			t.Errorf("Parse(%q) = %+v", out, r)
		}
	})
}
