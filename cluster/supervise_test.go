package cluster_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

// TestBootTimeout: a worker that never reports its boot (it hangs in
// OnWorkerBoot) is killed once --worker-boot-timeout has passed, counted
// as a timeout and a restart, and replaced at its index.
func TestBootTimeout(t *testing.T) {
	const bootTimeout = 1500 * time.Millisecond
	hang := filepath.Join(t.TempDir(), "hang")
	if err := os.WriteFile(hang, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, "-w", "2", "--worker-boot-timeout", bootTimeout.String(), "--hang-boot-once", hang)
	var hung control.WorkerStatus
	a.waitFor(10*time.Second, "one worker booted and one hung", func(s control.ClusterStats) bool {
		hung = control.WorkerStatus{}
		if _, err := os.Stat(hang); err == nil {
			return false // no worker has taken it yet
		}
		for _, w := range s.WorkerStatus {
			if !w.Booted {
				hung = w
			}
		}
		return s.BootedWorkers == 1 && len(s.WorkerStatus) == 2 && hung.PID != 0
	})
	s := a.waitFor(10*time.Second, "the hung worker replaced", func(s control.ClusterStats) bool {
		return s.BootedWorkers == 2 && len(s.WorkerStatus) == 2 && !pids(s)[hung.PID]
	})
	if s.Timeouts != 1 || s.Restarts != 1 {
		t.Errorf("timeouts %d, restarts %d; want 1 and 1", s.Timeouts, s.Restarts)
	}
	var replaced bool
	for _, w := range s.WorkerStatus {
		replaced = replaced || w.Index == hung.Index && w.PID != hung.PID && w.Booted
	}
	if !replaced {
		t.Errorf("no new worker at index %d: %+v", hung.Index, s.WorkerStatus)
	}
	if !gone(hung.PID) {
		t.Errorf("the hung worker %d still runs", hung.PID)
	}
	if kills := linesOf(a.logLines("hatago: worker did not boot in time: killing it"), hung.PID); len(kills) != 1 {
		t.Errorf("%d log lines about killing the hung worker, want 1", len(kills))
	}
	deaths := linesOf(a.logLines("hatago: worker died"), hung.PID)
	if len(deaths) != 1 {
		t.Fatalf("%d log lines about the hung worker's death, want 1", len(deaths))
	}
	d := deaths[0]
	if want := "no boot within " + bootTimeout.String(); d["status"] != want {
		t.Errorf("death status %q, want %q", d["status"], want)
	}
	if lived, _ := d["lived"].(float64); time.Duration(lived) < bootTimeout {
		t.Errorf("the hung worker was killed after %v, before the boot timeout %v", time.Duration(lived), bootTimeout)
	}
}

// TestStopEscalates: a worker that does not finish stopping within the
// shutdown timeout (its OnWorkerShutdown hangs) gets TERM, then KILL. The
// master completes the worker count down, and later its own stop, logging
// each kill; its exit status says a worker had to be killed.
func TestStopEscalates(t *testing.T) {
	// The master allows the workers their --shutdown-timeout and a second.
	const masterTimeout = 200*time.Millisecond + time.Second
	a := startApp(t, "-w", "2", "--shutdown-timeout", "200ms", "--shutdown-hook-sleep", "30s")
	s := a.booted(2)
	victim := youngest(s)
	if err := a.ctl.WorkerCountDown(context.Background()); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	s = a.waitFor(10*time.Second, "the culled worker gone", func(s control.ClusterStats) bool {
		return s.BootedWorkers == 1 && len(s.WorkerStatus) == 1
	})
	if took := time.Since(began); took < masterTimeout {
		t.Errorf("the culled worker was gone after %v, before the shutdown timeout %v", took, masterTimeout)
	}
	if !gone(victim.PID) {
		t.Errorf("the culled worker %d still runs", victim.PID)
	}
	// TERM first: the worker began its graceful stop.
	if !workerLogged(a, "hatago: signal, stopping", victim.Index) {
		t.Errorf("worker %d logged no graceful stop: it got no TERM", victim.Index)
	}
	if kills := linesOf(a.logLines("hatago: worker did not stop in time: killing it"), victim.PID); len(kills) != 1 {
		t.Errorf("%d log lines about killing the culled worker, want 1", len(kills))
	}
	stopped := linesOf(a.logLines("hatago: worker stopped"), victim.PID)
	if len(stopped) != 1 || stopped[0]["reason"] != "worker count down" || stopped[0]["status"] != "signal: killed" {
		t.Errorf("log lines about the culled worker's end: %v, want one: worker count down, signal: killed", stopped)
	}
	if s.Restarts != 0 {
		t.Errorf("%d restarts, want 0: the worker was stopped on purpose", s.Restarts)
	}

	// The cluster's own stop: the last worker hangs too.
	last := s.WorkerStatus[0]
	began = time.Now()
	a.signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		a.dumpLogs()
		t.Fatal("the master did not exit within 10s of TERM")
	}
	if took := time.Since(began); took < masterTimeout {
		t.Errorf("the master exited %v after TERM, before the shutdown timeout %v", took, masterTimeout)
	}
	if !gone(last.PID) {
		t.Errorf("worker %d still runs after the master exited", last.PID)
	}
	if kills := linesOf(a.logLines("hatago: worker did not stop in time: killing it"), last.PID); len(kills) != 1 {
		t.Errorf("%d log lines about killing the last worker at the stop, want 1", len(kills))
	}
	if a.exitErr == nil {
		t.Errorf("master exit status 0, want a failure: a worker did not stop in time")
	}
}

// TestRecycleMemory: workers whose resident memory passes
// --recycle-memory are replaced, one at a time, each old one stopping
// only after its replacement booted, and the stats count the recycles.
func TestRecycleMemory(t *testing.T) {
	const limit = 128 << 20
	// Old workers linger in OnWorkerShutdown, so that two replacements
	// at once would show.
	a := startApp(t, "-w", "2", "--recycle-memory", "128MiB", "--shutdown-hook-sleep", "500ms")
	before := a.booted(2)
	for _, w := range before.WorkerStatus {
		if w.RSSBytes == 0 || w.RSSBytes >= limit*9/10 {
			t.Fatalf("worker %d has %d bytes resident at start; want some, under 90%% of the %d limit", w.Index, w.RSSBytes, limit)
		}
	}
	var mu sync.Mutex
	worst, minBooted := 0, 2
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	defer func() { stopWatch(); <-watched }()
	go func() {
		defer close(watched)
		for {
			select {
			case <-watchCtx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s, err := a.ctl.ClusterStats(ctx)
			cancel()
			if err != nil {
				continue
			}
			stopping := 0
			for _, w := range s.WorkerStatus {
				if strings.HasPrefix(w.Stopping, "recycle") {
					stopping++
				}
			}
			mu.Lock()
			worst, minBooted = max(worst, stopping), min(minBooted, s.BootedWorkers)
			mu.Unlock()
		}
	}()
	for pid := range pids(before) {
		grow(t, a, pid, limit>>20) // past the limit, whatever the start
	}
	after := a.waitFor(20*time.Second, "both workers recycled", func(s control.ClusterStats) bool {
		return s.Recycles == 2 && s.BootedWorkers == 2 && len(s.WorkerStatus) == 2
	})
	stopWatch()
	<-watched
	for _, w := range after.WorkerStatus {
		if pids(before)[w.PID] {
			t.Errorf("worker %d (pid %d) was not replaced", w.Index, w.PID)
		}
		if w.RSSBytes >= limit*9/10 {
			t.Errorf("replacement %d has %d bytes resident, want a fresh worker", w.PID, w.RSSBytes)
		}
	}
	if got := []int{after.WorkerStatus[0].Index, after.WorkerStatus[1].Index}; got[0] != 0 || got[1] != 1 {
		t.Errorf("replacements at indices %v, want [0 1]", got)
	}
	replacing := a.logLines("hatago: replacing a worker")
	if len(replacing) != 2 {
		t.Errorf("%d replacements logged, want 2", len(replacing))
	}
	for _, l := range replacing {
		reason, _ := l["reason"].(string)
		if !strings.HasPrefix(reason, "recycle: ") || !strings.HasSuffix(reason, " bytes resident") {
			t.Errorf("replacement reason %q, want a memory recycle", reason)
		}
		if old, _ := l["old_pid"].(float64); !pids(before)[int(old)] {
			t.Errorf("replaced pid %v, not one of the grown workers", l["old_pid"])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if worst != 1 {
		t.Errorf("at most %d workers were stopping for a recycle at once, want exactly 1", worst)
	}
	if minBooted < 2 {
		t.Errorf("booted workers went down to %d during recycling, want 2 throughout", minBooted)
	}
}

// TestRecycleFailureKeepsLimits: when a recycle's replacement fails to
// boot, the worker keeps serving and is tried again only past a raised
// limit; a limit that was not set (here the memory one) stays unset.
func TestRecycleFailureKeepsLimits(t *testing.T) {
	a := startApp(t, "-w", "1", "--recycle-requests", "50")
	before := a.booted(1)
	good := a.exe + ".good"
	copyFile(t, a.exe, good, nil)
	broken := a.exe + ".broken"
	if err := os.WriteFile(broken, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(broken, a.exe); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	send := func(n int) {
		t.Helper()
		for range n {
			if _, err := get(client, a.base+"/"); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(50)
	const failed = "hatago: recycle failed: the worker keeps serving"
	deadline := time.Now().Add(10 * time.Second)
	for a.logged(failed) == 0 {
		if time.Now().After(deadline) {
			a.dumpLogs()
			t.Fatal("no failed recycle within 10s of the request limit")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // time to try again, were the limits wrong
	if n := a.logged(failed); n != 1 {
		t.Errorf("%d failed recycles with no more requests, want 1", n)
	}
	var wrong []string
	for _, l := range a.logLines("hatago: replacing a worker") {
		if reason, _ := l["reason"].(string); !strings.HasSuffix(reason, " requests") {
			wrong = append(wrong, reason)
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d replacements not for requests (the first: %q), want only request recycles", len(wrong), wrong[0])
	}
	if s := a.stats(); s.Recycles != 0 || !pids(s)[before.WorkerStatus[0].PID] {
		t.Errorf("recycles %d, workers %v; want 0 and the first worker serving", s.Recycles, pids(s))
	}
	// With a good binary back, the worker is recycled past the raised limit.
	if err := os.Rename(good, a.exe); err != nil {
		t.Fatal(err)
	}
	send(30)
	a.waitFor(10*time.Second, "the recycle to succeed", func(s control.ClusterStats) bool {
		return s.Recycles == 1 && s.BootedWorkers == 1 && len(s.WorkerStatus) == 1
	})
}

// TestWorkerCull: a worker count down stops the youngest worker, or with
// --worker-cull oldest the oldest, whatever their indices, and the
// cluster goes on without that index.
func TestWorkerCull(t *testing.T) {
	for _, tc := range []struct {
		cull  string
		index int // of the worker culled, after worker 0 was replaced
	}{
		{"youngest", 0},
		{"oldest", 1},
	} {
		t.Run(tc.cull, func(t *testing.T) {
			a := startApp(t, "-w", "2", "--worker-cull", tc.cull)
			s := a.booted(2)
			// Replace worker 0, so that the youngest is not at the last
			// index and the oldest not at the first.
			first := s.WorkerStatus[0]
			if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			s = a.waitFor(10*time.Second, "worker 0 replaced", func(s control.ClusterStats) bool {
				return s.BootedWorkers == 2 && len(s.WorkerStatus) == 2 && !pids(s)[first.PID]
			})
			want := youngest(s)
			if tc.cull == "oldest" {
				want = oldest(s)
			}
			if want.Index != tc.index {
				t.Fatalf("the %s worker is at index %d, want %d: %+v", tc.cull, want.Index, tc.index, s.WorkerStatus)
			}
			started := a.logged("hatago: worker started")
			if err := a.ctl.WorkerCountDown(context.Background()); err != nil {
				t.Fatal(err)
			}
			s = a.booted(1)
			if s.Workers != 1 {
				t.Errorf("%d workers wanted, want 1", s.Workers)
			}
			if pids(s)[want.PID] {
				t.Errorf("count down kept the %s worker %d (pid %d); workers now %+v", tc.cull, want.Index, want.PID, s.WorkerStatus)
			}
			for _, w := range s.WorkerStatus {
				if w.Index == want.Index {
					t.Errorf("a worker still serves at index %d, which was culled", w.Index)
				}
			}
			time.Sleep(300 * time.Millisecond) // a respawn would come within a tick
			if n := a.logged("hatago: worker started") - started; n != 0 {
				t.Errorf("%d workers started after the count down, want 0", n)
			}
			if !gone(want.PID) {
				t.Errorf("the culled worker %d still runs", want.PID)
			}
		})
	}
}

// youngest returns the worker in s that started last.
func youngest(s control.ClusterStats) control.WorkerStatus {
	var y control.WorkerStatus
	for _, w := range s.WorkerStatus {
		if w.Started.After(y.Started) {
			y = w
		}
	}
	return y
}

// oldest returns the worker in s that started first.
func oldest(s control.ClusterStats) control.WorkerStatus {
	o := s.WorkerStatus[0]
	for _, w := range s.WorkerStatus {
		if w.Started.Before(o.Started) {
			o = w
		}
	}
	return o
}

// grow makes the worker with pid allocate mb more megabytes, asking over
// new connections until that worker answered.
func grow(t *testing.T, a *app, pid, mb int) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := a.base + "/grow?pid=" + strconv.Itoa(pid) + "&mb=" + strconv.Itoa(mb)
	for range 200 {
		ans, err := get(client, url)
		if err != nil {
			t.Fatalf("grow: %v", err)
		}
		if ans.pid == pid {
			return
		}
	}
	t.Fatalf("worker %d did not answer within 200 requests", pid)
}

// linesOf returns the log lines about the worker with pid.
func linesOf(lines []map[string]any, pid int) []map[string]any {
	var of []map[string]any
	for _, l := range lines {
		if l["pid"] == float64(pid) {
			of = append(of, l)
		}
	}
	return of
}

// workerLogged reports whether the worker at index logged msg.
func workerLogged(a *app, msg string, index int) bool {
	for _, l := range a.logLines(msg) {
		if l["worker"] == float64(index) {
			return true
		}
	}
	return false
}
