package control_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hatago/hatago/control"
)

// exampleTarget stands in for a Hatago server.
type exampleTarget struct{}

func (exampleTarget) Stats() control.Stats {
	return control.Stats{Running: 2, MaxThreads: 16, PoolCapacity: 14, RequestsCount: 7}
}
func (exampleTarget) Stop() {}
func (exampleTarget) Halt() {}

// A control server on a free local port, read with a Client. `hatago ctl
// --control-url URL --control-token TOKEN stats` does the same from a
// shell.
func Example() {
	ctx := context.Background()
	srv, err := control.New(control.Config{
		URL:    "tcp://127.0.0.1:0",
		Token:  "s3cret-token",
		Target: exampleTarget{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	client, err := control.NewClient(srv.URL(), srv.Token())
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := client.Stats(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("max_threads:", stats.MaxThreads)
	fmt.Println("pool_capacity:", stats.PoolCapacity)
	// Output:
	// max_threads: 16
	// pool_capacity: 14
}

// New checks the configuration without doing I/O, and names the field at
// fault.
func ExampleNew() {
	_, err := control.New(control.Config{URL: "ftp://127.0.0.1:9293", Target: exampleTarget{}})
	fmt.Println(err)
	// Output: control: URL: unsupported scheme "ftp" (want tcp or unix)
}

// WriteMetrics writes the Prometheus text format; here, a few of its
// lines.
func ExampleWriteMetrics() {
	var b strings.Builder
	stats := control.Stats{
		Backlog:       2,
		RequestsCount: 1500,
		QueueTime:     control.Percentiles{Count: 10, P50: 1.5, P90: 4, P99: 9, Max: 12, TotalCount: 1500, TotalSeconds: 0.75},
	}
	if err := control.WriteMetrics(&b, stats); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "hatago_backlog ") ||
			strings.Contains(line, "hatago_requests_total") ||
			strings.HasPrefix(line, "hatago_queue_time_seconds") {
			fmt.Println(line)
		}
	}
	// Output:
	// hatago_backlog 2
	// # HELP hatago_requests_total Requests served since start.
	// # TYPE hatago_requests_total counter
	// hatago_requests_total 1500
	// hatago_queue_time_seconds{quantile="0.5"} 0.0015
	// hatago_queue_time_seconds{quantile="0.9"} 0.004
	// hatago_queue_time_seconds{quantile="0.99"} 0.009
	// hatago_queue_time_seconds{quantile="1"} 0.012
	// hatago_queue_time_seconds_sum 0.75
	// hatago_queue_time_seconds_count 1500
}

// The CLI as `hatago ctl` runs it; with no server at the URL it explains
// what to check and returns exit code 1.
func ExampleCLI() {
	cli := &control.CLI{
		Stdout: os.Stdout,
		Stderr: os.Stdout, // so that the example shows the message
		Getenv: func(string) string { return "" },
	}
	code := cli.Run(context.Background(), []string{"--control-url", "unix:///nonexistent/hatago.sock", "stats"})
	fmt.Println("exit code", code)
	// Output:
	// hatago ctl: cannot reach unix:///nonexistent/hatago.sock: no such socket (is the server running? pass its control URL with --control-url or HATAGO_CONTROL_URL)
	// exit code 1
}

// WriteClusterMetrics writes the master's families, then each worker's
// samples labelled with its index and PID.
func ExampleWriteClusterMetrics() {
	stats := control.ClusterStats{
		Workers:       2,
		BootedWorkers: 2,
		WorkerStatus: []control.WorkerStatus{
			{Index: 0, PID: 101, Booted: true, LastStatus: control.Stats{PID: 101, RequestsCount: 40}},
			{Index: 1, PID: 102, Booted: true, LastStatus: control.Stats{PID: 102, RequestsCount: 2}},
		},
	}
	var b strings.Builder
	if err := control.WriteClusterMetrics(&b, stats); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "hatago_cluster_workers ") ||
			strings.HasPrefix(line, "hatago_worker_booted{") ||
			strings.HasPrefix(line, "hatago_requests_total{") {
			fmt.Println(line)
		}
	}
	// Output:
	// hatago_cluster_workers 2
	// hatago_worker_booted{worker="0",pid="101"} 1
	// hatago_worker_booted{worker="1",pid="102"} 1
	// hatago_requests_total{worker="0",pid="101"} 40
	// hatago_requests_total{worker="1",pid="102"} 2
}
