package cluster_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/control"
)

// The tests run real clusters: the test binary, copied to a temporary
// directory, is started as an application (envApp makes TestMain run
// appMain instead of the tests), and that application's master starts its
// workers from the copy, as any program embedding Hatago would.
const envApp = "HATAGO_TEST_CLUSTER_APP"

func TestMain(m *testing.M) {
	if os.Getenv(envApp) != "" {
		os.Exit(appMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// appMain is the application under test: hatago.Run with the standard
// flags, and handlers that tell which process and build answered.
func appMain(args []string) int {
	cfg := hatago.Config{Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))}
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	cfg.Flags(fs)
	failBoot := fs.Bool("fail-boot", false, "workers fail in OnWorkerBoot")
	hangBoot := fs.String("hang-boot-once", "", "the first worker to remove this file hangs in OnWorkerBoot")
	shutdownSleep := fs.Duration("shutdown-hook-sleep", 0, "OnWorkerShutdown sleeps this long")
	releaseFile := fs.String("release-file", "", "/block returns once this file exists")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	build := buildID()
	switch {
	case *failBoot:
		cfg.OnWorkerBoot = func(context.Context, hatago.WorkerInfo) error { return errors.New("told to fail") }
	case *hangBoot != "":
		cfg.OnWorkerBoot = func(context.Context, hatago.WorkerInfo) error {
			if os.Remove(*hangBoot) != nil {
				return nil // another worker took it, or none was asked to hang
			}
			// Never boots; bounded so that no worker outlives a failed test.
			time.Sleep(30 * time.Second)
			return errors.New("hung at boot")
		}
	}
	if *shutdownSleep > 0 {
		cfg.OnWorkerShutdown = func(hatago.WorkerInfo) { time.Sleep(*shutdownSleep) }
	}
	var grown [][]byte // what /grow allocated: held for the process's life
	var growMu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %s\n", os.Getpid(), build)
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "%d %s\n", os.Getpid(), build)
	})
	// /grow?pid=P&mb=N: the worker with PID P allocates N MiB more and
	// touches every page, so its resident memory grows by as much; any
	// other worker only answers. X-Grown-Bytes says what it holds.
	mux.HandleFunc("/grow", func(w http.ResponseWriter, r *http.Request) {
		pid, _ := strconv.Atoi(r.URL.Query().Get("pid"))
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		if pid == os.Getpid() {
			b := make([]byte, mb<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			growMu.Lock()
			grown = append(grown, b)
			growMu.Unlock()
		}
		growMu.Lock()
		total := 0
		for _, b := range grown {
			total += len(b)
		}
		growMu.Unlock()
		w.Header().Set("X-Grown-Bytes", strconv.Itoa(total))
		fmt.Fprintf(w, "%d %s\n", os.Getpid(), build)
	})
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			if _, err := os.Stat(*releaseFile); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Fprintf(w, "%d %s\n", os.Getpid(), build)
	})
	if err := hatago.Run(context.Background(), mux, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		return 1
	}
	return 0
}

// buildID names the binary this process runs: a hash of its file.
func buildID() string {
	b, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// app is a running cluster under test.
type app struct {
	t       *testing.T
	exe     string // the binary on disk that workers start from
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	ctl     *control.Client
	exited  chan struct{}
	exitErr error

	mu   sync.Mutex
	logs []map[string]any
}

// startApp copies the test binary and starts it as a cluster with args.
func startApp(t *testing.T, args ...string) *app {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "app")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, exe, nil)
	port := freePort(t)
	sock := filepath.Join(dir, "control.sock")
	args = append([]string{"-b", "tcp://127.0.0.1:" + strconv.Itoa(port),
		"--control-url", "unix://" + sock, "--control-token", "secret",
		"--worker-checkin-interval", "100ms", "--shutdown-timeout", "5s"}, args...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), envApp+"=1")
	if _, ok := os.LookupEnv("GORACE"); !ok {
		// Under -race every process sleeps a second at exit by default;
		// the tests stop and replace many.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, exe: exe, cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go a.readLogs(stderr)
	go func() {
		a.exitErr = cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-a.exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Process.Kill()
			<-a.exited
			t.Errorf("the cluster did not stop within 10s of TERM")
		}
	})
	a.ctl, err = control.NewClient("unix://"+sock, "secret")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readLogs keeps the master's and workers' JSON log lines, and passes
// other lines to the test log.
func (a *app) readLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			a.t.Logf("app: %s", sc.Text())
			continue
		}
		a.mu.Lock()
		a.logs = append(a.logs, m)
		a.mu.Unlock()
	}
}

// logged counts the log lines with msg.
func (a *app) logged(msg string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, m := range a.logs {
		if m["msg"] == msg {
			n++
		}
	}
	return n
}

// logLines returns the log lines with msg.
func (a *app) logLines(msg string) []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	var lines []map[string]any
	for _, m := range a.logs {
		if m["msg"] == msg {
			lines = append(lines, m)
		}
	}
	return lines
}

func (a *app) dumpLogs() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.logs {
		b, _ := json.Marshal(m)
		a.t.Logf("log: %s", b)
	}
}

// stats returns the cluster's stats document.
func (a *app) stats() control.ClusterStats {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := a.ctl.ClusterStats(ctx)
	if err != nil {
		a.t.Fatalf("cluster stats: %v", err)
	}
	return s
}

// waitFor polls the stats until ok holds, failing the test after d.
func (a *app) waitFor(d time.Duration, what string, ok func(control.ClusterStats) bool) control.ClusterStats {
	a.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s, err := a.ctl.ClusterStats(ctx)
		cancel()
		if err == nil && ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			a.dumpLogs()
			b, _ := json.MarshalIndent(s, "", "  ")
			a.t.Fatalf("waited %v for %s; last stats (err %v):\n%s", d, what, err, b)
		}
		select {
		case <-a.exited:
			a.dumpLogs()
			a.t.Fatalf("the master exited (%v) while waiting for %s", a.exitErr, what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// booted waits until n workers of the current phase are booted and no
// other workers remain.
func (a *app) booted(n int) control.ClusterStats {
	a.t.Helper()
	return a.waitFor(30*time.Second, fmt.Sprintf("%d booted workers", n), func(s control.ClusterStats) bool {
		return s.BootedWorkers == n && len(s.WorkerStatus) == n && s.OldWorkers == 0
	})
}

func (a *app) signal(sig syscall.Signal) {
	a.t.Helper()
	if err := a.cmd.Process.Signal(sig); err != nil {
		a.t.Fatalf("signal %v: %v", sig, err)
	}
}

// deploy replaces the binary on disk with a different build, as a deploy
// does: written beside it, then renamed over it. The new build is the same
// program with bytes appended (an ELF file ignores them), so it hashes
// differently. It returns the new build's ID.
func (a *app) deploy() string {
	a.t.Helper()
	tmp := a.exe + ".new"
	copyFile(a.t, a.exe, tmp, []byte("\nnew build "+strconv.FormatInt(time.Now().UnixNano(), 10)+"\n"))
	if err := os.Rename(tmp, a.exe); err != nil {
		a.t.Fatal(err)
	}
	b, err := os.ReadFile(a.exe)
	if err != nil {
		a.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func copyFile(t *testing.T, from, to string, extra []byte) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, append(b, extra...), 0o755); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// answer is what a handler of the app said: its pid and build.
type answer struct {
	pid   int
	build string
}

// get sends one request on client and returns the answer.
func get(client *http.Client, url string) (answer, error) {
	resp, err := client.Get(url)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return answer{}, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var a answer
	if _, err := fmt.Sscanf(string(body), "%d %s", &a.pid, &a.build); err != nil {
		return answer{}, fmt.Errorf("answer %q: %v", body, err)
	}
	return a, nil
}

// load runs clients that send requests back to back, each on keep-alive
// connections of its own, until stop is called; stop returns the counts.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []error
	seen       map[answer]int
	stopCh     chan struct{}
	wg         sync.WaitGroup
}

func startLoad(url string, clients int) *load {
	l := &load{stopCh: make(chan struct{}), seen: make(map[answer]int)}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-l.stopCh:
					return
				default:
				}
				a, err := get(client, url)
				if err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.errs) < 20 {
						l.errs = append(l.errs, err)
					}
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
				l.mu.Lock()
				l.seen[a]++
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) stop() (ok, failed int64, errs []error) {
	close(l.stopCh)
	l.wg.Wait()
	return l.ok.Load(), l.failed.Load(), l.errs
}

// pids returns the PIDs of the workers in s that serve.
func pids(s control.ClusterStats) map[int]bool {
	m := make(map[int]bool)
	for _, w := range s.WorkerStatus {
		if w.Stopping == "" {
			m[w.PID] = true
		}
	}
	return m
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// reapedOrGone reports whether pid is gone (or a zombie of another parent).
func gone(pid int) bool {
	if !alive(pid) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
