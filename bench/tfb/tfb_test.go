package tfb

import (
	"bytes"
	"errors"
	"html/template"
	"strconv"
	"strings"
	"testing"
)

func TestQueries(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 1}, {"2", 2}, {"0", 1}, {"foo", 1}, {"501", 500}, {"500", 500},
		{"1", 1}, {"20", 20}, {"-3", 1}, {"+7", 7}, {"-", 1}, {"+", 1},
		{"12x", 1}, {" 5", 1}, {"5 ", 1}, {"0007", 7}, {"99999999999999999999999", 500},
		{"1e3", 1}, {"٣", 1},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			if got := Queries(tt.in); got != tt.want {
				t.Errorf("Queries(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if got := Queries([]byte(tt.in)); got != tt.want {
				t.Errorf("Queries([]byte(%q)) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// queriesRef is the rule as most entries write it, with strconv.
func queriesRef(s string) int {
	n, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) {
		// Atoi stops at the overflow; an integer too large is above 500,
		// anything else is not an integer.
		digits := strings.TrimPrefix(s, "+")
		if strings.Trim(digits, "0123456789") == "" {
			return MaxQueries
		}
		return 1
	}
	switch {
	case err != nil || n < 1:
		return 1
	case n > MaxQueries:
		return MaxQueries
	}
	return n
}

func FuzzQueries(f *testing.F) {
	for _, s := range []string{"", "2", "0", "foo", "501", "-1", "+3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Queries(s), queriesRef(s); got != want {
			t.Errorf("Queries(%q) = %d, want %d", s, got, want)
		}
	})
}

func TestQueriesAllocs(t *testing.T) {
	b := []byte("20")
	if n := testing.AllocsPerRun(100, func() { Queries(b) }); n != 0 {
		t.Errorf("Queries allocates %v times, want 0", n)
	}
}

func TestRandomID(t *testing.T) {
	for range 100000 {
		if id := RandomID(); id < 1 || id > WorldRows {
			t.Fatalf("RandomID() = %d, want 1..%d", id, WorldRows)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{`<a href="x">'&'</a>`, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"},
		{"フレーム<", "フレーム&lt;"},
	}
	for _, tt := range tests {
		if got := string(AppendEscaped([]byte("pre:"), tt.in)); got != "pre:"+tt.want {
			t.Errorf("AppendEscaped(%q) = %q, want %q", tt.in, got, "pre:"+tt.want)
		}
	}
}

// wantPage is the expected fortunes page of TECHEMPOWER.md, without the
// whitespace between tags.
const wantPage = `<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>` +
	`<tr><th>id</th><th>message</th></tr>` +
	`<tr><td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed in a browser alert box.&quot;);&lt;/script&gt;</td></tr>` +
	`<tr><td>4</td><td>A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1</td></tr>` +
	`<tr><td>5</td><td>A computer program does what you tell it to do, not what you want it to do.</td></tr>` +
	`<tr><td>2</td><td>A computer scientist is someone who fixes things that aren&#39;t broken.</td></tr>` +
	`<tr><td>8</td><td>A list is only as strong as its weakest link. — Donald Knuth</td></tr>` +
	`<tr><td>0</td><td>Additional fortune added at request time.</td></tr>` +
	`<tr><td>3</td><td>After enough decimal places, nobody gives a damn.</td></tr>` +
	`<tr><td>7</td><td>Any program that runs right is obsolete.</td></tr>` +
	`<tr><td>10</td><td>Computers make very fast, very accurate mistakes.</td></tr>` +
	`<tr><td>6</td><td>Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen</td></tr>` +
	`<tr><td>9</td><td>Feature: A bug with seniority.</td></tr>` +
	`<tr><td>1</td><td>fortune: No such file or directory</td></tr>` +
	`<tr><td>12</td><td>フレームワークのベンチマーク</td></tr>` +
	`</table></body></html>`

func TestAppendFortunesPage(t *testing.T) {
	fortunes := AddAndSort(append([]Fortune(nil), Fortunes...))
	if got := string(AppendFortunesPage(nil, fortunes)); got != wantPage {
		t.Errorf("page:\n%s\nwant:\n%s", got, wantPage)
	}
}

func TestFortunesTemplate(t *testing.T) {
	tmpl := template.Must(template.New("fortunes").Parse(FortunesTemplate))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, AddAndSort(append([]Fortune(nil), Fortunes...))); err != nil {
		t.Fatal(err)
	}
	// html/template picks other, equivalent entities.
	got := strings.NewReplacer("&#34;", "&quot;", "&#43;", "+").Replace(buf.String())
	if got != wantPage {
		t.Errorf("page:\n%s\nwant:\n%s", got, wantPage)
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@127.0.0.1:5432/hatago_test?sslmode=disable", "postgres://u:p@127.0.0.1:5432/hatago_bench?sslmode=disable"},
		{"postgresql://localhost", "postgresql://localhost/hatago_bench"},
	}
	for _, tt := range tests {
		got, err := WithDatabase(tt.in, "hatago_bench")
		if err != nil || got != tt.want {
			t.Errorf("WithDatabase(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := WithDatabase("host=localhost dbname=x", "y"); err == nil {
		t.Error("WithDatabase of a keyword/value string: no error")
	}
}

func BenchmarkAppendFortunesPage(b *testing.B) {
	fortunes := AddAndSort(append([]Fortune(nil), Fortunes...))
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFortunesPage(buf[:0], fortunes)
	}
}
