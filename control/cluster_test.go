package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hatago/hatago/control"
)

// clusterCommands are the cluster routes and their success messages.
var clusterCommands = []struct{ command, message string }{
	{"restart", "restarting"},
	{"phased-restart", "phased restart started"},
	{"worker-count-up", "worker count up"},
	{"worker-count-down", "worker count down"},
}

func TestClusterServerEndpoints(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			target := newFakeCluster()
			srv := startServer(t, control.Config{URL: listenURL(t, network), Token: testToken, Target: target})
			hc := rawHTTP(t, srv)

			tests := []struct {
				name     string
				method   string
				path     string
				status   int
				contains []string
				after    func(t *testing.T)
			}{
				{name: "stats", method: "GET", path: "/stats", status: 200,
					contains: []string{`"worker_status":[`, `"workers":2`, `"phased_restart":"running"`, `"pid":5000`,
						`"last_status":{`, `"requests_count":12345`, `"stopping":"phased restart"`}},
				{name: "restart", method: "POST", path: "/restart", status: 200, contains: []string{`{"message":"restarting"}`},
					after: func(t *testing.T) { waitFor(t, target.restarted, "Restart") }},
				{name: "restart get", method: "GET", path: "/restart", status: 200, contains: []string{`{"message":"restarting"}`},
					after: func(t *testing.T) { waitFor(t, target.restarted, "Restart") }},
				{name: "phased-restart", method: "POST", path: "/phased-restart", status: 200,
					contains: []string{`{"message":"phased restart started"}`}},
				{name: "phased-restart get", method: "GET", path: "/phased-restart", status: 200,
					contains: []string{`{"message":"phased restart started"}`}},
				{name: "worker-count-up", method: "POST", path: "/worker-count-up", status: 200,
					contains: []string{`{"message":"worker count up"}`}},
				{name: "worker-count-down", method: "POST", path: "/worker-count-down", status: 200,
					contains: []string{`{"message":"worker count down"}`}},
				{name: "wrong method", method: "DELETE", path: "/phased-restart", status: 405,
					contains: []string{`"error":"method DELETE not allowed on /phased-restart (want GET or POST)"`}},
				{name: "stop", method: "POST", path: "/stop", status: 200, contains: []string{`{"message":"stopping"}`},
					after: func(t *testing.T) { waitFor(t, target.stopped, "Stop") }},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := send(t, hc, tt.method, tt.path, bearer(testToken))
					if got.status != tt.status {
						t.Fatalf("status: got %d, want %d (body %s)", got.status, tt.status, got.body)
					}
					if ct := got.header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type: got %q, want application/json", ct)
					}
					if !json.Valid([]byte(got.body)) {
						t.Errorf("body is not JSON: %s", got.body)
					}
					if sub, ok := contains(got.body, tt.contains...); !ok {
						t.Errorf("body lacks %q:\n%s", sub, got.body)
					}
					if tt.after != nil {
						tt.after(t)
					}
				})
			}
			for _, c := range []struct {
				name      string
				got, want int32
			}{
				{"Restart", target.restarts.Load(), 2},
				{"PhasedRestart", target.phased.Load(), 2},
				{"WorkerCountUp", target.ups.Load(), 1},
				{"WorkerCountDown", target.downs.Load(), 1},
				{"Stop", target.stops.Load(), 1},
			} {
				if c.got != c.want {
					t.Errorf("%s calls: got %d, want %d", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestClusterServerAuth(t *testing.T) {
	target := newFakeCluster()
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target})
	hc := rawHTTP(t, srv)
	for _, c := range clusterCommands {
		for _, tt := range []struct {
			name   string
			query  string
			header http.Header
			status int
		}{
			{name: "no token", status: 401},
			{name: "wrong query token", query: "?token=nope", status: 403},
			{name: "wrong bearer token", header: bearer("nope"), status: 403},
			{name: "query token", query: "?token=" + testToken, status: 200},
		} {
			t.Run(c.command+"/"+tt.name, func(t *testing.T) {
				got := send(t, hc, "POST", "/"+c.command+tt.query, tt.header)
				if got.status != tt.status {
					t.Errorf("status: got %d, want %d (body %s)", got.status, tt.status, got.body)
				}
			})
		}
	}
	waitFor(t, target.restarted, "Restart")
	for _, c := range []struct {
		name string
		got  int32
	}{
		{"Restart", target.restarts.Load()},
		{"PhasedRestart", target.phased.Load()},
		{"WorkerCountUp", target.ups.Load()},
		{"WorkerCountDown", target.downs.Load()},
	} {
		if c.got != 1 {
			t.Errorf("%s calls: got %d, want 1 (only the request with the token)", c.name, c.got)
		}
	}
}

func TestClusterCommandRefused(t *testing.T) {
	var logs syncBuffer
	target := newFakeCluster()
	target.restartErr = errors.New("a hot restart is under way")
	target.phasedErr = errors.New("a phased restart is under way")
	target.upErr = errors.New("crash loop: not adding workers")
	target.downErr = errors.New("at one worker already")
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	hc := rawHTTP(t, srv)

	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/phased-restart", 409, `{"error":"a phased restart is under way"}`},
		{"/worker-count-up", 409, `{"error":"crash loop: not adding workers"}`},
		{"/worker-count-down", 409, `{"error":"at one worker already"}`},
		// The answer leaves before Restart runs, so its error is only logged.
		{"/restart", 200, `{"message":"restarting"}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := send(t, hc, "POST", tt.path, bearer(testToken))
			if got.status != tt.status || strings.TrimSpace(got.body) != tt.body {
				t.Errorf("got %d %s, want %d %s", got.status, got.body, tt.status, tt.body)
			}
		})
	}
	waitFor(t, target.restarted, "Restart")
	// The log line follows Restart's return; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "a hot restart is under way") {
		if time.Now().After(deadline) {
			t.Fatalf("Restart error not logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "phased restart refused") {
		t.Errorf("refusal not logged:\n%s", logs.String())
	}
}

func TestClusterCommandsSingleMode(t *testing.T) {
	target := newFakeTarget()
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target})
	hc := rawHTTP(t, srv)
	for _, c := range clusterCommands {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method+" "+c.command, func(t *testing.T) {
				got := send(t, hc, method, "/"+c.command, bearer(testToken))
				want := `{"error":"not in cluster mode (start with -w N)"}`
				if got.status != http.StatusNotImplemented || strings.TrimSpace(got.body) != want {
					t.Errorf("got %d %s, want 501 %s", got.status, got.body, want)
				}
			})
		}
	}
	if got := send(t, hc, "GET", "/stats", bearer(testToken)); strings.Contains(got.body, "worker_status") {
		t.Errorf("single-mode stats has worker_status: %s", got.body)
	}
	if n := target.stops.Load() + target.halts.Load(); n != 0 {
		t.Errorf("Stop and Halt calls: got %d, want 0", n)
	}
}

// TestClusterStatsTimeout checks that a cluster whose workers do not
// answer cannot hang /stats or /metrics.
func TestClusterStatsTimeout(t *testing.T) {
	target := newFakeCluster()
	target.hang = true
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: target})
	hc := rawHTTP(t, srv)
	for _, path := range []string{"/stats", "/metrics"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			got := send(t, hc, "GET", path, bearer(testToken))
			took := time.Since(start)
			if got.status != 200 {
				t.Fatalf("status: got %d, want 200 (body %s)", got.status, got.body)
			}
			select {
			case left := <-target.deadlines:
				if left <= 0 || left > 500*time.Millisecond {
					t.Errorf("ClusterStats deadline: got %v away, want at most 500ms", left)
				}
			default:
				t.Fatal("ClusterStats got a context without deadline")
			}
			if took > 5*time.Second {
				t.Errorf("answer took %v, want about 500ms", took)
			}
			want := `"live":false`
			if path == "/metrics" {
				want = "hatago_cluster_stats_live 0\n"
			}
			if !strings.Contains(got.body, want) {
				t.Errorf("body lacks %q:\n%s", want, got.body)
			}
		})
	}
}

// TestClusterRestartAnswersFirst checks that /restart answers before it
// calls Restart, and that Shutdown waits for Restart to return.
func TestClusterRestartAnswersFirst(t *testing.T) {
	target := newFakeCluster()
	target.block = make(chan struct{})
	srv, err := control.New(control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	client, err := control.NewClient(srv.URL(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	// Restart blocks until block closes, so the answer must come first.
	if err := client.Restart(context.Background()); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before Target.Restart did", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(target.block)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if got := target.restarts.Load(); got != 1 {
		t.Errorf("Restart calls: got %d, want 1", got)
	}
}

func TestClusterMetricsEndpoint(t *testing.T) {
	srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeCluster()})
	got := send(t, rawHTTP(t, srv), "GET", "/metrics", bearer(testToken))
	if got.status != 200 || got.header.Get("Content-Type") != control.MetricsContentType {
		t.Fatalf("got %d %s, want 200 %s", got.status, got.header.Get("Content-Type"), control.MetricsContentType)
	}
	samples, err := checkExposition(got.body)
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, got.body)
	}
	checkClusterFamilies(t, got.body)
	for key, v := range map[string]string{
		"hatago_cluster_workers":                                         "2",
		`hatago_requests_total{worker="0",pid="5002"}`:                   "12345",
		`hatago_worker_booted{worker="1",pid="5003"}`:                    "0",
		`hatago_rss_bytes{worker="0",pid="5001"}`:                        "31457280",
		`hatago_build_info{worker="0",pid="5001",version="v0.1.0-test"}`: "1",
	} {
		if got, ok := samples[key]; !ok || got != v {
			t.Errorf("%s: got %q (present %v), want %q", key, got, ok, v)
		}
	}
}

// processFamilies returns the names of the families WriteMetrics writes.
func processFamilies(tb testing.TB) []string {
	tb.Helper()
	var b strings.Builder
	if err := control.WriteMetrics(&b, fixedStats); err != nil {
		tb.Fatal(err)
	}
	return typeNames(b.String())
}

// typeNames returns the family names of the # TYPE lines of text, in
// order.
func typeNames(text string) []string {
	var names []string
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(rest)[0])
		}
	}
	return names
}

// checkClusterFamilies checks that text has the cluster families, then
// the worker families, then the per-process families, each once.
func checkClusterFamilies(tb testing.TB, text string) {
	tb.Helper()
	want := []string{
		"hatago_cluster_start_time_seconds",
		"hatago_cluster_workers",
		"hatago_cluster_booted_workers",
		"hatago_cluster_old_workers",
		"hatago_cluster_phase",
		"hatago_cluster_worker_restarts_total",
		"hatago_cluster_worker_recycles_total",
		"hatago_cluster_worker_timeouts_total",
		"hatago_cluster_hot_restarts_total",
		"hatago_cluster_crash_loop",
		"hatago_cluster_stats_live",
		"hatago_worker_booted",
		"hatago_worker_stopping",
		"hatago_worker_phase",
		"hatago_worker_start_time_seconds",
		"hatago_worker_last_checkin_age_seconds",
	}
	want = append(want, processFamilies(tb)...)
	if got := typeNames(text); !slices.Equal(got, want) {
		tb.Errorf("families:\ngot  %v\nwant %v", got, want)
	}
	if got, want := strings.Count(text, "# HELP "), len(want); got != want {
		tb.Errorf("HELP lines: got %d, want %d", got, want)
	}
}

func TestWriteClusterMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := clusterStats()
		now := time.Now() // the bubble's clock stands still
		cs.WorkerStatus[0].LastCheckin = now.Add(-2 * time.Second)
		cs.WorkerStatus[1].LastCheckin = now.Add(-1500 * time.Millisecond)
		var b strings.Builder
		if err := control.WriteClusterMetrics(&b, cs); err != nil {
			t.Fatal(err)
		}
		text := b.String()
		samples, err := checkExposition(text)
		if err != nil {
			t.Fatalf("invalid exposition: %v\n%s", err, text)
		}
		checkClusterFamilies(t, text)

		want := map[string]string{
			"hatago_cluster_start_time_seconds":    "1.7357868e+09",
			"hatago_cluster_workers":               "2",
			"hatago_cluster_booted_workers":        "1",
			"hatago_cluster_old_workers":           "1",
			"hatago_cluster_phase":                 "1",
			"hatago_cluster_worker_restarts_total": "2",
			"hatago_cluster_worker_recycles_total": "3",
			"hatago_cluster_worker_timeouts_total": "1",
			"hatago_cluster_hot_restarts_total":    "4",
			"hatago_cluster_crash_loop":            "1",
			"hatago_cluster_stats_live":            "1",

			`hatago_worker_booted{worker="0",pid="5001"}`:                   "1",
			`hatago_worker_booted{worker="0",pid="5002"}`:                   "1",
			`hatago_worker_booted{worker="1",pid="5003"}`:                   "0",
			`hatago_worker_stopping{worker="0",pid="5001"}`:                 "1",
			`hatago_worker_stopping{worker="0",pid="5002"}`:                 "0",
			`hatago_worker_stopping{worker="1",pid="5003"}`:                 "0",
			`hatago_worker_phase{worker="0",pid="5001"}`:                    "0",
			`hatago_worker_phase{worker="0",pid="5002"}`:                    "1",
			`hatago_worker_phase{worker="1",pid="5003"}`:                    "1",
			`hatago_worker_start_time_seconds{worker="0",pid="5001"}`:       "1.7357868e+09",
			`hatago_worker_start_time_seconds{worker="0",pid="5002"}`:       "1.7357904e+09",
			`hatago_worker_start_time_seconds{worker="1",pid="5003"}`:       "1.7357904e+09",
			`hatago_worker_last_checkin_age_seconds{worker="0",pid="5001"}`: "2",
			`hatago_worker_last_checkin_age_seconds{worker="0",pid="5002"}`: "1.5",
		}
		// Each worker that reported has every per-process sample.
		for _, pid := range []string{"5001", "5002"} {
			l := `worker="0",pid="` + pid + `"`
			requests := map[string]string{"5001": "900", "5002": "12345"}[pid]
			for name, v := range map[string]string{
				"hatago_start_time_seconds":       "1.735787045e+09",
				"hatago_build_info":               "1",
				"hatago_backlog":                  "3",
				"hatago_backlog_max":              "7",
				"hatago_backlog_limit":            "1024",
				"hatago_pool_capacity":            "10",
				"hatago_slots_running":            "8",
				"hatago_slots_busy":               "6",
				"hatago_slots_max":                "16",
				"hatago_slots_min":                "2",
				"hatago_goroutines":               "42",
				"hatago_heap_bytes":               "4718592",
				"hatago_rss_bytes":                "31457280",
				"hatago_requests_total":           requests,
				"hatago_requests_rejected_total":  "4",
				"hatago_requests_timed_out_total": "5",
				"hatago_panics_total":             "1",
				"hatago_slots_started_total":      "20",
				"hatago_slots_trimmed_total":      "12",
			} {
				key := name + "{" + l + "}"
				if name == "hatago_build_info" {
					key = name + "{" + l + `,version="v0.1.0-test"}`
				}
				want[key] = v
			}
			for _, sum := range []struct {
				family, sum string
				quantiles   [4]string
			}{
				{"hatago_queue_time_seconds", "6.5", [4]string{"0.0012", "0.0034", "0.0099", "0.0125"}},
				{"hatago_latency_seconds", "250", [4]string{"0.015", "0.04", "0.099", "1.25"}},
			} {
				for i, q := range []string{"0.5", "0.9", "0.99", "1"} {
					want[sum.family+"{"+l+`,quantile="`+q+`"}`] = sum.quantiles[i]
				}
				want[sum.family+"_sum{"+l+"}"] = sum.sum
				want[sum.family+"_count{"+l+"}"] = "12345"
			}
		}
		for key, v := range want {
			if got, ok := samples[key]; !ok || got != v {
				t.Errorf("%s: got %q (present %v), want %q", key, got, ok, v)
			}
		}
		// The booting worker has not reported: no per-process samples
		// and no check-in age.
		if len(samples) != len(want) {
			var extra []string
			for key := range samples {
				if _, ok := want[key]; !ok {
					extra = append(extra, key)
				}
			}
			t.Errorf("got %d samples, want %d; unexpected: %v", len(samples), len(want), extra)
		}
	})
}

func TestWriteClusterMetricsEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		stats control.ClusterStats
		want  map[string]string
	}{
		{"no workers", control.ClusterStats{}, map[string]string{
			"hatago_cluster_start_time_seconds": "0",
			"hatago_cluster_workers":            "0",
			"hatago_cluster_crash_loop":         "0",
		}},
		{"clock ahead of the master's", control.ClusterStats{WorkerStatus: []control.WorkerStatus{
			{PID: 7, Index: 3, LastCheckin: time.Now().Add(time.Hour)},
		}}, map[string]string{
			`hatago_worker_last_checkin_age_seconds{worker="3",pid="7"}`: "0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := control.WriteClusterMetrics(&b, tt.stats); err != nil {
				t.Fatal(err)
			}
			samples, err := checkExposition(b.String())
			if err != nil {
				t.Fatalf("invalid exposition: %v\n%s", err, b.String())
			}
			checkClusterFamilies(t, b.String())
			for key, v := range tt.want {
				if got, ok := samples[key]; !ok || got != v {
					t.Errorf("%s: got %q (present %v), want %q", key, got, ok, v)
				}
			}
		})
	}
	if err := control.WriteClusterMetrics(failingWriter{}, clusterStats()); !errors.Is(err, errWrite) {
		t.Errorf("failing writer: got %v, want the writer's error", err)
	}
}

func TestClientCluster(t *testing.T) {
	ctx := context.Background()
	target := newFakeCluster()
	srv := startServer(t, control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: target})
	client, err := control.NewClient(srv.URL(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	single := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget()})
	singleClient, err := control.NewClient(single.URL(), testToken)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ClusterStats", func(t *testing.T) {
		got, err := client.ClusterStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := clusterStats(); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("StatsAny cluster", func(t *testing.T) {
		got, err := client.StatsAny(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cs, ok := got.(control.ClusterStats); !ok || cs.PID != 5000 {
			t.Errorf("got %T %+v, want the ClusterStats", got, got)
		}
	})
	t.Run("StatsAny single", func(t *testing.T) {
		got, err := singleClient.StatsAny(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, any(fixedStats)) {
			t.Errorf("got %T %+v, want fixedStats", got, got)
		}
	})
	t.Run("ClusterStats single", func(t *testing.T) {
		_, err := singleClient.ClusterStats(ctx)
		if !errors.Is(err, control.ErrNotCluster) {
			t.Errorf("got %v, want ErrNotCluster", err)
		}
	})
	t.Run("StatsAny no workers", func(t *testing.T) {
		empty := newFakeCluster()
		empty.stats = &control.ClusterStats{PID: 9} // worker_status is null
		srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: empty})
		c, err := control.NewClient(srv.URL(), testToken)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.StatsAny(ctx)
		if cs, ok := got.(control.ClusterStats); err != nil || !ok || cs.PID != 9 {
			t.Errorf("got %T %+v, %v; want the ClusterStats", got, got, err)
		}
	})

	commands := []struct {
		name string
		call func(*control.Client, context.Context) error
		n    func() int32
	}{
		{"Restart", (*control.Client).Restart, target.restarts.Load},
		{"PhasedRestart", (*control.Client).PhasedRestart, target.phased.Load},
		{"WorkerCountUp", (*control.Client).WorkerCountUp, target.ups.Load},
		{"WorkerCountDown", (*control.Client).WorkerCountDown, target.downs.Load},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(client, ctx); err != nil {
				t.Fatal(err)
			}
			if c.name == "Restart" {
				waitFor(t, target.restarted, "Restart")
			}
			if got := c.n(); got != 1 {
				t.Errorf("calls: got %d, want 1", got)
			}
		})
		t.Run(c.name+" single", func(t *testing.T) {
			err := c.call(singleClient, ctx)
			var re *control.ResponseError
			if !errors.Is(err, control.ErrNotCluster) || !errors.As(err, &re) || re.StatusCode != 501 ||
				re.Message != "not in cluster mode (start with -w N)" {
				t.Errorf("got %v, want a 501 ResponseError wrapping ErrNotCluster", err)
			}
			if errors.Is(err, control.ErrConflict) || errors.Is(err, control.ErrUnauthorized) {
				t.Errorf("got %v, want only ErrNotCluster", err)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		refusing := newFakeCluster()
		refusing.phasedErr = errors.New("a phased restart is under way")
		srv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: refusing})
		c, err := control.NewClient(srv.URL(), testToken)
		if err != nil {
			t.Fatal(err)
		}
		err = c.PhasedRestart(ctx)
		var re *control.ResponseError
		if !errors.Is(err, control.ErrConflict) || !errors.As(err, &re) || re.StatusCode != 409 ||
			re.Message != "a phased restart is under way" {
			t.Errorf("got %v, want a 409 ResponseError wrapping ErrConflict with the target's reason", err)
		}
		if errors.Is(err, control.ErrNotCluster) {
			t.Errorf("got %v, want not ErrNotCluster", err)
		}
	})
}

func TestClusterConcurrentRequests(t *testing.T) {
	target := newFakeCluster()
	srv := startServer(t, control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: target})
	client, err := control.NewClient(srv.URL(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for range 5 {
				var err error
				switch i % 5 {
				case 0:
					_, err = client.ClusterStats(ctx)
				case 1:
					_, err = client.Metrics(ctx)
				case 2:
					err = client.PhasedRestart(ctx)
				case 3:
					err = client.WorkerCountUp(ctx)
				case 4:
					err = client.WorkerCountDown(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := target.phased.Load()+target.ups.Load()+target.downs.Load(), int32(9*5); got != want {
		t.Errorf("command calls: got %d, want %d", got, want)
	}
}

// wantClusterTable is `hatago ctl stats` for clusterStats at checkinTime.
const wantClusterTable = `pid                    5000
started_at             2025-01-02T03:00:00Z
version                v0.1.0-test
workers                2
phase                  1
booted_workers         1
old_workers            1
restarts_count         2
recycles_count         3
worker_timeouts_count  1
hot_restarts_count     4
phased_restart         running
crash_loop             yes: 3 workers died within 10s of start
live                   yes

WORKER  PID   PHASE  BOOTED  CHECK-IN  BUSY/MAX  BACKLOG  REQUESTS  RSS       STATE
0       5001  0      yes     2s ago    6/16      3        900       50.0 MiB  stopping: phased restart
0       5002  1      yes     1.5s ago  6/16      3        12345     30.0 MiB  serving
1       5003  1      no      -         -         -        -         -         booting
`

// runClusterCLI runs `hatago ctl args...` with the clock at checkinTime.
func runClusterCLI(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut strings.Builder
	cli := &control.CLI{
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return checkinTime },
	}
	code = cli.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestCLICluster(t *testing.T) {
	target := newFakeCluster()
	srv := startServer(t, control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: target})
	flags := []string{"--control-url", srv.URL(), "--control-token", testToken}
	quiet := newFakeCluster()
	quiet.stats = &control.ClusterStats{PID: 9, Workers: 0}
	quietSrv := startServer(t, control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: quiet})

	tests := []struct {
		name  string
		args  []string
		want  string // all of stdout
		check func(t *testing.T, stdout string)
	}{
		{name: "stats", args: append(flags, "stats"), want: wantClusterTable},
		{name: "stats json", args: append(flags, "stats", "--json"),
			check: func(t *testing.T, out string) {
				var cs control.ClusterStats
				if err := json.Unmarshal([]byte(out), &cs); err != nil || !reflect.DeepEqual(cs, clusterStats()) {
					t.Errorf("got %v, %+v; want the ClusterStats as JSON", err, cs)
				}
			}},
		{name: "stats no workers", args: []string{"--control-url", quietSrv.URL(), "--control-token", testToken, "stats"},
			check: func(t *testing.T, out string) {
				if sub, ok := contains(out, "pid                    9\n", "phased_restart         none yet\n",
					"crash_loop             no\n", "live                   no (some workers' stats are from their last check-in)\n",
					"\nno workers\n"); !ok {
					t.Errorf("stdout lacks %q:\n%s", sub, out)
				}
			}},
		{name: "restart", args: append(flags, "restart"), want: srv.URL() + ": restarting\n",
			check: func(t *testing.T, _ string) { waitFor(t, target.restarted, "Restart") }},
		{name: "phased-restart", args: append(flags, "phased-restart"), want: srv.URL() + ": phased restart started\n"},
		{name: "worker-count-up", args: append(flags, "worker-count-up"), want: srv.URL() + ": worker count up\n"},
		{name: "worker-count-down", args: append(flags, "worker-count-down"), want: srv.URL() + ": worker count down\n"},
		{name: "phased-restart json", args: append(flags, "--json", "phased-restart"), want: `{"message":"phased restart started"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runClusterCLI(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit code: got %d, want 0; stderr: %s", code, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr: got %q, want nothing", stderr)
			}
			if tt.want != "" && stdout != tt.want {
				t.Errorf("stdout:\ngot\n%s\nwant\n%s", stdout, tt.want)
			}
			if tt.check != nil {
				tt.check(t, stdout)
			}
		})
	}
	if got := target.phased.Load(); got != 2 {
		t.Errorf("PhasedRestart calls: got %d, want 2", got)
	}
	if got := target.ups.Load() + target.downs.Load(); got != 2 {
		t.Errorf("WorkerCountUp and WorkerCountDown calls: got %d, want 2", got)
	}
}

func TestCLIClusterErrors(t *testing.T) {
	refusing := newFakeCluster()
	refusing.phasedErr = errors.New("a phased restart is under way")
	refusing.downErr = errors.New("at one worker already")
	refusingSrv := startServer(t, control.Config{URL: listenURL(t, "unix"), Token: testToken, Target: refusing})
	singleSrv := startServer(t, control.Config{URL: "tcp://127.0.0.1:0", Token: testToken, Target: newFakeTarget()})

	tests := []struct {
		name string
		url  string
		args []string
		want string // all of stderr
	}{
		{name: "phased restart under way", url: refusingSrv.URL(), args: []string{"phased-restart"},
			want: "hatago ctl: " + refusingSrv.URL() + " refused phased-restart: a phased restart is under way\n"},
		{name: "at one worker", url: refusingSrv.URL(), args: []string{"worker-count-down", "--json"},
			want: "hatago ctl: " + refusingSrv.URL() + " refused worker-count-down: at one worker already\n"},
		{name: "single mode", url: singleSrv.URL(), args: []string{"restart"},
			want: "hatago ctl: " + singleSrv.URL() + " refused restart: not in cluster mode (start with -w N)\n"},
		{name: "single mode count up", url: singleSrv.URL(), args: []string{"worker-count-up"},
			want: "hatago ctl: " + singleSrv.URL() + " refused worker-count-up: not in cluster mode (start with -w N)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--control-url", tt.url, "--control-token", testToken}, tt.args...)
			code, stdout, stderr := runClusterCLI(t, args...)
			if code != 1 {
				t.Errorf("exit code: got %d, want 1", code)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing", stdout)
			}
			if stderr != tt.want {
				t.Errorf("stderr: got %q, want %q", stderr, tt.want)
			}
		})
	}
}
