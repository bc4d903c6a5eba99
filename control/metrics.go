package control

import (
	"io"
	"math"
	"strconv"
	"strings"
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

// writeMetrics writes every family once, with one sample (or one set of
// summary samples) per element of docs.
func writeMetrics(b *strings.Builder, docs []labeledStats) {
	for _, f := range families {
		b.WriteString("# HELP ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(escapeHelp(f.help))
		b.WriteString("\n# TYPE ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(f.kind)
		b.WriteByte('\n')
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

func formatStartTime(s *Stats) string {
	if s.StartedAt.IsZero() {
		return "0"
	}
	return formatFloat(float64(s.StartedAt.UnixNano()) / 1e9)
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
