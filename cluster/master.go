package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hatago/hatago/control"
	"github.com/hatago/hatago/internal/sdnotify"
)

// Defaults of Config.
const (
	DefaultBootTimeout     = 60 * time.Second
	DefaultCheckinInterval = time.Second
	DefaultWorkerTimeout   = 30 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultRecycleJitter   = 0.1
	DefaultCrashWindow     = time.Minute
)

// Errors of the cluster commands.
var (
	ErrBusy     = errors.New("cluster: a phased restart, recycle or hot restart is under way")
	ErrStopping = errors.New("cluster: the master is stopping")
	ErrMinimum  = errors.New("cluster: one worker is the least")
)

// Socket is a listening socket the master hands to every worker: its file
// and the bind URL workers serve it as (see package bind). A Socket with
// no File is a bind each worker listens on itself (reuseport=true).
type Socket struct {
	File *os.File
	Bind string
}

// Config configures a Master.
type Config struct {
	// Workers is the number of worker processes to keep running; at least 1.
	Workers int
	// Sockets are handed to every worker, in order. The master owns them.
	Sockets []Socket
	// Exe is the binary workers are started from, looked up anew at each
	// start, so that a phased restart runs the binary now on disk. Default:
	// os.Args[0], made absolute at New.
	Exe string
	// Args are the workers' arguments after the program name. Default
	// os.Args[1:].
	Args []string

	// BootTimeout bounds a worker's start, from exec to its boot message.
	BootTimeout time.Duration
	// CheckinInterval is how often workers send their stats.
	CheckinInterval time.Duration
	// WorkerTimeout is how long a booted worker may go without checking
	// in before it is killed and replaced.
	WorkerTimeout time.Duration
	// ShutdownTimeout bounds a worker's drain after TERM; past it the
	// worker gets KILL.
	ShutdownTimeout time.Duration

	// RecycleRequests, if positive, replaces a worker once it served about
	// this many requests; RecycleBytes, if positive, once its resident
	// memory passes about this many bytes. Each worker's limits are drawn
	// within RecycleJitter (a fraction; default 0.1) below the limit, so
	// workers do not come due together. One worker is replaced at a time,
	// its replacement booted before it stops.
	RecycleRequests uint64
	RecycleBytes    uint64
	RecycleJitter   float64
	// CullOldest makes TTOU and worker-count-down stop the oldest worker;
	// by default the youngest goes.
	CullOldest bool
	// CrashWindow is the window over which deaths count towards a crash
	// loop (default DefaultCrashWindow): when as many workers died unasked
	// within it as there are workers, and at least three, the master
	// reports a crash loop and waits longer between respawns.
	CrashWindow time.Duration
	// GOMAXPROCS for each worker when the environment does not set it;
	// default: this process's GOMAXPROCS divided among the workers, at
	// least 1.
	GOMAXPROCS int

	// OnHUP runs on the master when it gets SIGHUP, before the signal is
	// passed to the workers: reopen log files there.
	OnHUP func()
	// BeforeExec runs on the master just before a hot restart re-executes
	// it: close what must not outlive the process image (a control server's
	// socket, say). The sockets stay open.
	BeforeExec func()

	// Logger receives the master's log lines. Default slog.Default().
	Logger *slog.Logger
	// Version goes into the stats document.
	Version string

	// Resumed is what a hot restart carried over (see Resume); nil at a
	// first start.
	Resumed *Resumed
}

func (c Config) withDefaults() (Config, error) {
	if c.Workers < 1 {
		return c, fmt.Errorf("cluster: Workers must be at least 1, got %d", c.Workers)
	}
	if c.Exe == "" {
		exe, err := selfPath()
		if err != nil {
			return c, err
		}
		c.Exe = exe
	}
	if c.Args == nil {
		c.Args = os.Args[1:]
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.BootTimeout, DefaultBootTimeout},
		{&c.CheckinInterval, DefaultCheckinInterval},
		{&c.WorkerTimeout, DefaultWorkerTimeout},
		{&c.ShutdownTimeout, DefaultShutdownTimeout},
		{&c.CrashWindow, DefaultCrashWindow},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if c.WorkerTimeout <= c.CheckinInterval {
		return c, fmt.Errorf("cluster: WorkerTimeout (%v) must exceed CheckinInterval (%v)", c.WorkerTimeout, c.CheckinInterval)
	}
	switch {
	case c.RecycleJitter == 0:
		c.RecycleJitter = DefaultRecycleJitter
	case c.RecycleJitter < 0 || c.RecycleJitter >= 1:
		return c, fmt.Errorf("cluster: RecycleJitter must be in [0, 1), got %v", c.RecycleJitter)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// selfPath is the path this binary was started as, made absolute but with
// symbolic links kept: a deploy that repoints a link is picked up by the
// next worker start.
func selfPath() (string, error) {
	p := os.Args[0]
	if !strings.ContainsRune(p, filepath.Separator) {
		if lp, err := exec.LookPath(p); err == nil {
			p = lp
		}
	}
	if abs, err := filepath.Abs(p); err == nil {
		if _, err := os.Stat(abs); err == nil {
			return abs, nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cluster: cannot find this program's binary: %w", err)
	}
	return exe, nil
}

// Master supervises a cluster of worker processes: it starts them from
// its own binary with its sockets, watches their check-ins, replaces the
// dead and the hung, resizes, recycles, restarts them in phases or
// re-executes itself, and answers the control server. Make one with New
// and call Run once; its other methods are safe for concurrent use.
type Master struct {
	cfg Config
	log *slog.Logger

	cmds    chan func()   // run on Run's goroutine
	events  chan event    // from the workers' goroutines
	done    chan struct{} // closed when Run returns
	running atomic.Bool

	restarts, recycles, timeouts atomic.Uint64
	startedAt                    time.Time
	hotRestarts                  uint64
	nextID                       atomic.Uint64

	// Owned by Run's goroutine.
	procs      []*proc
	wanted     map[int]bool
	phase      int
	repl       *replacement
	phased     bool   // a phased restart is under way
	phasedNote string // ClusterStats.PhasedRestart
	crashes    []time.Time
	crashNote  string
	lastCrash  string
	backoff    map[int]time.Duration
	notBefore  map[int]time.Time
	stopping   string // "", "stop", "halt" or "restart"
	stopErr    error
	ready      bool // told systemd READY=1
}

// proc is one worker process.
type proc struct {
	index, phase int
	pid          int
	cmd          *exec.Cmd
	pipe         *pipe
	started      time.Time

	// Owned by Run's goroutine.
	booted      time.Time
	lastCheckin time.Time
	status      control.Stats
	stopReason  string    // why the master stopped it; "" while it serves
	stopSent    time.Time // when TERM went out
	killed      bool      // KILL went out
	fault       string    // why the master killed it unasked (a timeout)
	recycleReqs uint64
	recycleRSS  uint64

	mu      sync.Mutex // guards waiting
	waiting map[uint64]chan control.Stats
}

type replacement struct {
	index    int
	old, new *proc
	why      string
}

type event struct {
	p     *proc
	kind  string // msgBoot, msgCheckin, or "exit"
	stats *control.Stats
	err   error // exit: cmd.Wait's result
}

var _ control.ClusterTarget = (*Master)(nil)

// New checks cfg and returns a Master. It starts nothing.
func New(cfg Config) (*Master, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Master{
		cfg:       cfg,
		log:       cfg.Logger,
		cmds:      make(chan func()),
		events:    make(chan event, 64),
		done:      make(chan struct{}),
		wanted:    make(map[int]bool),
		backoff:   make(map[int]time.Duration),
		notBefore: make(map[int]time.Time),
		startedAt: time.Now().UTC(),
	}
	if r := cfg.Resumed; r != nil {
		m.startedAt, m.hotRestarts, m.phase = r.StartedAt, r.HotRestarts, r.Phase
	}
	for i := range cfg.Workers {
		m.wanted[i] = true
	}
	return m, nil
}

// tick is how often Run looks at timeouts, respawns and replacements.
const tick = 50 * time.Millisecond

// Run starts the workers and supervises them until ctx ends or a signal
// or the control server stops the cluster. It handles, as Puma does:
// TERM and INT (stop gracefully: workers drain within ShutdownTimeout; a
// second one halts), USR1 (phased restart), USR2 (hot restart: the master
// re-executes itself, keeping its PID and sockets; Run does not return),
// TTIN and TTOU (one worker more or less) and HUP (OnHUP, then passed to
// the workers). Under systemd it sends READY=1, RELOADING=1, STOPPING=1
// and watchdog pings. It returns nil when every worker stopped in time,
// and otherwise an error naming the first one killed past ShutdownTimeout.
func (m *Master) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("cluster: Run called twice")
	}
	defer close(m.done)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2,
		syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGHUP)
	defer signal.Stop(sigs)

	watchdog, hasWatchdog := sdnotify.WatchdogInterval()
	var lastPing time.Time
	t := time.NewTicker(tick)
	defer t.Stop()
	m.log.Info("hatago: cluster master starting", "workers", len(m.wanted), "pid", os.Getpid(),
		"phase", m.phase, "exe", m.cfg.Exe)
	m.ensure()
	ctxDone := ctx.Done()
	for {
		select {
		case ev := <-m.events:
			m.handle(ev)
		case fn := <-m.cmds:
			fn()
		case sig := <-sigs:
			m.signal(sig.(syscall.Signal))
		case <-ctxDone:
			ctxDone = nil
			m.beginStop("stop", "context done")
		case <-t.C:
		}
		now := time.Now()
		m.enforce(now)
		m.advance()
		m.ensure()
		if hasWatchdog && now.Sub(lastPing) >= watchdog/2 {
			lastPing = now
			_, _ = sdnotify.Notify("WATCHDOG=1")
		}
		if m.stopping != "" && len(m.procs) == 0 {
			if m.stopping == "restart" {
				m.reexec() // returns only if exec failed
				continue
			}
			return m.stopErr
		}
	}
}

// signal acts on a signal to the master.
func (m *Master) signal(sig syscall.Signal) {
	m.log.Info("hatago: master got a signal", "signal", sig.String())
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		if m.stopping == "stop" || m.stopping == "restart" {
			m.beginStop("halt", "second signal")
		} else {
			m.beginStop("stop", sig.String())
		}
	case syscall.SIGUSR1:
		if err := m.phasedRestart(); err != nil {
			m.log.Warn("hatago: phased restart refused", "err", err)
		}
	case syscall.SIGUSR2:
		if err := m.hotRestart(); err != nil {
			m.log.Warn("hatago: hot restart refused", "err", err)
		}
	case syscall.SIGTTIN:
		m.countUp()
	case syscall.SIGTTOU:
		if err := m.countDown(); err != nil {
			m.log.Warn("hatago: worker count down refused", "err", err)
		}
	case syscall.SIGHUP:
		if m.cfg.OnHUP != nil {
			m.cfg.OnHUP()
		}
		for _, p := range m.procs {
			_ = p.cmd.Process.Signal(syscall.SIGHUP)
		}
	}
}

// handle acts on a worker's message or exit.
func (m *Master) handle(ev event) {
	p := ev.p
	switch ev.kind {
	case msgBoot:
		p.booted = time.Now()
		p.lastCheckin = p.booted
		m.log.Info("hatago: worker booted", "index", p.index, "pid", p.pid, "phase", p.phase,
			"boot", p.booted.Sub(p.started).Round(time.Millisecond))
		if p.stopReason != "" { // told to stop while booting: it can now hear TERM
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	case msgCheckin:
		p.lastCheckin = time.Now()
		if ev.stats != nil {
			p.status = *ev.stats
		}
	case "exit":
		m.exited(p, ev.err)
	}
}

// exited removes p and decides what its death means.
func (m *Master) exited(p *proc, err error) {
	m.procs = slices.DeleteFunc(m.procs, func(q *proc) bool { return q == p })
	p.pipe.close()
	p.mu.Lock()
	for id, ch := range p.waiting {
		close(ch)
		delete(p.waiting, id)
	}
	p.mu.Unlock()
	how := "exit status 0"
	if err != nil {
		how = err.Error()
	}
	if p.stopReason != "" && p.fault == "" {
		m.log.Info("hatago: worker stopped", "index", p.index, "pid", p.pid, "reason", p.stopReason, "status", how)
		return
	}
	// Died unasked, or killed for a timeout.
	if p.fault != "" {
		how = p.fault
	}
	now := time.Now()
	m.log.Error("hatago: worker died", "index", p.index, "pid", p.pid, "status", how,
		"lived", now.Sub(p.started).Round(time.Millisecond), "booted", !p.booted.IsZero())
	if r := m.repl; r != nil && r.new == p {
		m.repl = nil
		if r.old != nil && r.old.stopReason == "" {
			// The old worker keeps serving.
			m.failReplacement(r, fmt.Sprintf("the new worker %d (pid %d) died before it booted: %s", p.index, p.pid, how))
			return
		}
	}
	if m.stopping != "" {
		return
	}
	m.restarts.Add(1)
	m.crashes = append(m.crashes, now)
	early := p.booted.IsZero() || now.Sub(p.started) < m.cfg.CrashWindow
	if early {
		d := m.backoff[p.index]
		d = min(max(2*d, 250*time.Millisecond), 30*time.Second)
		m.backoff[p.index] = d
		m.notBefore[p.index] = now.Add(d)
	} else {
		m.backoff[p.index] = 0
	}
	m.crashLoopCheck(now, how)
}

// crashLoopCheck reports a crash loop when as many workers died unasked
// within CrashWindow as there are workers (at least three), and clears it
// once the window holds fewer.
func (m *Master) crashLoopCheck(now time.Time, last string) {
	if last != "" {
		m.lastCrash = last
	}
	cut := now.Add(-m.cfg.CrashWindow)
	m.crashes = slices.DeleteFunc(m.crashes, func(t time.Time) bool { return t.Before(cut) })
	limit := max(3, len(m.wanted))
	switch {
	case len(m.crashes) >= limit:
		first := m.crashNote == ""
		m.crashNote = fmt.Sprintf("%d workers died unasked in the last %v; the last: %s", len(m.crashes), m.cfg.CrashWindow, m.lastCrash)
		if first {
			m.log.Error("hatago: crash loop: respawns slowed", "reason", m.crashNote)
		}
	case m.crashNote != "":
		m.log.Info("hatago: crash loop over")
		m.crashNote = ""
	}
}

// enforce kills workers past their boot, check-in or shutdown timeout.
func (m *Master) enforce(now time.Time) {
	for _, p := range m.procs {
		switch {
		case p.killed:
		case p.stopReason != "" && !p.stopSent.IsZero() && now.Sub(p.stopSent) > m.cfg.ShutdownTimeout:
			m.log.Warn("hatago: worker did not stop in time: killing it", "index", p.index, "pid", p.pid,
				"shutdown_timeout", m.cfg.ShutdownTimeout)
			m.kill(p, "")
			if m.stopping == "stop" && m.stopErr == nil {
				m.stopErr = fmt.Errorf("cluster: worker %d (pid %d) did not stop within %v: killed", p.index, p.pid, m.cfg.ShutdownTimeout)
			}
		case p.stopReason != "":
		case p.booted.IsZero() && now.Sub(p.started) > m.cfg.BootTimeout:
			m.timeouts.Add(1)
			m.log.Error("hatago: worker did not boot in time: killing it", "index", p.index, "pid", p.pid,
				"boot_timeout", m.cfg.BootTimeout)
			m.kill(p, fmt.Sprintf("no boot within %v", m.cfg.BootTimeout))
		case !p.booted.IsZero() && now.Sub(p.lastCheckin) > m.cfg.WorkerTimeout:
			m.timeouts.Add(1)
			m.log.Error("hatago: worker stopped checking in: killing it", "index", p.index, "pid", p.pid,
				"last_checkin", now.Sub(p.lastCheckin).Round(time.Millisecond), "worker_timeout", m.cfg.WorkerTimeout)
			m.kill(p, fmt.Sprintf("no check-in for %v", m.cfg.WorkerTimeout))
		}
	}
	if m.crashNote != "" {
		m.crashLoopCheck(now, "")
	}
	if m.stopping == "" && !m.ready && m.allBooted() {
		m.ready = true
		_, _ = sdnotify.Notify("READY=1\nSTATUS=" + m.statusLine())
		m.log.Info("hatago: cluster ready", "workers", len(m.wanted), "phase", m.phase)
	}
}

func (m *Master) statusLine() string {
	return fmt.Sprintf("%d workers, phase %d", len(m.wanted), m.phase)
}

// allBooted reports whether every wanted index has a booted worker.
func (m *Master) allBooted() bool {
	for i := range m.wanted {
		if p := m.serving(i); p == nil || p.booted.IsZero() {
			return false
		}
	}
	return true
}

// serving returns the worker serving index i (the old one during a
// replacement), or nil.
func (m *Master) serving(i int) *proc {
	var found *proc
	for _, p := range m.procs {
		if p.index == i && p.stopReason == "" && p.fault == "" {
			if m.repl != nil && p == m.repl.new {
				continue
			}
			if found == nil || p.started.Before(found.started) {
				found = p
			}
		}
	}
	return found
}

// ensure starts a worker for every wanted index that has none.
func (m *Master) ensure() {
	if m.stopping != "" {
		return
	}
	now := time.Now()
	for _, i := range m.indices() {
		if m.serving(i) != nil || now.Before(m.notBefore[i]) {
			continue
		}
		if m.repl != nil && m.repl.index == i {
			continue // its replacement is booting
		}
		if _, err := m.spawn(i); err != nil {
			m.log.Error("hatago: cannot start a worker", "index", i, "err", err)
			m.backoff[i] = min(max(2*m.backoff[i], time.Second), 30*time.Second)
			m.notBefore[i] = now.Add(m.backoff[i])
		}
	}
}

func (m *Master) indices() []int {
	is := make([]int, 0, len(m.wanted))
	for i := range m.wanted {
		is = append(is, i)
	}
	slices.Sort(is)
	return is
}

// advance moves a replacement along: once the new worker booted, the old
// one stops; then the next phased or recycle replacement starts.
func (m *Master) advance() {
	if r := m.repl; r != nil {
		if r.new.booted.IsZero() {
			return
		}
		m.repl = nil
		if r.old != nil && r.old.stopReason == "" {
			m.stop(r.old, r.why)
		}
		if strings.HasPrefix(r.why, "recycle") {
			m.recycles.Add(1)
		}
	}
	if m.stopping != "" {
		return
	}
	for _, p := range m.procs {
		if p.stopReason == "phased restart" || strings.HasPrefix(p.stopReason, "recycle") {
			return // one at a time: the last one replaced has not exited yet
		}
	}
	if m.phased {
		for _, i := range m.indices() {
			if p := m.serving(i); p != nil && p.phase < m.phase {
				if p.booted.IsZero() {
					return // wait for it to boot before replacing it
				}
				m.replace(p, "phased restart")
				return
			}
		}
		m.phased = false
		m.phasedNote = "done"
		m.log.Info("hatago: phased restart done", "phase", m.phase)
		_, _ = sdnotify.Notify("STATUS=" + m.statusLine())
		return
	}
	if m.cfg.RecycleRequests == 0 && m.cfg.RecycleBytes == 0 {
		return
	}
	for _, i := range m.indices() {
		p := m.serving(i)
		if p == nil || p.booted.IsZero() {
			continue
		}
		switch {
		case p.recycleReqs > 0 && p.status.RequestsCount >= p.recycleReqs:
			m.replace(p, fmt.Sprintf("recycle: %d requests", p.status.RequestsCount))
			return
		case p.recycleRSS > 0 && p.status.RSSBytes >= p.recycleRSS:
			m.replace(p, fmt.Sprintf("recycle: %d bytes resident", p.status.RSSBytes))
			return
		}
	}
}

// replace starts old's replacement; old stops once it booted.
func (m *Master) replace(old *proc, why string) {
	p, err := m.spawn(old.index)
	if err != nil {
		m.failReplacement(&replacement{index: old.index, old: old, why: why}, fmt.Sprintf("cannot start worker %d: %v", old.index, err))
		return
	}
	m.log.Info("hatago: replacing a worker", "index", old.index, "old_pid", old.pid, "new_pid", p.pid, "reason", why)
	m.repl = &replacement{index: old.index, old: old, new: p, why: why}
}

// failReplacement ends a replacement whose new worker did not boot: the
// old worker keeps serving, and a phased restart stops there.
func (m *Master) failReplacement(r *replacement, reason string) {
	if r.new != nil && !r.new.killed {
		m.kill(r.new, "")
	}
	if r.why == "phased restart" {
		m.phased = false
		m.phasedNote = "failed: " + reason
		m.log.Error("hatago: phased restart failed: the old workers keep serving", "reason", reason, "phase", m.phase)
		_, _ = sdnotify.Notify("STATUS=phased restart failed: " + reason)
		return
	}
	m.log.Error("hatago: recycle failed: the worker keeps serving", "reason", reason)
	// Try again later, not at once; a limit not set stays unset.
	if o := r.old; o != nil {
		if o.recycleReqs > 0 {
			o.recycleReqs += o.recycleReqs/2 + 1
		}
		if o.recycleRSS > 0 {
			o.recycleRSS += o.recycleRSS/2 + 1
		}
	}
}

// spawn starts a worker for index i in the current phase.
func (m *Master) spawn(i int) (*proc, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "cluster-pipe")
	theirs := os.NewFile(uintptr(fds[1]), "cluster-pipe")
	defer theirs.Close()
	conn, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	env := workerEnv{Index: i, Phase: m.phase, Checkin: m.cfg.CheckinInterval, MasterPID: os.Getpid()}
	files := make([]*os.File, 0, len(m.cfg.Sockets)+1)
	for _, s := range m.cfg.Sockets {
		if s.File == nil { // reuseport: the worker listens itself
			env.Listen = append(env.Listen, passed{FD: -1, Bind: s.Bind})
			continue
		}
		env.Listen = append(env.Listen, passed{FD: 3 + len(files), Bind: s.Bind})
		files = append(files, s.File)
	}
	env.Pipe = 3 + len(files)
	files = append(files, theirs)

	cmd := exec.Command(m.cfg.Exe, m.cfg.Args...)
	cmd.Env = m.workerEnviron(env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.ExtraFiles = files
	// A group of its own: a terminal's Ctrl-C reaches the master alone,
	// which then stops the workers in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, err
	}
	p := &proc{index: i, phase: m.phase, pid: cmd.Process.Pid, cmd: cmd, pipe: newPipe(conn),
		started: time.Now(), waiting: make(map[uint64]chan control.Stats)}
	p.recycleReqs = jitter(m.cfg.RecycleRequests, m.cfg.RecycleJitter)
	p.recycleRSS = jitter(m.cfg.RecycleBytes, m.cfg.RecycleJitter)
	m.procs = append(m.procs, p)
	go m.read(p)
	go func() {
		err := cmd.Wait()
		select {
		case m.events <- event{p: p, kind: "exit", err: err}:
		case <-m.done:
		}
	}()
	m.log.Info("hatago: worker started", "index", i, "pid", p.pid, "phase", m.phase)
	return p, nil
}

// jitter returns limit lowered by a random fraction of up to j, or 0 for
// no limit.
func jitter(limit uint64, j float64) uint64 {
	if limit == 0 {
		return 0
	}
	return max(1, limit-uint64(float64(limit)*j*rand.Float64()))
}

// workerEnviron is the master's environment for a worker: without the
// variables that belong to the master (systemd's), with the worker's own.
func (m *Master) workerEnviron(w workerEnv) []string {
	env := withoutVars(os.Environ(), envWorker, envMaster, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
		"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
	if _, ok := os.LookupEnv("GOMAXPROCS"); !ok {
		procs := m.cfg.GOMAXPROCS
		if procs <= 0 {
			procs = max(1, runtime.GOMAXPROCS(0)/len(m.wanted))
		}
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	return append(env, envWorker+"="+mustJSON(w))
}

// read turns a worker's messages into events; stats answers go straight
// to whoever asked.
func (m *Master) read(p *proc) {
	for {
		msg, err := p.pipe.recv()
		if err != nil {
			return // the exit event follows
		}
		switch msg.Type {
		case msgBoot, msgCheckin:
			select {
			case m.events <- event{p: p, kind: msg.Type, stats: msg.Stats}:
			case <-m.done:
				return
			}
		case msgStats:
			p.mu.Lock()
			ch := p.waiting[msg.ID]
			delete(p.waiting, msg.ID)
			p.mu.Unlock()
			if ch != nil && msg.Stats != nil {
				ch <- *msg.Stats
			}
		}
	}
}

// stop sends TERM to p: it drains and exits.
func (m *Master) stop(p *proc, why string) {
	if p.stopReason != "" {
		return
	}
	p.stopReason, p.stopSent = why, time.Now()
	m.log.Info("hatago: stopping a worker", "index", p.index, "pid", p.pid, "reason", why)
	if !p.booted.IsZero() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	} else {
		// Not serving yet: it may not have set up its signal handling.
		m.kill(p, "")
	}
}

// kill sends KILL to p. fault, if set, says why it counts as a death.
func (m *Master) kill(p *proc, fault string) {
	if fault != "" {
		p.fault = fault
	}
	if p.stopReason == "" {
		p.stopReason = "killed"
	}
	p.killed = true
	_ = p.cmd.Process.Kill()
}

// beginStop stops every worker: gracefully for "stop" and "restart", at
// once for "halt".
func (m *Master) beginStop(how, why string) {
	if m.stopping == "halt" {
		return
	}
	m.log.Info("hatago: cluster stopping", "how", how, "reason", why, "workers", len(m.procs),
		"shutdown_timeout", m.cfg.ShutdownTimeout)
	m.stopping = how
	m.phased = false
	if how != "restart" {
		_, _ = sdnotify.Notify("STOPPING=1")
	}
	for _, p := range m.procs {
		if how == "halt" {
			m.kill(p, "")
		} else {
			m.stop(p, how)
		}
	}
}

// countUp adds a worker.
func (m *Master) countUp() {
	i := 0
	for m.wanted[i] {
		i++
	}
	m.wanted[i] = true
	m.log.Info("hatago: worker count up", "workers", len(m.wanted))
}

// countDown removes a worker: the youngest, or the oldest with CullOldest.
func (m *Master) countDown() error {
	switch {
	case m.stopping != "":
		return ErrStopping
	case len(m.wanted) <= 1:
		return ErrMinimum
	case m.repl != nil:
		return ErrBusy
	}
	var cull *proc
	for _, i := range m.indices() {
		p := m.serving(i)
		if p == nil {
			continue
		}
		if cull == nil || (m.cfg.CullOldest && p.started.Before(cull.started)) ||
			(!m.cfg.CullOldest && p.started.After(cull.started)) {
			cull = p
		}
	}
	idx := slices.Max(m.indices())
	if cull != nil {
		idx = cull.index
	}
	delete(m.wanted, idx)
	if cull != nil {
		m.stop(cull, "worker count down")
	}
	m.log.Info("hatago: worker count down", "workers", len(m.wanted), "index", idx)
	return nil
}

func (m *Master) phasedRestart() error {
	switch {
	case m.stopping != "":
		return ErrStopping
	case m.phased || m.repl != nil:
		return ErrBusy
	}
	m.phase++
	m.phased = true
	m.phasedNote = "running"
	m.log.Info("hatago: phased restart", "phase", m.phase, "exe", m.cfg.Exe)
	_, _ = sdnotify.Notify("STATUS=phased restart to phase " + strconv.Itoa(m.phase))
	return nil
}

func (m *Master) hotRestart() error {
	if m.stopping != "" {
		return ErrStopping
	}
	_, _ = sdnotify.Notify(sdnotify.Reloading())
	m.repl = nil
	m.beginStop("restart", "hot restart")
	return nil
}

// do runs fn on Run's goroutine and waits for it; false if Run is not
// running.
func (m *Master) do(fn func()) bool {
	if !m.running.Load() {
		return false
	}
	finished := make(chan struct{})
	select {
	case m.cmds <- func() { fn(); close(finished) }:
		<-finished
		return true
	case <-m.done:
		return false
	}
}

// Stop begins a graceful stop of the cluster and returns at once.
func (m *Master) Stop() { go m.do(func() { m.beginStop("stop", "control server") }) }

// Halt kills every worker and stops; it returns at once.
func (m *Master) Halt() { go m.do(func() { m.beginStop("halt", "control server") }) }

// Restart begins a hot restart (see Run).
func (m *Master) Restart() error { return m.command(m.hotRestart) }

// PhasedRestart begins a phased restart: workers are replaced one at a
// time by the binary now on disk, each old one stopping once its
// replacement booted. If a replacement fails to boot the restart stops
// there and the old workers keep serving; ClusterStats says so.
func (m *Master) PhasedRestart() error { return m.command(m.phasedRestart) }

// WorkerCountUp adds a worker.
func (m *Master) WorkerCountUp() error {
	return m.command(func() error { m.countUp(); return nil })
}

// WorkerCountDown removes a worker (see Config.CullOldest).
func (m *Master) WorkerCountDown() error { return m.command(m.countDown) }

func (m *Master) command(fn func() error) error {
	var err error
	if !m.do(func() { err = fn() }) {
		return ErrStopping
	}
	return err
}

// ClusterStats returns the cluster's stats document. Booted workers are
// asked for fresh stats and answer within ctx; a worker that does not is
// reported with its last check-in, and Live is false.
func (m *Master) ClusterStats(ctx context.Context) control.ClusterStats {
	doc := control.ClusterStats{
		StartedAt:   m.startedAt,
		PID:         os.Getpid(),
		Version:     m.cfg.Version,
		Restarts:    m.restarts.Load(),
		Recycles:    m.recycles.Load(),
		Timeouts:    m.timeouts.Load(),
		HotRestarts: m.hotRestarts,
		Live:        true,
	}
	var procs []*proc
	ok := m.do(func() {
		doc.Workers, doc.Phase = len(m.wanted), m.phase
		doc.PhasedRestart = m.phasedNote
		doc.CrashLoop, doc.CrashLoopReason = m.crashNote != "", m.crashNote
		for _, p := range m.procs {
			ws := control.WorkerStatus{Started: p.started.UTC(), PID: p.pid, Index: p.index, Phase: p.phase,
				Booted: !p.booted.IsZero(), LastStatus: p.status, Stopping: p.stopReason, RSSBytes: p.status.RSSBytes}
			if !p.lastCheckin.IsZero() {
				ws.LastCheckin = p.lastCheckin.UTC()
			}
			if ws.Booted && p.stopReason == "" {
				doc.BootedWorkers++
				procs = append(procs, p)
			}
			if p.phase < m.phase && p.stopReason == "" {
				doc.OldWorkers++
			}
			doc.WorkerStatus = append(doc.WorkerStatus, ws)
		}
	})
	if !ok {
		doc.Live = false
		return doc
	}
	// Ask the booted workers, all at once.
	type answer struct {
		pid int
		ch  chan control.Stats
	}
	answers := make([]answer, 0, len(procs))
	for _, p := range procs {
		id := m.nextID.Add(1)
		ch := make(chan control.Stats, 1)
		p.mu.Lock()
		p.waiting[id] = ch
		p.mu.Unlock()
		if err := p.pipe.send(message{Type: msgStats, ID: id}); err != nil {
			p.mu.Lock()
			delete(p.waiting, id)
			p.mu.Unlock()
			continue
		}
		answers = append(answers, answer{p.pid, ch})
	}
	fresh := make(map[int]control.Stats, len(answers))
	for _, a := range answers {
		select {
		case st, ok := <-a.ch:
			if ok {
				fresh[a.pid] = st
			}
		case <-ctx.Done():
		}
	}
	now := time.Now().UTC()
	for i := range doc.WorkerStatus {
		ws := &doc.WorkerStatus[i]
		if st, ok := fresh[ws.PID]; ok {
			ws.LastStatus, ws.LastCheckin, ws.RSSBytes = st, now, st.RSSBytes
		} else if ws.Booted && ws.Stopping == "" {
			doc.Live = false
		}
	}
	slices.SortStableFunc(doc.WorkerStatus, func(a, b control.WorkerStatus) int {
		if a.Index != b.Index {
			return a.Index - b.Index
		}
		return a.Started.Compare(b.Started)
	})
	return doc
}

// Stats returns the workers' stats summed into one document, for tools
// that read a single-mode document.
func (m *Master) Stats() control.Stats {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	return Sum(m.ClusterStats(ctx))
}

// Sum adds up the workers' documents of c into one: counts and gauges
// are summed, percentiles taken from the worker with the highest.
func Sum(c control.ClusterStats) control.Stats {
	s := control.Stats{StartedAt: c.StartedAt, PID: c.PID, Version: c.Version}
	for _, w := range c.WorkerStatus {
		if w.Stopping != "" {
			continue
		}
		l := w.LastStatus
		s.Backlog += l.Backlog
		s.Running += l.Running
		s.PoolCapacity += l.PoolCapacity
		s.BusyThreads += l.BusyThreads
		s.MaxThreads += l.MaxThreads
		s.RequestsCount += l.RequestsCount
		s.BacklogMax = max(s.BacklogMax, l.BacklogMax)
		s.MinThreads += l.MinThreads
		s.BacklogLimit += l.BacklogLimit
		s.Rejected += l.Rejected
		s.TimedOut += l.TimedOut
		s.Panics += l.Panics
		s.SlotsStarted += l.SlotsStarted
		s.SlotsTrimmed += l.SlotsTrimmed
		s.Goroutines += l.Goroutines
		s.HeapBytes += l.HeapBytes
		s.RSSBytes += l.RSSBytes
		if l.Latency.P99 > s.Latency.P99 {
			s.Latency = l.Latency
		}
		if l.QueueTime.P99 > s.QueueTime.P99 {
			s.QueueTime = l.QueueTime
		}
	}
	return s
}
