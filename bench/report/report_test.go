package report

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func sample() *Report {
	ms := time.Millisecond
	return &Report{
		Mode:     "quick",
		Date:     time.Date(2025, 11, 22, 16, 30, 0, 0, time.UTC),
		Servers:  []string{"hatago", "nethttp", "fiber"},
		Baseline: "hatago",
		Rows: []Row{
			{Test: "json", Label: "json", Conns: 256, Cells: map[string]Cell{
				"hatago":  {RPS: 90000, P50: 2 * ms, P99: 9 * ms, Requests: 360000},
				"nethttp": {RPS: 100000, P50: 1500 * time.Microsecond, P99: 8 * ms, Requests: 400000},
				"fiber":   {RPS: 180000, P50: 800 * time.Microsecond, P99: 3 * ms, Requests: 720000},
			}},
			{Test: "queries", Label: "queries?queries=20", Conns: 512, Cells: map[string]Cell{
				"hatago":  {RPS: 2000, P50: 200 * ms, P99: 900 * ms, Requests: 8000},
				"nethttp": {RPS: 2500, P50: 180 * ms, P99: 800 * ms, Requests: 10000, Errors: 12, ErrorText: "timeout 12"},
				"fiber":   {Failed: "server did not start"},
			}},
		},
		Machine: Machine{CPUs: 2, CPU: "AMD EPYC", Kernel: "6.1.0", Go: "go1.26.8", Postgres: "15.18", Wrk: "4.1.0", Load: "0.50 0.40 0.30"},
		Setup:   []string{"4 s per run."},
		Notes:   []string{"gin: skipped <build failed>"},
	}
}

func TestMarkdown(t *testing.T) {
	md := sample().Markdown("latest.svg")
	for _, want := range []string{
		"# TechEmpower tests: Hatago and its peers (quick run, 2025-11-22 16:30)",
		"![Requests per second, as a share of the fastest server in each test](latest.svg)",
		"| test | connections | hatago | nethttp | fiber | hatago/nethttp | hatago/fiber |",
		"| :-- | --: | --: | --: | --: | --: | --: |",
		"| `json` | 256 | 90,000 | 100,000 | 180,000 | 0.90 | 0.50 |",
		"| `queries?queries=20` | 512 | 2,000 | 2,500* | — | 0.80 | — |",
		"\\* nethttp, `queries?queries=20` at 512 connections: 12 errors in 10,000 responses (timeout 12).",
		"| `json` | 256 | 2.00 ms / 9.00 ms | 1.50 ms / 8.00 ms | 800 µs / 3.00 ms |",
		"- CPU: AMD EPYC, 2 logical CPUs",
		"- Load average when the run started: 0.50 0.40 0.30",
		"- 4 s per run.",
		"- gin: skipped <build failed>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the page lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownWithoutBaseline(t *testing.T) {
	r := sample()
	r.Servers = []string{"nethttp", "fiber"}
	md := r.Markdown("")
	if strings.Contains(md, "hatago/") || strings.Contains(md, "![") {
		t.Errorf("ratio columns or chart without a baseline or chart:\n%s", md)
	}
	if !strings.Contains(md, "| `json` | 256 | 100,000 | 180,000 |\n") {
		t.Errorf("wrong table:\n%s", md)
	}
}

func TestSVGWellFormed(t *testing.T) {
	r := sample()
	r.Notes = append(r.Notes, `a <"quoted"> & odd note`)
	r.Rows[0].Label = `json?x=<&>`
	svg := r.SVG()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var root string
	bars := 0
	texts := map[string]bool{}
	var inText bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
				if tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", tok.Name.Space)
				}
			}
			for _, a := range tok.Attr {
				if tok.Name.Local == "rect" && a.Name.Local == "class" && a.Value == "bar" {
					bars++
				}
			}
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts[string(tok)] = true
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Errorf("root element %q, want svg", root)
	}
	if bars != 5 { // three in json, two with results in queries
		t.Errorf("%d bars, want 5", bars)
	}
	for _, want := range []string{"hatago", "nethttp", "fiber", "180k", "2.50k*", "N=20", "c=512", "100%", "0%"} {
		if !texts[want] {
			t.Errorf("no text %q in the chart", want)
		}
	}
}

func TestSVGEmpty(t *testing.T) {
	r := &Report{Mode: "quick"}
	if err := xml.Unmarshal([]byte(r.SVG()), new(struct{})); err != nil {
		t.Errorf("empty chart: %v", err)
	}
}

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{Thousands(0), "0"}, {Thousands(999.6), "1,000"}, {Thousands(1234567.8), "1,234,568"},
		{Thousands(-12345), "-12,345"}, {Thousands(100), "100"}, {Thousands(123456), "123,456"},
		{Short(987), "987"}, {Short(2500), "2.50k"}, {Short(12345), "12.3k"}, {Short(123456), "123k"},
		{Short(1234567), "1.23M"}, {Short(5.5), "5.50"}, {Short(0), "0"},
		{Latency(850 * time.Microsecond), "850 µs"}, {Latency(1250 * time.Microsecond), "1.25 ms"},
		{Latency(2100 * time.Millisecond), "2.10 s"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestShortLabel(t *testing.T) {
	for _, tt := range []struct{ in, test, param string }{
		{"json", "json", ""},
		{"queries?queries=20", "queries", "N=20"},
		{"cached-queries?count=100", "cached", "N=100"},
		{"/updates?queries=5", "updates", "N=5"},
	} {
		if test, param := shortLabel(tt.in); test != tt.test || param != tt.param {
			t.Errorf("shortLabel(%q) = %q, %q, want %q, %q", tt.in, test, param, tt.test, tt.param)
		}
	}
}
