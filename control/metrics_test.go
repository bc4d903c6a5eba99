package control_test

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hatago/hatago/control"
)

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// checkExposition checks text line by line against the Prometheus text
// exposition format 0.0.4 and returns its samples, keyed by the name and
// labels as written. Beyond the syntax it checks that every sample
// follows a # TYPE line for its family, that the samples of a family are
// contiguous, that counters end in _total and that summary quantiles are
// numbers in [0, 1].
func checkExposition(text string) (map[string]string, error) {
	if !utf8.ValidString(text) {
		return nil, errors.New("not UTF-8")
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, errors.New("last line does not end in a newline")
	}
	samples := map[string]string{}
	types := map[string]string{}
	helps := map[string]bool{}
	done := map[string]bool{} // families whose samples are over
	current := ""             // family of the latest TYPE line
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# HELP "):
			name, doc, _ := strings.Cut(strings.TrimPrefix(line, "# HELP "), " ")
			if !metricNameRE.MatchString(name) {
				return nil, fmt.Errorf("line %d: bad metric name %q", n, name)
			}
			if helps[name] {
				return nil, fmt.Errorf("line %d: second HELP for %s", n, name)
			}
			if err := checkEscapes(doc, `\n`); err != nil {
				return nil, fmt.Errorf("line %d: HELP: %w", n, err)
			}
			helps[name] = true
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(strings.TrimPrefix(line, "# TYPE "))
			if len(f) != 2 {
				return nil, fmt.Errorf("line %d: want # TYPE NAME TYPE", n)
			}
			name, typ := f[0], f[1]
			if !metricNameRE.MatchString(name) {
				return nil, fmt.Errorf("line %d: bad metric name %q", n, name)
			}
			switch typ {
			case "counter", "gauge", "summary", "histogram", "untyped":
			default:
				return nil, fmt.Errorf("line %d: unknown type %q", n, typ)
			}
			if _, ok := types[name]; ok {
				return nil, fmt.Errorf("line %d: second TYPE for %s", n, name)
			}
			if current != "" {
				done[current] = true
			}
			types[name], current = typ, name
		case strings.HasPrefix(line, "#"):
			continue // a comment
		default:
			name, labels, value, err := parseSample(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			fam := familyOf(name, types)
			if fam == "" {
				return nil, fmt.Errorf("line %d: sample %s has no TYPE before it", n, name)
			}
			if fam != current || done[fam] {
				return nil, fmt.Errorf("line %d: sample %s is apart from the rest of family %s", n, name, fam)
			}
			switch types[fam] {
			case "counter":
				if !strings.HasSuffix(name, "_total") {
					return nil, fmt.Errorf("line %d: counter %s does not end in _total", n, name)
				}
			case "summary":
				if name == fam {
					q, ok := labels["quantile"]
					if !ok {
						return nil, fmt.Errorf("line %d: summary sample without quantile", n)
					}
					if v, err := strconv.ParseFloat(q, 64); err != nil || v < 0 || v > 1 {
						return nil, fmt.Errorf("line %d: bad quantile %q", n, q)
					}
				}
			}
			key := line[:strings.LastIndexByte(line, ' ')]
			if _, dup := samples[key]; dup {
				return nil, fmt.Errorf("line %d: duplicate sample %s", n, key)
			}
			samples[key] = value
		}
	}
	return samples, nil
}

// familyOf returns the family a sample name belongs to, or "".
func familyOf(name string, types map[string]string) string {
	if _, ok := types[name]; ok {
		return name
	}
	for _, suffix := range []string{"_sum", "_count", "_bucket"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch types[base] {
		case "summary":
			if suffix != "_bucket" {
				return base
			}
		case "histogram":
			return base
		}
	}
	return ""
}

// parseSample parses `name{l="v",...} value [timestamp]`.
func parseSample(line string) (name string, labels map[string]string, value string, err error) {
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return "", nil, "", fmt.Errorf("no value in %q", line)
	}
	name, rest := line[:end], line[end:]
	if !metricNameRE.MatchString(name) {
		return "", nil, "", fmt.Errorf("bad metric name %q", name)
	}
	labels = map[string]string{}
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.IndexByte(rest, '=')
			if eq < 0 {
				return "", nil, "", fmt.Errorf("label without '=' in %q", line)
			}
			lname := rest[:eq]
			if !labelNameRE.MatchString(lname) || strings.HasPrefix(lname, "__") {
				return "", nil, "", fmt.Errorf("bad label name %q", lname)
			}
			if _, dup := labels[lname]; dup {
				return "", nil, "", fmt.Errorf("label %s twice", lname)
			}
			rest = rest[eq+1:]
			if !strings.HasPrefix(rest, `"`) {
				return "", nil, "", fmt.Errorf("label %s: value not quoted", lname)
			}
			val, after, err := readQuoted(rest[1:])
			if err != nil {
				return "", nil, "", fmt.Errorf("label %s: %w", lname, err)
			}
			labels[lname] = val
			rest = after
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return "", nil, "", fmt.Errorf("want ',' or '}' after label %s", lname)
			}
		}
		rest = rest[1:]
	}
	f := strings.Split(rest, " ")
	if len(f) < 2 || len(f) > 3 || f[0] != "" {
		return "", nil, "", fmt.Errorf("want one space, a value and an optional timestamp in %q", line)
	}
	value = f[1]
	if _, err := strconv.ParseFloat(value, 64); err != nil {
		return "", nil, "", fmt.Errorf("bad value %q", value)
	}
	if strings.ContainsAny(value, "_xXpP") || strings.EqualFold(strings.TrimLeft(value, "+-"), "infinity") {
		return "", nil, "", fmt.Errorf("value %q is not in the format's float syntax", value)
	}
	if len(f) == 3 {
		if _, err := strconv.ParseInt(f[2], 10, 64); err != nil {
			return "", nil, "", fmt.Errorf("bad timestamp %q", f[2])
		}
	}
	return name, labels, value, nil
}

// readQuoted reads an escaped label value up to its closing quote.
func readQuoted(s string) (val, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("unfinished escape")
			}
			i++
			switch s[i] {
			case '\\':
				b.WriteByte('\\')
			case '"':
				b.WriteByte('"')
			case 'n':
				b.WriteByte('\n')
			default:
				return "", "", fmt.Errorf(`bad escape \%c`, s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("no closing quote")
}

// checkEscapes checks that every backslash in s starts one of the
// escapes allowed (besides \\).
func checkEscapes(s string, allowed ...string) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 == len(s) {
			return errors.New("unfinished escape")
		}
		esc := s[i : i+2]
		ok := esc == `\\`
		for _, a := range allowed {
			ok = ok || esc == a
		}
		if !ok {
			return fmt.Errorf("bad escape %s", esc)
		}
		i++
	}
	return nil
}

func TestCheckExpositionRejects(t *testing.T) {
	tests := []struct{ name, text string }{
		{"sample before TYPE", "a 1\n# TYPE a gauge\n"},
		{"no TYPE", "# HELP a x\na 1\n"},
		{"second TYPE", "# TYPE a gauge\na 1\n# TYPE a gauge\n"},
		{"interleaved family", "# TYPE a gauge\n# TYPE b gauge\na 1\n"},
		{"family resumed", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"},
		{"bad name", "# TYPE 1a gauge\n1a 1\n"},
		{"bad value", "# TYPE a gauge\na one\n"},
		{"hex value", "# TYPE a gauge\na 0x10\n"},
		{"unquoted label", "# TYPE a gauge\na{x=1} 1\n"},
		{"bad label escape", "# TYPE a gauge\na{x=\"\\t\"} 1\n"},
		{"unescaped quote", "# TYPE a gauge\na{x=\"a\"b\"} 1\n"},
		{"counter without _total", "# TYPE a counter\na 1\n"},
		{"summary without quantile", "# TYPE s summary\ns 1\n"},
		{"no final newline", "# TYPE a gauge\na 1"},
		{"two spaces", "# TYPE a gauge\na  1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := checkExposition(tt.text); err == nil {
				t.Errorf("checkExposition accepted %q", tt.text)
			}
		})
	}
}

func TestWriteMetrics(t *testing.T) {
	var b strings.Builder
	if err := control.WriteMetrics(&b, fixedStats); err != nil {
		t.Fatal(err)
	}
	samples, err := checkExposition(b.String())
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, b.String())
	}
	want := map[string]string{
		"hatago_start_time_seconds":                  "1.735787045e+09",
		`hatago_build_info{version="v0.1.0-test"}`:   "1",
		"hatago_backlog":                             "3",
		"hatago_backlog_max":                         "7",
		"hatago_backlog_limit":                       "1024",
		"hatago_pool_capacity":                       "10",
		"hatago_slots_running":                       "8",
		"hatago_slots_busy":                          "6",
		"hatago_slots_max":                           "16",
		"hatago_slots_min":                           "2",
		"hatago_goroutines":                          "42",
		"hatago_heap_bytes":                          "4718592",
		"hatago_rss_bytes":                           "31457280",
		"hatago_requests_total":                      "12345",
		"hatago_requests_rejected_total":             "4",
		"hatago_requests_timed_out_total":            "5",
		"hatago_panics_total":                        "1",
		"hatago_slots_started_total":                 "20",
		"hatago_slots_trimmed_total":                 "12",
		`hatago_queue_time_seconds{quantile="0.5"}`:  "0.0012",
		`hatago_queue_time_seconds{quantile="0.9"}`:  "0.0034",
		`hatago_queue_time_seconds{quantile="0.99"}`: "0.0099",
		`hatago_queue_time_seconds{quantile="1"}`:    "0.0125",
		"hatago_queue_time_seconds_sum":              "6.5",
		"hatago_queue_time_seconds_count":            "12345",
		`hatago_latency_seconds{quantile="0.5"}`:     "0.015",
		`hatago_latency_seconds{quantile="0.9"}`:     "0.04",
		`hatago_latency_seconds{quantile="0.99"}`:    "0.099",
		`hatago_latency_seconds{quantile="1"}`:       "1.25",
		"hatago_latency_seconds_sum":                 "250",
		"hatago_latency_seconds_count":               "12345",
	}
	for key, v := range want {
		if got, ok := samples[key]; !ok || got != v {
			t.Errorf("%s: got %q (present %v), want %q", key, got, ok, v)
		}
	}
	if len(samples) != len(want) {
		t.Errorf("got %d samples, want %d:\n%s", len(samples), len(want), b.String())
	}
	for _, typ := range []string{
		"# TYPE hatago_backlog gauge\n",
		"# TYPE hatago_requests_total counter\n",
		"# TYPE hatago_latency_seconds summary\n",
		"# HELP hatago_backlog Requests waiting for a free slot.\n",
	} {
		if !strings.Contains(b.String(), typ) {
			t.Errorf("output lacks %q", typ)
		}
	}
}

func TestWriteMetricsEdgeCases(t *testing.T) {
	tests := []struct {
		name  string
		stats control.Stats
		want  map[string]string
	}{
		{"zero stats", control.Stats{}, map[string]string{
			"hatago_start_time_seconds":                 "0",
			`hatago_build_info{version=""}`:             "1",
			`hatago_queue_time_seconds{quantile="0.5"}`: "NaN",
			`hatago_latency_seconds{quantile="1"}`:      "NaN",
			"hatago_latency_seconds_count":              "0",
		}},
		{"escaped version", control.Stats{Version: "a\"b\\c\nd"}, map[string]string{
			`hatago_build_info{version="a\"b\\c\nd"}`: "1",
		}},
		{"invalid UTF-8 version", control.Stats{Version: "v\xff1"}, map[string]string{
			`hatago_build_info{version="v` + "\uFFFD" + `1"}`: "1",
		}},
		{"large counter keeps its digits", control.Stats{RequestsCount: math.MaxUint64}, map[string]string{
			"hatago_requests_total": "18446744073709551615",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := control.WriteMetrics(&b, tt.stats); err != nil {
				t.Fatal(err)
			}
			samples, err := checkExposition(b.String())
			if err != nil {
				t.Fatalf("invalid exposition: %v\n%s", err, b.String())
			}
			for key, v := range tt.want {
				if got, ok := samples[key]; !ok || got != v {
					t.Errorf("%s: got %q (present %v), want %q", key, got, ok, v)
				}
			}
		})
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteMetricsWriteError(t *testing.T) {
	if err := control.WriteMetrics(failingWriter{}, fixedStats); !errors.Is(err, errWrite) {
		t.Errorf("got %v, want the writer's error", err)
	}
}

func FuzzWriteMetrics(f *testing.F) {
	f.Add("v1.0.0", 1.5, uint64(3), 4, int64(1735787045))
	f.Add("a\"b\\c\n", math.Inf(1), uint64(0), -1, int64(0))
	f.Add("\xff", math.NaN(), uint64(math.MaxUint64), math.MaxInt, int64(-1))
	f.Fuzz(func(t *testing.T, version string, ms float64, count uint64, n int, unix int64) {
		s := fixedStats
		s.Version = version
		s.QueueTime = control.Percentiles{Count: count, P50: ms, P90: ms, P99: ms, Max: ms}
		s.Backlog = n
		s.StartedAt = time.Unix(unix, 0)
		var b strings.Builder
		if err := control.WriteMetrics(&b, s); err != nil {
			t.Fatal(err)
		}
		if _, err := checkExposition(b.String()); err != nil {
			t.Fatalf("invalid exposition: %v\n%s", err, b.String())
		}
	})
}
