package control_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

// fixedStats is what fakeTarget reports.
var fixedStats = control.Stats{
	StartedAt:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	Backlog:       3,
	Running:       8,
	PoolCapacity:  10,
	BusyThreads:   6,
	MaxThreads:    16,
	RequestsCount: 12345,
	BacklogMax:    7,
	MinThreads:    2,
	BacklogLimit:  1024,
	Rejected:      4,
	TimedOut:      5,
	Panics:        1,
	SlotsStarted:  20,
	SlotsTrimmed:  12,
	QueueTime:     control.Percentiles{Count: 100, P50: 1.2, P90: 3.4, P99: 9.9, Max: 12.5, TotalCount: 12345, TotalSeconds: 6.5},
	Latency:       control.Percentiles{Count: 100, P50: 15, P90: 40, P99: 99, Max: 1250, TotalCount: 12345, TotalSeconds: 250},
	Goroutines:    42,
	HeapBytes:     4718592,
	RSSBytes:      31457280,
	PID:           4242,
	Version:       "v0.1.0-test",
}

// fakeTarget reports fixedStats and counts Stop and Halt calls. Each call
// also sends on stopped or halted when there is room, so tests can wait.
type fakeTarget struct {
	stops, halts    atomic.Int32
	stopped, halted chan struct{}
	panicStats      bool
	block           chan struct{} // if non-nil, Stop waits for it to close
}

var _ control.Target = (*fakeTarget)(nil)

func newFakeTarget() *fakeTarget {
	return &fakeTarget{stopped: make(chan struct{}, 16), halted: make(chan struct{}, 16)}
}

func (f *fakeTarget) Stats() control.Stats {
	if f.panicStats {
		panic("stats exploded")
	}
	return fixedStats
}

func (f *fakeTarget) Stop() {
	if f.block != nil {
		<-f.block
	}
	f.stops.Add(1)
	select {
	case f.stopped <- struct{}{}:
	default:
	}
}

func (f *fakeTarget) Halt() {
	f.halts.Add(1)
	select {
	case f.halted <- struct{}{}:
	default:
	}
}

// checkinTime is when the workers of clusterStats last reported, give or
// take: the check-in ages are 1.5s and 2s at checkinTime.
var checkinTime = time.Date(2025, 1, 2, 4, 0, 0, 0, time.UTC)

// workerStats returns fixedStats as worker pid reports it.
func workerStats(pid int, requests uint64) control.Stats {
	s := fixedStats
	s.PID = pid
	s.RequestsCount = requests
	return s
}

// clusterStats returns what fakeCluster reports: a master in a phased
// restart with an old worker stopping, its replacement serving, and a
// worker booting that has not reported yet.
func clusterStats() control.ClusterStats {
	started := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	return control.ClusterStats{
		StartedAt:     started,
		Workers:       2,
		Phase:         1,
		BootedWorkers: 1,
		OldWorkers:    1,
		WorkerStatus: []control.WorkerStatus{
			{Started: started, PID: 5001, Index: 0, Phase: 0, Booted: true,
				LastCheckin: checkinTime.Add(-2 * time.Second), LastStatus: workerStats(5001, 900),
				Stopping: "phased restart", RSSBytes: 52428800},
			{Started: started.Add(time.Hour), PID: 5002, Index: 0, Phase: 1, Booted: true,
				LastCheckin: checkinTime.Add(-1500 * time.Millisecond), LastStatus: workerStats(5002, 12345),
				RSSBytes: 31457280},
			{Started: checkinTime, PID: 5003, Index: 1, Phase: 1},
		},
		PID:             5000,
		Version:         "v0.1.0-test",
		Restarts:        2,
		Recycles:        3,
		Timeouts:        1,
		HotRestarts:     4,
		PhasedRestart:   "running",
		CrashLoop:       true,
		CrashLoopReason: "3 workers died within 10s of start",
		Live:            true,
	}
}

// fakeCluster is a ClusterTarget reporting clusterStats (or stats, if
// set). Its commands count their calls and return the configured errors;
// Restart also signals restarted and, if block is non-nil, waits for it
// to close first.
type fakeCluster struct {
	*fakeTarget
	stats     *control.ClusterStats // if non-nil, reported instead of clusterStats()
	hang      bool                  // ClusterStats waits for its context to end
	deadlines chan time.Duration    // ClusterStats sends the time left to its deadline
	block     chan struct{}         // if non-nil, Restart waits for it to close
	restarted chan struct{}

	restartErr, phasedErr, upErr, downErr error

	restarts, phased, ups, downs atomic.Int32
}

var _ control.ClusterTarget = (*fakeCluster)(nil)

func newFakeCluster() *fakeCluster {
	return &fakeCluster{
		fakeTarget: newFakeTarget(),
		deadlines:  make(chan time.Duration, 64),
		restarted:  make(chan struct{}, 16),
	}
}

func (f *fakeCluster) ClusterStats(ctx context.Context) control.ClusterStats {
	if d, ok := ctx.Deadline(); ok {
		select {
		case f.deadlines <- time.Until(d):
		default:
		}
	}
	cs := clusterStats()
	if f.stats != nil {
		cs = *f.stats
	}
	if f.hang {
		<-ctx.Done()
		cs.Live = false
	}
	return cs
}

func (f *fakeCluster) Restart() error {
	if f.block != nil {
		<-f.block
	}
	f.restarts.Add(1)
	select {
	case f.restarted <- struct{}{}:
	default:
	}
	return f.restartErr
}

func (f *fakeCluster) PhasedRestart() error {
	f.phased.Add(1)
	return f.phasedErr
}

func (f *fakeCluster) WorkerCountUp() error {
	f.ups.Add(1)
	return f.upErr
}

func (f *fakeCluster) WorkerCountDown() error {
	f.downs.Add(1)
	return f.downErr
}

// waitFor waits for a signal on ch or fails the test.
func waitFor(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		tb.Fatalf("%s was not called", what)
	}
}

// socketPath returns a unix socket path in a fresh directory short
// enough for sun_path (t.TempDir can be too long).
func socketPath(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "hc")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "c.sock")
}

// listenURL returns a URL to listen on for network "tcp" or "unix".
func listenURL(tb testing.TB, network string) string {
	tb.Helper()
	if network == "unix" {
		return "unix://" + socketPath(tb)
	}
	return "tcp://127.0.0.1:0"
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer starts a control server for target and shuts it down at
// the end of the test.
func startServer(tb testing.TB, cfg control.Config) *control.Server {
	tb.Helper()
	srv, err := control.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// rawHTTP is an http.Client that always dials the server's socket, for
// requests the Client does not make.
func rawHTTP(tb testing.TB, srv *control.Server) *http.Client {
	tb.Helper()
	addr := srv.Addr()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, addr.Network(), addr.String())
		},
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

type response struct {
	status int
	header http.Header
	body   string
}

// send makes one request to path (which may carry a query) on the
// control server.
func send(tb testing.TB, hc *http.Client, method, path string, header http.Header) response {
	tb.Helper()
	req, err := http.NewRequest(method, "http://control"+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// freeTCPURL returns a tcp:// URL nobody listens on.
func freeTCPURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	url := "tcp://" + ln.Addr().String()
	ln.Close()
	return url
}

func contains(s string, subs ...string) (string, bool) {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub, false
		}
	}
	return "", true
}
