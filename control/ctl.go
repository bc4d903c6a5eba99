package control

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Environment variables that give the CLI's flags their defaults.
const (
	EnvURL   = "HATAGO_CONTROL_URL"
	EnvToken = "HATAGO_CONTROL_TOKEN"
)

const ctlUsage = `Usage: hatago ctl [flags] COMMAND

Talk to the control server of a running Hatago process.

Commands:
  stats              show the stats document (of a cluster: the master, then a
                     table of its workers)
  gc                 run a garbage collection, show the heap before and after
  gc-stats           show garbage collector statistics
  goroutines         dump the stacks of all goroutines (alias: thread-backtraces)
  stop               stop the server gracefully
  halt               stop the server at once, without draining
  metrics            show the metrics in the Prometheus text format

Cluster commands (for a server started with -w N):
  restart            hot restart: the workers drain and stop, then the master
                     executes itself again, keeping its PID and sockets
  phased-restart     replace the workers one at a time with the binary on disk
  worker-count-up    run one more worker
  worker-count-down  run one worker fewer

Flags (before or after COMMAND):
  --control-url URL       tcp://HOST:PORT or unix:///PATH (default $HATAGO_CONTROL_URL)
  --control-token TOKEN   the server's control token (default $HATAGO_CONTROL_TOKEN)
  --json                  print the server's JSON answer instead of a table
  --timeout DURATION      give up after this long; 0 waits forever (default 10s)
`

// CLI is the `hatago ctl` command. Set its fields, then call Run; a CLI
// is safe for concurrent use if its writers are.
type CLI struct {
	// Stdout receives results; nil means os.Stdout.
	Stdout io.Writer
	// Stderr receives errors and usage; nil means os.Stderr.
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Now tells the time, for the check-in ages of cluster stats; nil
	// means time.Now.
	Now func() time.Time
}

// ctlOptions are the parsed flags and command of one run.
type ctlOptions struct {
	url, token string
	json       bool
	timeout    time.Duration
	command    string
}

// Run runs `hatago ctl` with args, the arguments after "ctl", and returns
// the exit code: 0 on success, 1 if the command failed (the server is
// unreachable, refused the token or the command, or answered an error),
// 2 for a usage error. It writes errors as one line to Stderr; when the
// server refuses a command, the line carries the server's reason.
func (c *CLI) Run(ctx context.Context, args []string) int {
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	opts, err := c.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, ctlUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "hatago ctl: %s\n\n%s", oneLine(err.Error()), ctlUsage)
		return 2
	}
	client, err := NewClient(opts.url, opts.token)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			err = fmt.Errorf("--control-%s: %s", strings.ToLower(ce.Field), ce.Msg)
		}
		fmt.Fprintf(stderr, "hatago ctl: %s\n\n%s", oneLine(err.Error()), ctlUsage)
		return 2
	}
	if opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.timeout)
		defer cancel()
	}
	body, err := client.Do(ctx, opts.command)
	if err == nil {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		err = printAnswer(stdout, client.URL(), opts, body, now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "hatago ctl: %s\n", oneLine(explain(err, opts.command)))
		return 1
	}
	return 0
}

// parse reads flags before and after the command. Its errors are usage
// errors.
func (c *CLI) parse(args []string) (ctlOptions, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var opts ctlOptions
	fs := flag.NewFlagSet("hatago ctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&opts.url, "control-url", getenv(EnvURL), "")
	fs.StringVar(&opts.token, "control-token", getenv(EnvToken), "")
	fs.BoolVar(&opts.json, "json", false, "")
	fs.DurationVar(&opts.timeout, "timeout", 10*time.Second, "")

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return opts, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}

	switch {
	case len(positional) == 0:
		return opts, errors.New("missing command")
	case len(positional) > 1:
		return opts, fmt.Errorf("one command at a time, got %q", positional)
	}
	opts.command = positional[0]
	if opts.command == "help" {
		return opts, flag.ErrHelp
	}
	if _, ok := lookupCommand(opts.command); !ok {
		return opts, fmt.Errorf("unknown command %q", opts.command)
	}
	if opts.url == "" {
		return opts, errors.New("no control URL: pass --control-url or set " + EnvURL)
	}
	if opts.timeout < 0 {
		return opts, errors.New("--timeout must not be negative")
	}
	return opts, nil
}

// explain turns a client error of command into advice for the command
// line.
func explain(err error, command string) string {
	var (
		ue *unreachableError
		re *ResponseError
	)
	switch {
	case errors.As(err, &ue):
		return fmt.Sprintf("cannot reach %s: %s (is the server running? pass its control URL with --control-url or %s)", ue.url, ue.reason(), EnvURL)
	case errors.As(err, &re) && re.StatusCode == http.StatusUnauthorized:
		return fmt.Sprintf("the server at %s requires a token: pass it with --control-token or %s", re.URL, EnvToken)
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("the server at %s refused the token: check --control-token or %s", re.URL, EnvToken)
	case errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusNotImplemented):
		return fmt.Sprintf("%s refused %s: %s", re.URL, command, re.Message)
	}
	return err.Error()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// printAnswer writes the answer to a command: raw with --json (and always
// for goroutines and metrics, which are text), else readable. now dates
// the check-ins of cluster stats.
func printAnswer(w io.Writer, url string, opts ctlOptions, body []byte, now time.Time) error {
	switch {
	case opts.command == "goroutines", opts.command == "thread-backtraces", opts.command == "metrics", opts.json:
		if _, err := w.Write(body); err != nil {
			return err
		}
		if len(body) > 0 && body[len(body)-1] != '\n' {
			_, err := io.WriteString(w, "\n")
			return err
		}
		return nil
	}
	switch opts.command {
	case "stats":
		doc, err := decodeStats(body, url)
		if err != nil {
			return err
		}
		if cs, ok := doc.(ClusterStats); ok {
			return printClusterStats(w, cs, now)
		}
		return printStats(w, doc.(Stats))
	case "gc":
		var r GCResult
		if err := decodeJSON(body, &r, url, opts.command); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "%s: heap %s -> %s, %d -> %d objects, took %s\n", r.Message,
			formatBytes(r.HeapAllocBefore), formatBytes(r.HeapAllocAfter),
			r.HeapObjectsBefore, r.HeapObjectsAfter, formatMS(r.DurationMS))
		return err
	case "gc-stats":
		var m map[string]any
		if err := decodeJSON(body, &m, url, opts.command); err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%v\n", k, m[k])
		}
		return tw.Flush()
	default: // stop, halt and the cluster commands
		var m messageBody
		if err := decodeJSON(body, &m, url, opts.command); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "%s: %s\n", url, m.Message)
		return err
	}
}

// printStats writes s as a two-column table: Puma's fields, then
// Hatago's.
func printStats(w io.Writer, s Stats) error {
	rows := [][2]string{
		{"started_at", formatStarted(s.StartedAt)},
		{"backlog", strconv.Itoa(s.Backlog)},
		{"running", strconv.Itoa(s.Running)},
		{"pool_capacity", strconv.Itoa(s.PoolCapacity)},
		{"busy_threads", strconv.Itoa(s.BusyThreads)},
		{"max_threads", strconv.Itoa(s.MaxThreads)},
		{"requests_count", strconv.FormatUint(s.RequestsCount, 10)},
		{"backlog_max", strconv.Itoa(s.BacklogMax)},
		{"min_threads", strconv.Itoa(s.MinThreads)},
		{"backlog_limit", strconv.Itoa(s.BacklogLimit)},
		{"rejected_count", strconv.FormatUint(s.Rejected, 10)},
		{"timed_out_count", strconv.FormatUint(s.TimedOut, 10)},
		{"panic_count", strconv.FormatUint(s.Panics, 10)},
		{"slots_started", strconv.FormatUint(s.SlotsStarted, 10)},
		{"slots_trimmed", strconv.FormatUint(s.SlotsTrimmed, 10)},
		{"queue_time", formatPercentiles(s.QueueTime)},
		{"latency", formatPercentiles(s.Latency)},
		{"goroutines", strconv.Itoa(s.Goroutines)},
		{"heap_bytes", fmt.Sprintf("%d (%s)", s.HeapBytes, formatBytes(s.HeapBytes))},
		{"rss_bytes", formatRSS(s.RSSBytes)},
		{"pid", strconv.Itoa(s.PID)},
	}
	if s.Version != "" {
		rows = append(rows, [2]string{"version", s.Version})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

// printClusterStats writes the master's figures as a two-column table,
// then a table of the workers, one a row.
func printClusterStats(w io.Writer, cs ClusterStats, now time.Time) error {
	phased := cs.PhasedRestart
	if phased == "" {
		phased = "none yet"
	}
	crash := "no"
	if cs.CrashLoop {
		crash = "yes"
		if cs.CrashLoopReason != "" {
			crash += ": " + cs.CrashLoopReason
		}
	}
	live := "yes"
	if !cs.Live {
		live = "no (some workers' stats are from their last check-in)"
	}
	rows := [][2]string{
		{"pid", strconv.Itoa(cs.PID)},
		{"started_at", formatStarted(cs.StartedAt)},
	}
	if cs.Version != "" {
		rows = append(rows, [2]string{"version", cs.Version})
	}
	rows = append(rows, [][2]string{
		{"workers", strconv.Itoa(cs.Workers)},
		{"phase", strconv.Itoa(cs.Phase)},
		{"booted_workers", strconv.Itoa(cs.BootedWorkers)},
		{"old_workers", strconv.Itoa(cs.OldWorkers)},
		{"restarts_count", strconv.FormatUint(cs.Restarts, 10)},
		{"recycles_count", strconv.FormatUint(cs.Recycles, 10)},
		{"worker_timeouts_count", strconv.FormatUint(cs.Timeouts, 10)},
		{"hot_restarts_count", strconv.FormatUint(cs.HotRestarts, 10)},
		{"phased_restart", phased},
		{"crash_loop", crash},
		{"live", live},
	}...)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(cs.WorkerStatus) == 0 {
		_, err := io.WriteString(w, "\nno workers\n")
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tPID\tPHASE\tBOOTED\tCHECK-IN\tBUSY/MAX\tBACKLOG\tREQUESTS\tRSS\tSTATE")
	for _, ws := range cs.WorkerStatus {
		booted := "no"
		if ws.Booted {
			booted = "yes"
		}
		checkin := "-"
		if !ws.LastCheckin.IsZero() {
			checkin = formatAge(now.Sub(ws.LastCheckin)) + " ago"
		}
		slots, backlog, requests := "-", "-", "-"
		if ws.HasStatus() {
			st := ws.LastStatus
			slots = fmt.Sprintf("%d/%d", st.BusyThreads, st.MaxThreads)
			backlog = strconv.Itoa(st.Backlog)
			requests = strconv.FormatUint(st.RequestsCount, 10)
		}
		rss := "-"
		if n := cmp.Or(ws.RSSBytes, ws.LastStatus.RSSBytes); n > 0 {
			rss = formatBytes(n)
		}
		state := "serving"
		switch {
		case ws.Stopping != "":
			state = "stopping: " + ws.Stopping
		case !ws.Booted:
			state = "booting"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			ws.Index, ws.PID, ws.Phase, booted, checkin, slots, backlog, requests, rss, state)
	}
	return tw.Flush()
}

// formatRSS formats a resident memory size, 0 meaning unknown.
func formatRSS(n uint64) string {
	if n == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d (%s)", n, formatBytes(n))
}

func formatStarted(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// formatAge formats an age briefly: 350µs, 1.5s under a minute, else
// whole seconds as in 2m5s. A negative age, from clocks that disagree,
// is 0.
func formatAge(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Minute:
		return formatMS(float64(d) / float64(time.Millisecond))
	}
	return d.Round(time.Second).String()
}

func formatPercentiles(p Percentiles) string {
	if p.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  (%d samples)",
		formatMS(p.P50), formatMS(p.P90), formatMS(p.P99), formatMS(p.Max), p.Count)
}

// formatMS formats a duration in milliseconds briefly: 350µs, 1.2ms,
// 1.25s.
func formatMS(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return strconv.FormatFloat(ms, 'f', -1, 64)
	case ms == 0:
		return "0ms"
	case math.Abs(ms) < 1:
		return strconv.FormatFloat(math.Round(ms*1000), 'f', -1, 64) + "µs"
	case math.Abs(ms) < 1000:
		return strconv.FormatFloat(math.Round(ms*10)/10, 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(math.Round(ms/10)/100, 'f', -1, 64) + "s"
}

// formatBytes formats n in binary units: 512 B, 4.5 MiB.
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
