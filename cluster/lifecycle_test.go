package cluster_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatago/hatago/control"
)

// TestBalancedAccept: with every slot of one worker blocked, new
// connections go to its sibling and succeed, instead of queueing behind
// the blocked handlers.
func TestBalancedAccept(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	a := startApp(t, "-w", "2", "-t", "2", "--release-file", release)
	a.booted(2)
	// Block requests, each on a connection of its own, until one worker
	// has both its slots taken.
	var blocked sync.WaitGroup
	defer func() {
		os.WriteFile(release, nil, 0o644)
		blocked.Wait()
	}()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var full control.WorkerStatus
	for i := 0; full.PID == 0; i++ {
		if i == 3 {
			t.Fatal("no worker full after 3 blocked requests")
		}
		blocked.Add(1)
		go func() {
			defer blocked.Done()
			resp, err := client.Get(a.base + "/block")
			if err == nil {
				resp.Body.Close()
			}
		}()
		a.waitFor(5*time.Second, "the blocked request to start", func(s control.ClusterStats) bool {
			busy := 0
			for _, w := range s.WorkerStatus {
				busy += w.LastStatus.BusyThreads
			}
			return busy == i+1
		})
		for _, w := range a.stats().WorkerStatus {
			if w.LastStatus.BusyThreads == w.LastStatus.MaxThreads {
				full = w
			}
		}
	}
	t.Logf("worker %d (pid %d) is full", full.Index, full.PID)
	quick := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 40 {
		ans, err := get(quick, a.base+"/")
		if err != nil {
			t.Fatalf("request %d with one worker full: %v", i, err)
		}
		if ans.pid == full.PID {
			t.Fatalf("request %d answered by the full worker", i)
		}
	}
}

// TestMasterDeathStopsWorkers: when the master dies by KILL, its workers
// notice the closed pipe and exit.
func TestMasterDeathStopsWorkers(t *testing.T) {
	a := startApp(t, "-w", "2")
	s := a.booted(2)
	a.signal(syscall.SIGKILL)
	<-a.exited
	deadline := time.Now().Add(15 * time.Second)
	for pid := range pids(s) {
		for !gone(pid) {
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("worker %d still runs 15s after its master died", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestTermDrains: TERM lets a request in flight finish, then every
// process exits and the master's status is 0.
func TestTermDrains(t *testing.T) {
	a := startApp(t, "-w", "2")
	s := a.booted(2)
	result := make(chan error, 1)
	go func() {
		_, err := get(&http.Client{Timeout: 10 * time.Second}, a.base+"/sleep?ms=1500")
		result <- err
	}()
	a.waitFor(5*time.Second, "the slow request to start", func(s control.ClusterStats) bool {
		for _, w := range s.WorkerStatus {
			if w.LastStatus.BusyThreads > 0 {
				return true
			}
		}
		return false
	})
	a.signal(syscall.SIGTERM)
	if err := <-result; err != nil {
		t.Errorf("request in flight at TERM: %v, want it to finish", err)
	}
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the master did not exit within 10s of TERM")
	}
	if a.exitErr != nil {
		t.Errorf("master exit: %v, want status 0", a.exitErr)
	}
	for pid := range pids(s) {
		if !gone(pid) {
			t.Errorf("worker %d still runs after the master exited", pid)
		}
	}
}

// TestCrashLoop: workers that die at boot are respawned with a growing
// delay, and the stats report a crash loop.
func TestCrashLoop(t *testing.T) {
	a := startApp(t, "-w", "2", "--fail-boot")
	s := a.waitFor(20*time.Second, "a crash loop", func(s control.ClusterStats) bool { return s.CrashLoop })
	t.Logf("crash loop: %s", s.CrashLoopReason)
	if !strings.Contains(s.CrashLoopReason, "died unasked") {
		t.Errorf("crash_loop_reason %q", s.CrashLoopReason)
	}
	// Slowed: over the next second, only a few more starts.
	n := a.logged("hatago: worker started")
	time.Sleep(time.Second)
	if more := a.logged("hatago: worker started") - n; more > 4 {
		t.Errorf("%d workers started within a second of a crash loop, want the respawns slowed", more)
	}
}

// TestHUPReopensLog: HUP makes the master and its workers reopen the log
// file, so that after rotation (the file renamed away) new lines land in a
// new file at the path.
func TestHUPReopensLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	a := startApp(t, "-w", "2", "--log-file", path)
	s := a.booted(2)
	_ = s
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	a.signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), "log file reopened") >= 3 { // the master and both workers
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after HUP the new log file holds:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	old, _ := os.ReadFile(path + ".1")
	if !strings.Contains(string(old), "worker booted") {
		t.Errorf("the rotated log lacks the lines from before HUP:\n%s", old)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := a.ctl.ClusterStats(ctx); err != nil {
		t.Fatalf("stats after HUP: %v", err)
	}
}

// TestSystemdNotify: under systemd (NOTIFY_SOCKET set) the master says
// READY=1 once its workers booted, pings the watchdog, says RELOADING=1
// at a hot restart and READY=1 again after it, and STOPPING=1 at a stop.
func TestSystemdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000")
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	expect := func(prefix string) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("notify socket closed waiting for %s", prefix)
				}
				if strings.HasPrefix(m, prefix) {
					return
				}
			case <-timeout:
				t.Fatalf("no %s within 20s", prefix)
			}
		}
	}
	a := startApp(t, "-w", "2")
	expect("READY=1")
	expect("WATCHDOG=1")
	a.signal(syscall.SIGUSR2)
	expect("RELOADING=1\nMONOTONIC_USEC=")
	expect("READY=1")
	a.signal(syscall.SIGTERM)
	expect("STOPPING=1")
	<-a.exited
}
