package control

import (
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MetricsContentType is the Content-Type of the Prometheus text
// exposition format, version 0.0.4, that [WriteMetrics] writes.
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteMetrics writes s to w in the Prometheus text exposition format,
// version 0.0.4, with a # HELP and a # TYPE line before each family. The
// package doc lists the metric names. It returns the error of w.Write,
// and is safe for concurrent use if w is.
//
// Durations are in seconds. The summaries' quantiles describe the recent
// window of [Percentiles]; their _sum and _count cover the whole life of
// the process (TotalSeconds and TotalCount), so rate() works on them. A
// summary with no samples in the window has NaN quantiles, as the
// Prometheus client libraries write.
func WriteMetrics(w io.Writer, s Stats) error {
	var b strings.Builder
	writeMetrics(&b, []labeledStats{{stats: &s}})
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteClusterMetrics writes the stats document of a cluster's master to
// w in the format of [WriteMetrics]: first the cluster's own families
// (hatago_cluster_*), then the hatago_worker_* families with a sample for
// every worker, then each family of WriteMetrics with a sample for every
// worker that has sent a stats document (booting workers may not have
// one yet). Worker samples carry the labels worker="INDEX" and pid="PID";
// each family appears once. The package doc lists the metric names. It
// returns the error of w.Write, and is safe for concurrent use if w is.
func WriteClusterMetrics(w io.Writer, cs ClusterStats) error {
	var b strings.Builder
	writeClusterMetrics(&b, &cs, time.Now())
	_, err := io.WriteString(w, b.String())
	return err
}

// labeledStats is one stats document and the labels of its samples.
// WriteMetrics writes one; a cluster writes one per worker, and every
// family must still appear once.
type labeledStats struct {
	labels []label
	stats  *Stats
}

type label struct{ name, value string }

const (
	gauge   = "gauge"
	counter = "counter"
	summary = "summary"
)

// family is one metric family. value formats its sample for gauges and
// counters; percentiles picks the distribution of a summary.
type family struct {
	name, kind, help string
	value            func(*Stats) string
	percentiles      func(*Stats) Percentiles
	labels           func(*Stats) []label
}

var families = []family{
	{name: "hatago_start_time_seconds", kind: gauge,
		help:  "Time the server started serving, in seconds since the Unix epoch.",
		value: func(s *Stats) string { return formatStartTime(s) }},
	{name: "hatago_build_info", kind: gauge,
		help:   "Build information in labels; the value is always 1.",
		value:  func(*Stats) string { return "1" },
		labels: func(s *Stats) []label { return []label{{"version", s.Version}} }},
	{name: "hatago_backlog", kind: gauge,
		help:  "Requests waiting for a free slot.",
		value: func(s *Stats) string { return strconv.Itoa(s.Backlog) }},
	{name: "hatago_backlog_max", kind: gauge,
		help:  "Largest backlog since the previous stats read.",
		value: func(s *Stats) string { return strconv.Itoa(s.BacklogMax) }},
	{name: "hatago_backlog_limit", kind: gauge,
		help:  "Configured bound of the backlog; past it requests are answered 503.",
		value: func(s *Stats) string { return strconv.Itoa(s.BacklogLimit) }},
	{name: "hatago_pool_capacity", kind: gauge,
		help:  "Requests that could start now without waiting: idle slots plus slots not yet started.",
		value: func(s *Stats) string { return strconv.Itoa(s.PoolCapacity) }},
	{name: "hatago_slots_running", kind: gauge,
		help:  "Slots started, busy or idle.",
		value: func(s *Stats) string { return strconv.Itoa(s.Running) }},
	{name: "hatago_slots_busy", kind: gauge,
		help:  "Slots serving a request.",
		value: func(s *Stats) string { return strconv.Itoa(s.BusyThreads) }},
	{name: "hatago_slots_max", kind: gauge,
		help:  "Configured maximum number of slots.",
		value: func(s *Stats) string { return strconv.Itoa(s.MaxThreads) }},
	{name: "hatago_slots_min", kind: gauge,
		help:  "Configured minimum number of slots.",
		value: func(s *Stats) string { return strconv.Itoa(s.MinThreads) }},
	{name: "hatago_goroutines", kind: gauge,
		help:  "Goroutines in the process.",
		value: func(s *Stats) string { return strconv.Itoa(s.Goroutines) }},
	{name: "hatago_heap_bytes", kind: gauge,
		help:  "Bytes of allocated heap objects.",
		value: func(s *Stats) string { return strconv.FormatUint(s.HeapBytes, 10) }},
	{name: "hatago_rss_bytes", kind: gauge,
		help:  "Resident memory of the process, in bytes; 0 where unknown.",
		value: func(s *Stats) string { return strconv.FormatUint(s.RSSBytes, 10) }},
	{name: "hatago_requests_total", kind: counter,
		help:  "Requests served since start.",
		value: func(s *Stats) string { return strconv.FormatUint(s.RequestsCount, 10) }},
	{name: "hatago_requests_rejected_total", kind: counter,
		help:  "Requests answered 503 because the backlog was full.",
		value: func(s *Stats) string { return strconv.FormatUint(s.Rejected, 10) }},
	{name: "hatago_requests_timed_out_total", kind: counter,
		help:  "Requests that ran past the request timeout.",
		value: func(s *Stats) string { return strconv.FormatUint(s.TimedOut, 10) }},
	{name: "hatago_panics_total", kind: counter,
		help:  "Handler panics recovered by the server.",
		value: func(s *Stats) string { return strconv.FormatUint(s.Panics, 10) }},
	{name: "hatago_slots_started_total", kind: counter,
		help:  "Slots started since start.",
		value: func(s *Stats) string { return strconv.FormatUint(s.SlotsStarted, 10) }},
	{name: "hatago_slots_trimmed_total", kind: counter,
		help:  "Idle slots trimmed since start.",
		value: func(s *Stats) string { return strconv.FormatUint(s.SlotsTrimmed, 10) }},
	{name: "hatago_queue_time_seconds", kind: summary,
		help:        "Time requests waited for a free slot, over the recent window.",
		percentiles: func(s *Stats) Percentiles { return s.QueueTime }},
	{name: "hatago_latency_seconds", kind: summary,
		help:        "Time from arrival to the handler's return, queue time included, over the recent window.",
		percentiles: func(s *Stats) Percentiles { return s.Latency }},
}

// clusterFamily is one metric family of the master's own figures.
type clusterFamily struct {
	name, kind, help string
	value            func(*ClusterStats) string
}

var clusterFamilies = []clusterFamily{
	{name: "hatago_cluster_start_time_seconds", kind: gauge,
		help:  "Time the master started, in seconds since the Unix epoch; a hot restart keeps it.",
		value: func(c *ClusterStats) string { return formatTime(c.StartedAt) }},
	{name: "hatago_cluster_workers", kind: gauge,
		help:  "Workers the master keeps running.",
		value: func(c *ClusterStats) string { return strconv.Itoa(c.Workers) }},
	{name: "hatago_cluster_booted_workers", kind: gauge,
		help:  "Workers that finished booting and have not been told to stop.",
		value: func(c *ClusterStats) string { return strconv.Itoa(c.BootedWorkers) }},
	{name: "hatago_cluster_old_workers", kind: gauge,
		help:  "Running workers from an earlier phase.",
		value: func(c *ClusterStats) string { return strconv.Itoa(c.OldWorkers) }},
	{name: "hatago_cluster_phase", kind: gauge,
		help:  "Phased restarts begun since the master started.",
		value: func(c *ClusterStats) string { return strconv.Itoa(c.Phase) }},
	{name: "hatago_cluster_worker_restarts_total", kind: counter,
		help:  "Workers started again after one died unasked.",
		value: func(c *ClusterStats) string { return strconv.FormatUint(c.Restarts, 10) }},
	{name: "hatago_cluster_worker_recycles_total", kind: counter,
		help:  "Workers replaced for reaching their request or memory limit.",
		value: func(c *ClusterStats) string { return strconv.FormatUint(c.Recycles, 10) }},
	{name: "hatago_cluster_worker_timeouts_total", kind: counter,
		help:  "Workers killed for missing their boot or check-in timeout.",
		value: func(c *ClusterStats) string { return strconv.FormatUint(c.Timeouts, 10) }},
	{name: "hatago_cluster_hot_restarts_total", kind: counter,
		help:  "Hot restarts of the master process.",
		value: func(c *ClusterStats) string { return strconv.FormatUint(c.HotRestarts, 10) }},
	{name: "hatago_cluster_crash_loop", kind: gauge,
		help:  "1 while workers keep dying soon after they start and respawns are slowed, else 0.",
		value: func(c *ClusterStats) string { return formatBool(c.CrashLoop) }},
	{name: "hatago_cluster_stats_live", kind: gauge,
		help:  "1 if every booted worker answered with fresh stats, 0 if some samples come from their last check-in.",
		value: func(c *ClusterStats) string { return formatBool(c.Live) }},
}

// workerFamily is one metric family of the master's view of a worker.
// value returns false when the worker has no sample.
type workerFamily struct {
	name, kind, help string
	value            func(w *WorkerStatus, now time.Time) (string, bool)
}

var workerFamilies = []workerFamily{
	{name: "hatago_worker_booted", kind: gauge,
		help: "1 once the worker reported it serves, else 0.",
		value: func(w *WorkerStatus, _ time.Time) (string, bool) {
			return formatBool(w.Booted), true
		}},
	{name: "hatago_worker_stopping", kind: gauge,
		help: "1 once the master told the worker to stop, else 0.",
		value: func(w *WorkerStatus, _ time.Time) (string, bool) {
			return formatBool(w.Stopping != ""), true
		}},
	{name: "hatago_worker_phase", kind: gauge,
		help: "Phase the worker was started in.",
		value: func(w *WorkerStatus, _ time.Time) (string, bool) {
			return strconv.Itoa(w.Phase), true
		}},
	{name: "hatago_worker_start_time_seconds", kind: gauge,
		help: "Time the master started the worker, in seconds since the Unix epoch.",
		value: func(w *WorkerStatus, _ time.Time) (string, bool) {
			return formatTime(w.Started), true
		}},
	{name: "hatago_worker_last_checkin_age_seconds", kind: gauge,
		help: "Seconds since the worker last reported; absent before its first report.",
		value: func(w *WorkerStatus, now time.Time) (string, bool) {
			if w.LastCheckin.IsZero() {
				return "", false
			}
			return formatFloat(max(now.Sub(w.LastCheckin).Seconds(), 0)), true
		}},
}

// writeClusterMetrics writes the cluster families, the worker families
// and the per-process families, each once; now dates the check-in ages.
func writeClusterMetrics(b *strings.Builder, cs *ClusterStats, now time.Time) {
	for _, f := range clusterFamilies {
		writeHeader(b, f.name, f.kind, f.help)
		writeSample(b, f.name, nil, f.value(cs))
	}
	labels := make([][]label, len(cs.WorkerStatus))
	for i := range cs.WorkerStatus {
		w := &cs.WorkerStatus[i]
		labels[i] = []label{{"worker", strconv.Itoa(w.Index)}, {"pid", strconv.Itoa(w.PID)}}
	}
	for _, f := range workerFamilies {
		writeHeader(b, f.name, f.kind, f.help)
		for i := range cs.WorkerStatus {
			if v, ok := f.value(&cs.WorkerStatus[i], now); ok {
				writeSample(b, f.name, labels[i], v)
			}
		}
	}
	docs := make([]labeledStats, 0, len(cs.WorkerStatus))
	for i := range cs.WorkerStatus {
		if w := &cs.WorkerStatus[i]; w.HasStatus() {
			docs = append(docs, labeledStats{labels: labels[i], stats: &w.LastStatus})
		}
	}
	writeMetrics(b, docs)
}

// writeMetrics writes every family once, with one sample (or one set of
// summary samples) per element of docs.
func writeMetrics(b *strings.Builder, docs []labeledStats) {
	for _, f := range families {
		writeHeader(b, f.name, f.kind, f.help)
		for _, d := range docs {
			labels := d.labels
			if f.labels != nil {
				labels = append(labels[:len(labels):len(labels)], f.labels(d.stats)...)
			}
			if f.kind != summary {
				writeSample(b, f.name, labels, f.value(d.stats))
				continue
			}
			p := f.percentiles(d.stats)
			for _, q := range [...]struct {
				q  string
				ms float64
			}{{"0.5", p.P50}, {"0.9", p.P90}, {"0.99", p.P99}, {"1", p.Max}} {
				v := math.NaN()
				if p.Count > 0 {
					v = q.ms / 1000
				}
				ql := append(labels[:len(labels):len(labels)], label{"quantile", q.q})
				writeSample(b, f.name, ql, formatFloat(v))
			}
			writeSample(b, f.name+"_sum", labels, formatFloat(p.TotalSeconds))
			writeSample(b, f.name+"_count", labels, strconv.FormatUint(p.TotalCount, 10))
		}
	}
}

// writeHeader writes the # HELP and # TYPE lines of a family.
func writeHeader(b *strings.Builder, name, kind, help string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(escapeHelp(help))
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(kind)
	b.WriteByte('\n')
}

func writeSample(b *strings.Builder, name string, labels []label, value string) {
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.name)
			b.WriteString(`="`)
			b.WriteString(escapeLabelValue(l.value))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(value)
	b.WriteByte('\n')
}

func formatStartTime(s *Stats) string { return formatTime(s.StartedAt) }

// formatTime formats t in seconds since the Unix epoch, or 0 for the
// zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return formatFloat(float64(t.UnixNano()) / 1e9)
}

// formatBool formats b as a 0 or 1 gauge value.
func formatBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// formatFloat formats v as the exposition format wants, NaN and
// infinities included.
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

func escapeLabelValue(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return labelEscaper.Replace(s)
}
