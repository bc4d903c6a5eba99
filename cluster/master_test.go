package cluster_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

// TestKillWorkerUnderLoad: a worker killed with KILL under load is
// replaced at its index; the only requests that fail are those that were
// on it at that moment, at most one per client.
func TestKillWorkerUnderLoad(t *testing.T) {
	const clients = 8
	a := startApp(t, "-w", "2")
	s := a.booted(2)
	victim := s.WorkerStatus[0]

	l := startLoad(a.base+"/sleep?ms=2", clients)
	time.Sleep(500 * time.Millisecond)
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s = a.waitFor(20*time.Second, "a replacement at index 0", func(s control.ClusterStats) bool {
		return s.BootedWorkers == 2 && !pids(s)[victim.PID] && s.Restarts == 1
	})
	time.Sleep(300 * time.Millisecond)
	ok, failed, errs := l.stop()
	t.Logf("%d requests, %d failed: %v", ok+failed, failed, errs)
	if failed > clients {
		t.Errorf("%d requests failed; at most %d (one in flight per client) may", failed, clients)
	}
	var replaced bool
	for _, w := range s.WorkerStatus {
		replaced = replaced || w.Index == victim.Index && w.PID != victim.PID
	}
	if !replaced {
		t.Errorf("no new worker at index %d: %+v", victim.Index, s.WorkerStatus)
	}
	if ok < 100 {
		t.Errorf("only %d requests succeeded", ok)
	}
}

// TestHungWorkerReplaced: a worker that stops checking in (stopped with
// SIGSTOP) is killed and replaced.
func TestHungWorkerReplaced(t *testing.T) {
	a := startApp(t, "-w", "2", "--worker-timeout", "1s")
	s := a.booted(2)
	victim := s.WorkerStatus[1]
	if err := syscall.Kill(victim.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(victim.PID, syscall.SIGCONT)
	a.waitFor(20*time.Second, "the hung worker replaced", func(s control.ClusterStats) bool {
		return s.BootedWorkers == 2 && !pids(s)[victim.PID] && s.Timeouts == 1
	})
	if n := a.logged("hatago: worker stopped checking in: killing it"); n != 1 {
		t.Errorf("%d log lines about the hung worker, want 1", n)
	}
}

// TestPhasedRestartUnderLoad: under continuous load, USR1 replaces every
// worker, one at a time, with the binary now on disk, and no request
// fails.
func TestPhasedRestartUnderLoad(t *testing.T) {
	a := startApp(t, "-w", "2")
	before := a.booted(2)
	l := startLoad(a.base+"/sleep?ms=1", 24)
	time.Sleep(time.Second)
	build := a.deploy()
	a.signal(syscall.SIGUSR1)
	after := a.waitFor(30*time.Second, "the phased restart done", func(s control.ClusterStats) bool {
		return s.PhasedRestart == "done" && s.BootedWorkers == 2 && len(s.WorkerStatus) == 2 && s.OldWorkers == 0
	})
	time.Sleep(500 * time.Millisecond)
	ok, failed, errs := l.stop()
	t.Logf("%d requests during the phased restart", ok+failed)
	if failed > 0 {
		t.Errorf("%d requests failed during the phased restart: %v", failed, errs)
		a.dumpLogs()
	}
	if after.Phase != before.Phase+1 {
		t.Errorf("phase %d after the restart, want %d", after.Phase, before.Phase+1)
	}
	for _, w := range after.WorkerStatus {
		if pids(before)[w.PID] {
			t.Errorf("worker %d (pid %d) was not replaced", w.Index, w.PID)
		}
		if w.Phase != after.Phase {
			t.Errorf("worker %d in phase %d, want %d", w.Index, w.Phase, after.Phase)
		}
	}
	// Every worker now runs the new build.
	builds := answersFromEveryWorker(t, a, after)
	for pid, b := range builds {
		if b != build {
			t.Errorf("worker pid %d runs build %s, want the new %s", pid, b, build)
		}
	}
	if got := a.logged("hatago: worker started"); got != 4 {
		t.Errorf("%d workers started, want 4 (2, then 2 replacements)", got)
	}
}

// answersFromEveryWorker asks, over new connections, until every worker
// in s answered, and returns the build each reported.
func answersFromEveryWorker(t *testing.T, a *app, s control.ClusterStats) map[int]string {
	t.Helper()
	want := pids(s)
	got := make(map[int]string)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; len(got) < len(want) && i < 500; i++ {
		ans, err := get(client, a.base+"/")
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		got[ans.pid] = ans.build
	}
	if len(got) < len(want) {
		t.Fatalf("answers from %d of %d workers after 500 requests", len(got), len(want))
	}
	return got
}

// TestPhasedRestartFailsToBoot: when the binary on disk does not boot,
// the phased restart stops at the first worker, the old workers keep
// serving, and the stats and the log say so.
func TestPhasedRestartFailsToBoot(t *testing.T) {
	a := startApp(t, "-w", "2", "--worker-boot-timeout", "5s")
	before := a.booted(2)
	broken := a.exe + ".broken"
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho broken build >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(broken, a.exe); err != nil {
		t.Fatal(err)
	}
	if err := a.ctl.PhasedRestart(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := a.waitFor(20*time.Second, "the phased restart to fail", func(s control.ClusterStats) bool {
		return strings.HasPrefix(s.PhasedRestart, "failed:")
	})
	t.Logf("phased_restart: %s", s.PhasedRestart)
	time.Sleep(200 * time.Millisecond)
	s = a.stats()
	if s.BootedWorkers != 2 || s.OldWorkers != 2 {
		t.Errorf("booted %d, old %d after the failed restart; want the 2 old workers serving", s.BootedWorkers, s.OldWorkers)
	}
	for pid := range pids(s) {
		if !pids(before)[pid] {
			t.Errorf("worker %d is new; want only the old ones", pid)
		}
	}
	for range 20 {
		if _, err := get(http.DefaultClient, a.base+"/"); err != nil {
			t.Fatalf("request after the failed restart: %v", err)
		}
	}
	if a.logged("hatago: phased restart failed: the old workers keep serving") != 1 {
		t.Errorf("no log line about the failed phased restart")
	}
}

// TestHotRestartUnderLoad: USR2 re-executes the master in place (same
// PID) and starts new workers, and under load no request fails.
func TestHotRestartUnderLoad(t *testing.T) {
	a := startApp(t, "-w", "2")
	before := a.booted(2)
	l := startLoad(a.base+"/sleep?ms=1", 16)
	time.Sleep(time.Second)
	build := a.deploy()
	a.signal(syscall.SIGUSR2)
	after := a.waitFor(30*time.Second, "the hot restart done", func(s control.ClusterStats) bool {
		return s.HotRestarts == 1 && s.BootedWorkers == 2 && len(s.WorkerStatus) == 2
	})
	time.Sleep(500 * time.Millisecond)
	ok, failed, errs := l.stop()
	t.Logf("%d requests during the hot restart", ok+failed)
	if failed > 0 {
		t.Errorf("%d requests failed during the hot restart: %v", failed, errs)
		a.dumpLogs()
	}
	if after.PID != a.cmd.Process.Pid || before.PID != after.PID {
		t.Errorf("master pid %d before, %d after; want %d both times", before.PID, after.PID, a.cmd.Process.Pid)
	}
	if !after.StartedAt.Equal(before.StartedAt) {
		t.Errorf("started_at changed across the hot restart: %v, then %v", before.StartedAt, after.StartedAt)
	}
	for pid, b := range answersFromEveryWorker(t, a, after) {
		if pids(before)[pid] {
			t.Errorf("old worker %d still serves", pid)
		}
		if b != build {
			t.Errorf("worker %d runs build %s, want %s", pid, b, build)
		}
	}
}

// TestResize: TTIN adds a worker, TTOU removes the youngest, and the
// control server's worker-count-up and -down do the same.
func TestResize(t *testing.T) {
	a := startApp(t, "-w", "2")
	a.booted(2)
	a.signal(syscall.SIGTTIN)
	s := a.booted(3)
	var youngest control.WorkerStatus
	for _, w := range s.WorkerStatus {
		if w.Started.After(youngest.Started) {
			youngest = w
		}
	}
	a.signal(syscall.SIGTTOU)
	s = a.booted(2)
	if pids(s)[youngest.PID] {
		t.Errorf("TTOU kept the youngest worker %d", youngest.PID)
	}
	ctx := context.Background()
	if err := a.ctl.WorkerCountUp(ctx); err != nil {
		t.Fatal(err)
	}
	a.booted(3)
	if err := a.ctl.WorkerCountDown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.ctl.WorkerCountDown(ctx); err != nil {
		t.Fatal(err)
	}
	a.booted(1)
	if err := a.ctl.WorkerCountDown(ctx); err == nil || !strings.Contains(err.Error(), "least") {
		t.Errorf("count down below one worker: %v, want a refusal", err)
	}
}

// TestRecycleOneAtATime: workers past their request limit are replaced,
// one at a time, each old one stopping only after its replacement booted.
func TestRecycleOneAtATime(t *testing.T) {
	a := startApp(t, "-w", "2", "--recycle-requests", "200")
	a.booted(2)
	l := startLoad(a.base+"/", 4)
	var mu sync.Mutex
	var worst int
	var minBooted = 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s, err := a.ctl.ClusterStats(ctx)
			cancel()
			if err == nil {
				stopping := 0
				for _, w := range s.WorkerStatus {
					if w.Stopping != "" && strings.HasPrefix(w.Stopping, "recycle") {
						stopping++
					}
				}
				mu.Lock()
				worst = max(worst, stopping)
				minBooted = min(minBooted, s.BootedWorkers)
				mu.Unlock()
				if s.Recycles >= 4 {
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	<-done
	ok, failed, errs := l.stop()
	s := a.stats()
	t.Logf("%d requests, %d recycles", ok+failed, s.Recycles)
	if s.Recycles < 4 {
		t.Fatalf("%d recycles, want at least 4", s.Recycles)
	}
	if failed > 0 {
		t.Errorf("%d requests failed while recycling: %v", failed, errs)
	}
	if worst > 1 {
		t.Errorf("%d workers were stopping for a recycle at once, want one at a time", worst)
	}
	if minBooted < 2 {
		t.Errorf("booted workers went down to %d during recycling, want 2 throughout", minBooted)
	}
}
