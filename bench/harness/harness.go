// Package harness runs the TechEmpower tests with wrk against Hatago and
// its peers (net/http, fasthttp, fasthttp with prefork, Fiber, Gin), one
// server at a time on this machine, and writes a Markdown table of
// requests per second, latencies and Hatago-to-peer ratios, and an SVG
// chart, into bench/results. cmd/harness is its command line.
//
// For each server it builds the binary, starts it against a PostgreSQL
// database it has created and seeded, checks it against the rules (package
// verify), warms it up, runs every step of the plan with wrk, and stops
// it. A server whose build or checks fail is skipped and noted.
package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hatago/hatago/bench/report"
	"github.com/hatago/hatago/bench/tfb"
	"github.com/hatago/hatago/bench/verify"
	"github.com/hatago/hatago/bench/wrk"
)

// The database the harness uses unless told otherwise.
const (
	// EnvDB names the variable with the benchmark database's URL.
	EnvDB = "HATAGO_BENCH_POSTGRES"
	// EnvTestDB names the tests' database; the harness uses BenchDatabase
	// on the same server, created if needed, when EnvDB is unset.
	EnvTestDB = "HATAGO_TEST_POSTGRES"
	// BenchDatabase is the database the harness creates.
	BenchDatabase = "hatago_bench"
)

// Config is one run of the harness.
type Config struct {
	Plan    Plan
	Servers []Server
	// DBURL is the benchmark database; AdminURL, if set, is a database on
	// the same server to connect to when DBURL's database must be created.
	DBURL, AdminURL string
	Pool            int  // the peers' database connections
	Pin             bool // pin servers to CPU 1 and wrk to CPU 0 (if there are two CPUs and taskset)
	Dirs            Dirs
	OutDir          string    // where the results go
	Out             io.Writer // progress
	Now             func() time.Time
}

// ParseArgs reads the command line into a Config; getenv supplies the
// environment (os.Getenv in main). flag.ErrHelp means -h was asked for.
func ParseArgs(args []string, getenv func(string) string, cwd string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	fs.SetOutput(out)
	var names []string
	for _, s := range Servers {
		names = append(names, s.Name)
	}
	quick := fs.Bool("quick", false, "one concurrency level per test, 3 s runs: about 3 minutes (default: the full plan, about 5 minutes per server)")
	servers := fs.String("servers", "", "comma-separated `servers` to run (default all: "+strings.Join(names, ",")+")")
	tests := fs.String("tests", "", "comma-separated `tests` to run (default all: "+strings.Join(verify.Tests, ",")+")")
	db := fs.String("db", "", "PostgreSQL `URL` of the benchmark database (default $"+EnvDB+", else $"+EnvTestDB+" with the database "+BenchDatabase+", created if needed)")
	duration := fs.Duration("duration", 0, "length of each run (default 3s quick, 10s full)")
	warmup := fs.Duration("warmup", 0, "length of each of the two warm-up runs per server (default 1s quick, 5s full)")
	pool := fs.Int("pool", 16, "database connections of each peer (Hatago's world sizes its own pool)")
	pin := fs.Bool("pin", true, "pin each server to CPU 1 with GOMAXPROCS=1 and wrk to CPU 0, as plaintext.sh does")
	outDir := fs.String("out", "", "results `directory` (default bench/results)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/harness [flags]   (from bench/, or bench/run [flags])\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var c Config
	c.Plan = FullPlan()
	if *quick {
		c.Plan = QuickPlan()
	}
	var err error
	if c.Plan, err = c.Plan.Only(splitList(*tests)); err != nil {
		return Config{}, err
	}
	if *duration > 0 {
		c.Plan.Duration = *duration
	}
	if *warmup > 0 {
		c.Plan.Warmup = *warmup
	}
	if c.Servers, err = SelectServers(splitList(*servers)); err != nil {
		return Config{}, err
	}
	if c.DBURL, c.AdminURL, err = DatabaseURL(*db, getenv); err != nil {
		return Config{}, err
	}
	if *pool < 1 {
		return Config{}, fmt.Errorf("-pool %d: want at least 1", *pool)
	}
	c.Pool, c.Pin = *pool, *pin
	if c.Dirs, err = FindDirs(cwd); err != nil {
		return Config{}, err
	}
	c.OutDir = *outDir
	if c.OutDir == "" {
		c.OutDir = filepath.Join(c.Dirs.Bench, "results")
	}
	c.Out, c.Now = out, time.Now
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// DatabaseURL picks the benchmark database: flag if set, else $EnvDB, else
// $EnvTestDB with its database switched to BenchDatabase, in which case
// admin is $EnvTestDB, through which the harness creates it.
func DatabaseURL(flag string, getenv func(string) string) (db, admin string, err error) {
	if flag != "" {
		return flag, "", nil
	}
	if v := getenv(EnvDB); v != "" {
		return v, "", nil
	}
	test := getenv(EnvTestDB)
	if test == "" {
		return "", "", fmt.Errorf("no database: give -db, or set %s or %s (postgres://user:pass@127.0.0.1:5432/db)", EnvDB, EnvTestDB)
	}
	if db, err = tfb.WithDatabase(test, BenchDatabase); err != nil {
		return "", "", fmt.Errorf("%s: %w", EnvTestDB, err)
	}
	return db, test, nil
}

// Harness runs one Config. Use it once.
type Harness struct {
	c Config
	// Set by Run as it goes.
	pool     *pgxpool.Pool
	planned  time.Duration // the whole run's estimate
	doneEst  time.Duration // the estimate of what has been done
	started  time.Time
	stepNo   int
	stepsAll int
}

// New returns a Harness for c; it does no I/O.
func New(c Config) *Harness {
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Harness{c: c}
}

func (h *Harness) printf(format string, args ...any) { fmt.Fprintf(h.c.Out, format, args...) }

// Run runs every server through the plan and writes the results; it
// returns the path of the Markdown page. It fails if wrk is missing, the
// database cannot be prepared or no server could be measured; a server
// that fails on its own is noted in the report and skipped.
func (h *Harness) Run(ctx context.Context) (string, error) {
	if err := wrk.Check(); err != nil {
		return "", err
	}
	c := h.c
	start := c.Now()

	if c.AdminURL != "" {
		if err := tfb.CreateDatabase(ctx, c.DBURL, c.AdminURL); err != nil {
			return "", err
		}
	}
	if err := tfb.Setup(ctx, c.DBURL); err != nil {
		return "", fmt.Errorf("prepare the benchmark database: %w", err)
	}
	pool, err := tfb.Open(ctx, c.DBURL, 2)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	h.pool = pool
	h.printf("database %s ready (world: %d rows, fortune: %d rows)\n", redact(c.DBURL), tfb.WorldRows, len(tfb.Fortunes))

	binDir, err := os.MkdirTemp("", "hatago-bench")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(binDir)
	h.printf("building %d servers...\n", len(c.Servers))
	bins, buildErrs := Build(ctx, c.Dirs, c.Servers, binDir, func(name string, took time.Duration, err error) {
		if err != nil {
			h.printf("  %-17s build FAILED, will be skipped: %s\n", name, firstLine(err.Error()))
		} else {
			h.printf("  %-17s built in %.1fs\n", name, took.Seconds())
		}
	})
	if ctx.Err() != nil {
		return "", ctx.Err()
	}

	rep := &report.Report{Mode: c.Plan.Mode, Date: start, Baseline: Baseline, Machine: h.machine(ctx)}
	var notes []string
	var runnable []Server
	for _, s := range c.Servers {
		if err := buildErrs[s.Name]; err != nil {
			notes = append(notes, fmt.Sprintf("%s: not measured, its build failed: `%s`", s.Name, firstLine(err.Error())))
			continue
		}
		runnable = append(runnable, s)
	}
	for _, s := range c.Servers {
		rep.Servers = append(rep.Servers, s.Name)
	}
	rows := make([]report.Row, len(c.Plan.Steps))
	for i, st := range c.Plan.Steps {
		rows[i] = report.Row{Test: st.Test, Label: st.Label, Conns: st.Conns, Cells: map[string]report.Cell{}}
	}

	serverPrefix, wrkPrefix, threads, env, pinNote := h.pinning()
	if load := loadAverage(); load > 0.5*float64(runtime.NumCPU()) {
		h.printf("WARNING: the load average is %.2f on %d CPUs: something else is running, and the figures will be noisy\n", load, runtime.NumCPU())
	}
	h.started = time.Now()
	h.planned = time.Duration(len(runnable)) * c.Plan.PerServer()
	h.stepsAll = len(runnable) * len(c.Plan.Steps)
	h.printf("%s run: %d servers × %d runs of %v, about %v\n", c.Plan.Mode, len(runnable), len(c.Plan.Steps), c.Plan.Duration, h.planned.Round(time.Second))

	measured := 0
	var loads []string
	for _, s := range runnable {
		loads = append(loads, fmt.Sprintf("%s %.2f", s.Name, loadAverage()))
		n, note := h.server(ctx, s, bins[s.Name], rows, serverPrefix, wrkPrefix, threads, env)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		measured += n
		notes = append(notes, note...)
	}
	if measured == 0 {
		return "", errors.New("no server could be measured")
	}
	rep.Rows = rows
	notes = append(notes, "Load average (1 min) as each server started: "+strings.Join(loads, ", ")+
		fmt.Sprintf("; %.2f at the end. With %d CPUs, much above %d/2 means other processes took CPU time from the run.", loadAverage(), runtime.NumCPU(), runtime.NumCPU()))
	rep.Notes = notes
	rep.Setup = h.setup(ctx, pinNote, threads)
	h.printf("done in %v\n", c.Now().Sub(start).Round(time.Second))
	return h.write(rep)
}

// server measures one server and fills its cells of rows; it returns how
// many runs it measured and the notes for the report.
func (h *Harness) server(ctx context.Context, s Server, bin string, rows []report.Row, serverPrefix, wrkPrefix []string, threads int, env []string) (int, []string) {
	c := h.c
	fail := func(reason string) {
		for i := range rows {
			rows[i].Cells[s.Name] = report.Cell{Failed: reason}
		}
		h.doneEst += c.Plan.PerServer()
		h.stepNo += len(c.Plan.Steps)
	}
	serverStart := time.Now()
	// Updates leave dead rows behind; each server starts from a clean table.
	if _, err := h.pool.Exec(ctx, "VACUUM ANALYZE world"); err != nil {
		h.printf("[%s] vacuum: %v\n", s.Name, err)
	}
	addr, err := FreeAddr()
	if err != nil {
		fail(err.Error())
		return 0, []string{fmt.Sprintf("%s: not measured: %v", s.Name, err)}
	}
	p, err := Start(ctx, s, StartOptions{Bin: bin, Addr: addr, DBURL: c.DBURL, Pool: c.Pool, Prefix: serverPrefix, Env: env})
	if err != nil {
		h.printf("[%s] did not start: %v\n", s.Name, err)
		fail("did not start")
		return 0, []string{fmt.Sprintf("%s: not measured, it did not start: `%s`", s.Name, firstLine(err.Error()))}
	}
	defer p.Stop()
	h.printf("[%s] answering on %s after %.1fs; checking the rules... ", s.Name, addr, time.Since(serverStart).Seconds())

	checker := &verify.Checker{
		BaseURL:    "http://" + addr,
		Lookup:     h.lookup,
		DateChange: c.Plan.Mode == "full",
	}
	var notes []string
	problems := checker.Check(ctx)
	broken := map[string]bool{}
	for _, pr := range problems {
		broken[pr.Test] = true
	}
	if len(problems) == 0 {
		h.printf("all pass\n")
	} else {
		h.printf("%d problems\n", len(problems))
		for i, pr := range problems {
			if i == 10 {
				h.printf("    ... and %d more\n", len(problems)-10)
				break
			}
			h.printf("    %v\n", pr)
		}
		var tests []string
		for _, t := range verify.Tests {
			if broken[t] {
				tests = append(tests, t)
			}
		}
		notes = append(notes, fmt.Sprintf("%s breaks the rules of %s; first problem: `%v`", s.Name, strings.Join(tests, ", "), problems[0]))
	}
	if broken[verify.JSON] || broken[verify.Plaintext] {
		fail("failed the checks")
		notes = append(notes, s.Name+": not measured, as its /json or /plaintext is wrong")
		return 0, notes
	}

	// Warm-up: the database path (fills the pool and statement caches) and
	// the plaintext path, at the plan's largest concurrency.
	conns := 0
	for _, st := range c.Plan.Steps {
		conns = max(conns, min(st.Conns, 512))
	}
	for _, path := range []string{"/queries?queries=5", "/plaintext"} {
		_, err := wrk.Run(ctx, wrk.Options{URL: "http://" + addr + path, Connections: max(conns, 16), Threads: threads,
			Duration: c.Plan.Warmup, Timeout: 8 * time.Second, Prefix: wrkPrefix})
		if err != nil && ctx.Err() == nil {
			h.printf("[%s] warm-up of %s: %v\n", s.Name, path, firstLine(err.Error()))
		}
	}
	h.doneEst += serverOverhead + 2*c.Plan.Warmup

	measured := 0
	for i, st := range c.Plan.Steps {
		if ctx.Err() != nil {
			return measured, notes
		}
		h.stepNo++
		eta := Estimate(h.planned, h.doneEst, time.Since(h.started))
		h.printf("[%3d/%d] %-17s %-26s c=%-5d %v ... ", h.stepNo, h.stepsAll, s.Name, st.Label, st.Conns, c.Plan.Duration)
		res, err := wrk.Run(ctx, wrk.Options{
			URL: "http://" + addr + st.Path(), Connections: st.Conns, Threads: threads,
			Duration: c.Plan.Duration, Timeout: 8 * time.Second, Pipeline: st.Pipeline, Prefix: wrkPrefix,
		})
		h.doneEst += c.Plan.Duration + stepOverhead
		if err != nil {
			h.printf("FAILED: %s   ETA %v\n", firstLine(err.Error()), eta)
			rows[i].Cells[s.Name] = report.Cell{Failed: firstLine(err.Error())}
		} else {
			cell := report.Cell{RPS: res.OKPerSecond(), P50: res.P50, P99: res.P99, Requests: res.Requests,
				Errors: res.Errors.Total(), ErrorText: res.Errors.String()}
			rows[i].Cells[s.Name] = cell
			measured++
			errs := ""
			if cell.Errors > 0 {
				errs = "  errors: " + cell.ErrorText
			}
			h.printf("%9s req/s  p50 %-9s p99 %-9s ETA %v%s\n", report.Thousands(cell.RPS), report.Latency(res.P50), report.Latency(res.P99), eta, errs)
		}
		if exited, werr := p.Exited(); exited {
			h.printf("[%s] %v: %v\n%s\n", s.Name, errExited, werr, p.Output())
			notes = append(notes, fmt.Sprintf("%s: %v during `%s` (%v)", s.Name, errExited, st.Label, werr))
			for j := i + 1; j < len(rows); j++ {
				rows[j].Cells[s.Name] = report.Cell{Failed: errExited.Error()}
			}
			h.stepNo += len(c.Plan.Steps) - i - 1
			h.doneEst += time.Duration(len(c.Plan.Steps)-i-1) * (c.Plan.Duration + stepOverhead)
			return measured, notes
		}
	}

	// A server can pass the checks fresh and break under the load.
	after := &verify.Checker{BaseURL: checker.BaseURL, Lookup: h.lookup}
	var broke []verify.Problem
	for _, pr := range after.Check(ctx) {
		if !broken[pr.Test] {
			broke = append(broke, pr)
		}
	}
	if len(broke) > 0 && ctx.Err() == nil {
		h.printf("[%s] after the load, %d problems the fresh server did not have; first: %v\n", s.Name, len(broke), broke[0])
		notes = append(notes, fmt.Sprintf("%s passed the checks fresh but not after the load (%d problems); first: `%v`", s.Name, len(broke), broke[0]))
	}
	return measured, notes
}

// loadAverage is the 1-minute load average, or 0 if unknown.
func loadAverage() float64 {
	var load float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &load)
	}
	return load
}

// lookup reads a world row's number for the updates check.
func (h *Harness) lookup(ctx context.Context, id int) (int, error) {
	var n int
	err := h.pool.QueryRow(ctx, "SELECT randomnumber FROM world WHERE id = $1", id).Scan(&n)
	return n, err
}

// pinning decides where servers and wrk run: on a machine with two or more
// CPUs and taskset, the server on CPU 1 with GOMAXPROCS=1 and wrk on CPU
// 0 with one thread, so they do not take turns on a core; else all share
// every CPU and wrk gets a thread per CPU.
func (h *Harness) pinning() (serverPrefix, wrkPrefix []string, threads int, env []string, note string) {
	_, err := exec.LookPath("taskset")
	if h.c.Pin && runtime.NumCPU() >= 2 && err == nil {
		return []string{"taskset", "-c", "1"}, []string{"taskset", "-c", "0"}, 1, []string{"GOMAXPROCS=1"},
			"Each server pinned to CPU 1 with GOMAXPROCS=1 (so fasthttp-prefork runs one child), wrk to CPU 0 with one thread (taskset); PostgreSQL is not pinned and shares both CPUs."
	}
	return nil, nil, runtime.NumCPU(), nil,
		fmt.Sprintf("Servers, wrk (%d threads) and PostgreSQL share all %d CPUs.", runtime.NumCPU(), runtime.NumCPU())
}

// setup describes how the load was made, for the report.
func (h *Harness) setup(ctx context.Context, pinNote string, threads int) []string {
	p := h.c.Plan
	var sc string
	if err := h.pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sc); err != nil {
		sc = "unknown"
	}
	lines := []string{
		fmt.Sprintf("%s plan: %d runs per server, %v each, after warming each server up for %v on `/queries?queries=5` and %v on `/plaintext`; one server at a time.",
			strings.ToUpper(p.Mode[:1])+p.Mode[1:], len(p.Steps), p.Duration, p.Warmup, p.Warmup),
		pinNote,
		fmt.Sprintf("wrk with keep-alive, %d thread(s), `--timeout 8s`; plaintext sends %d pipelined requests per write.", threads, pipelineDepth),
		fmt.Sprintf("Peers use a pgx v5 pool of %d connections with the statement cache; updates are sorted by id and sent as one pgx.Batch. Hatago's world example sizes its own pool.", h.c.Pool),
		fmt.Sprintf("PostgreSQL database `%s` on this machine (synchronous_commit=%s); `VACUUM ANALYZE world` before each server.", dbName(h.c.DBURL), sc),
		"Before it is measured each server is checked against TechEmpower's rules (package verify); the notes list what failed.",
	}
	for _, s := range h.c.Servers {
		lines = append(lines, fmt.Sprintf("`%s`: %s.", s.Name, s.About))
	}
	return lines
}

// machine describes this machine for the report.
func (h *Harness) machine(ctx context.Context) report.Machine {
	m := report.Machine{CPUs: runtime.NumCPU()}
	if out, err := exec.CommandContext(ctx, "nproc").Output(); err == nil {
		fmt.Sscan(string(out), &m.CPUs)
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	var v string
	if err := h.pool.QueryRow(ctx, "SHOW server_version").Scan(&v); err == nil {
		m.Postgres = v
	}
	if out, _ := exec.CommandContext(ctx, "wrk", "-v").CombinedOutput(); len(out) > 0 {
		m.Wrk, _, _ = strings.Cut(firstLine(string(out)), " [")
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	return m
}

// write saves the report as <date>-<mode>.md and .svg, and as latest.md
// and latest.svg, and returns the first page's path.
func (h *Harness) write(rep *report.Report) (string, error) {
	if err := os.MkdirAll(h.c.OutDir, 0o755); err != nil {
		return "", err
	}
	base := rep.Date.Format("2006-01-02") + "-" + rep.Mode
	svg := rep.SVG()
	files := []struct{ name, body string }{
		{base + ".md", rep.Markdown(base + ".svg")},
		{base + ".svg", svg},
		{"latest.md", rep.Markdown("latest.svg")},
		{"latest.svg", svg},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(h.c.OutDir, f.name), []byte(f.body), 0o644); err != nil {
			return "", err
		}
	}
	page := filepath.Join(h.c.OutDir, base+".md")
	h.printf("wrote %s, %s and latest.md/.svg\n", page, base+".svg")
	return page, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// redact hides the password in a database URL.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(the database)"
}

// dbName is the database name in a postgres:// URL.
func dbName(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return strings.TrimPrefix(u.Path, "/")
	}
	return "?"
}

// Main is the command line: it parses args, runs, and returns the exit
// code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "harness:", err)
		return 1
	}
	c, err := ParseArgs(args, os.Getenv, cwd, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "harness:", err)
		return 2
	}
	c.Out = stdout
	page, err := New(c).Run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "harness:", err)
		return 1
	}
	if b, err := os.ReadFile(page); err == nil {
		fmt.Fprintf(stdout, "\n%s", b)
	}
	return 0
}
