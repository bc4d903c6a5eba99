// Package report turns a benchmark run's results into a Markdown page (a
// table of requests per second with Hatago-to-peer ratios, a table of
// latencies, the machine and the setup) and an SVG bar chart. It does no
// I/O and has no dependencies beyond the standard library.
package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Report is one run of the benchmark.
type Report struct {
	Mode     string    // "quick" or "full"
	Date     time.Time // when the run started
	Servers  []string  // the columns, in order
	Baseline string    // the server the ratio columns compare with each other server; "" for none
	Rows     []Row     // in the order they ran
	Machine  Machine
	Setup    []string // how the load was made, one sentence each
	Notes    []string // anything else the reader must know: skipped servers, failed checks
}

// Row is one test at one concurrency.
type Row struct {
	Test  string          // the test name, such as "queries"
	Label string          // the request, such as "queries?queries=20"
	Conns int             // wrk's connections
	Cells map[string]Cell // by server name; a missing server has no result
}

// Cell is one server's result in one row.
type Cell struct {
	RPS float64 // good responses per second

	P50, P99  time.Duration
	Requests  int64
	Errors    int64  // responses wrk counted as errors
	ErrorText string // their kinds, such as "status 3, timeout 2"
	Failed    string // why there is no result, if there is none
}

// ok reports whether the cell holds a measurement.
func (c Cell) ok() bool { return c.Failed == "" && c.Requests > 0 }

// Machine describes where the run happened.
type Machine struct {
	CPUs     int    // logical CPUs (nproc)
	CPU      string // model name from /proc/cpuinfo
	Kernel   string
	Go       string
	Postgres string
	Wrk      string
	Load     string // the load average when the run started
}

// Title is the page's heading.
func (r *Report) Title() string {
	return fmt.Sprintf("TechEmpower tests: Hatago and its peers (%s run, %s)", r.Mode, r.Date.Format("2006-01-02 15:04"))
}

// Markdown renders the report as a Markdown page; chart, if not empty, is
// the path of the SVG chart to show at the top.
func (r *Report) Markdown(chart string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title())
	if chart != "" {
		fmt.Fprintf(&b, "![Requests per second, as a share of the fastest server in each test](%s)\n\n", chart)
	}
	peers := r.peers()

	b.WriteString("## Requests per second\n\n")
	b.WriteString("Good (2xx) responses per second; a cell marked * had errors, listed below the table.\n\n")
	header := []string{"test", "connections"}
	header = append(header, r.Servers...)
	for _, p := range peers {
		header = append(header, r.Baseline+"/"+p)
	}
	align := []string{":--", "--:"}
	for range len(header) - 2 {
		align = append(align, "--:")
	}
	writeRow(&b, header)
	writeRow(&b, align)
	var errNotes []string
	for _, row := range r.Rows {
		cols := []string{"`" + row.Label + "`", strconv.Itoa(row.Conns)}
		for _, s := range r.Servers {
			c, has := row.Cells[s]
			switch {
			case !has || !c.ok():
				cols = append(cols, "—")
			case c.Errors > 0:
				cols = append(cols, Thousands(c.RPS)+"*")
				errNotes = append(errNotes, fmt.Sprintf("\\* %s, `%s` at %d connections: %s errors in %s responses (%s).",
					s, row.Label, row.Conns, Thousands(float64(c.Errors)), Thousands(float64(c.Requests)), c.ErrorText))
			default:
				cols = append(cols, Thousands(c.RPS))
			}
		}
		base, hasBase := row.Cells[r.Baseline]
		for _, p := range peers {
			c, has := row.Cells[p]
			if !hasBase || !base.ok() || !has || !c.ok() || c.RPS == 0 {
				cols = append(cols, "—")
				continue
			}
			cols = append(cols, strconv.FormatFloat(base.RPS/c.RPS, 'f', 2, 64))
		}
		writeRow(&b, cols)
	}
	b.WriteString("\n")
	for _, n := range errNotes {
		b.WriteString(n + "\n")
	}
	if len(errNotes) > 0 {
		b.WriteString("\n")
	}

	b.WriteString("## Latency, p50 / p99\n\n")
	writeRow(&b, append([]string{"test", "connections"}, r.Servers...))
	writeRow(&b, align[:2+len(r.Servers)])
	for _, row := range r.Rows {
		cols := []string{"`" + row.Label + "`", strconv.Itoa(row.Conns)}
		for _, s := range r.Servers {
			if c, has := row.Cells[s]; has && c.ok() {
				cols = append(cols, Latency(c.P50)+" / "+Latency(c.P99))
			} else {
				cols = append(cols, "—")
			}
		}
		writeRow(&b, cols)
	}
	b.WriteString("\n")

	b.WriteString("## Reproduce\n\n")
	b.WriteString("From the repository's root, with wrk and PostgreSQL (`eval \"$(scripts/postgres)\"` starts it):\n\n")
	flag := " -quick"
	if r.Mode == "full" {
		flag = ""
	}
	fmt.Fprintf(&b, "```sh\nbench/run%s\n```\n\n", flag)
	b.WriteString("## Machine and setup\n\n")
	m := r.Machine
	fmt.Fprintf(&b, "- CPU: %s, %d logical CPUs\n", orUnknown(m.CPU), m.CPUs)
	fmt.Fprintf(&b, "- Kernel: %s\n", orUnknown(m.Kernel))
	fmt.Fprintf(&b, "- Go: %s\n", orUnknown(m.Go))
	fmt.Fprintf(&b, "- PostgreSQL: %s\n", orUnknown(m.Postgres))
	fmt.Fprintf(&b, "- wrk: %s\n", orUnknown(m.Wrk))
	if m.Load != "" {
		fmt.Fprintf(&b, "- Load average when the run started: %s\n", m.Load)
	}
	for _, s := range r.Setup {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// peers returns the servers the ratio columns divide the baseline by.
func (r *Report) peers() []string {
	has := false
	var peers []string
	for _, s := range r.Servers {
		if s == r.Baseline {
			has = true
		} else {
			peers = append(peers, s)
		}
	}
	if r.Baseline == "" || !has {
		return nil
	}
	return peers
}

func writeRow(b *strings.Builder, cols []string) {
	b.WriteString("| ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(strings.ReplaceAll(c, "|", `\|`))
	}
	b.WriteString(" |\n")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Thousands formats v rounded to an integer with commas between groups of
// three digits: 1234567.8 is "1,234,568".
func Thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Short formats v with three significant digits and a k or M suffix:
// 123456 is "123k", 1234567 is "1.23M", 987 is "987".
func Short(v float64) string {
	switch {
	case v >= 1e6:
		return trim3(v/1e6) + "M"
	case v >= 1e3:
		return trim3(v/1e3) + "k"
	}
	return trim3(v)
}

func trim3(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 99.95:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Latency formats d for the tables: "850 µs", "1.25 ms", "2.10 s".
func Latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
