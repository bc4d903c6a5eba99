package seed

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
)

// Progress shows how far seeding has come, one task (a seeder) at a time.
// On a terminal it draws a bar with the percentage and the rate, redrawn
// at most ten times a second; elsewhere (a file, a pipe, a CI log) it
// writes plain lines, at most one a second while a task runs:
//
//	seed world: 5000/10000 rows (50%)
//	seed world: 10000 rows in 95ms (105,263 rows/s)
//	seed fortune: already seeded (12 rows)
//
// A nil *Progress is valid and shows nothing. A Progress is used by one
// goroutine at a time; its write errors are ignored.
type Progress struct {
	w        io.Writer
	bar      bool
	interval time.Duration // between lines, or redraws of the bar

	task   string
	total  int64
	done   int64
	start  time.Time
	last   time.Time // of the last line or redraw
	noted  bool      // the task wrote a note
	drawn  bool      // a bar is on the terminal's current line
	active bool      // between Start and Finish
}

// NewProgress returns a Progress that writes to w: a bar if w is a
// terminal (an *os.File for which isatty says so, and TERM is not
// "dumb"), plain lines otherwise.
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w, interval: time.Second}
	if f, ok := w.(*os.File); ok && os.Getenv("TERM") != "dumb" &&
		(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		p.bar, p.interval = true, 100*time.Millisecond
	}
	return p
}

// Start begins a task named task (Run names it "seed " and the seeder's
// name) of total rows; 0 when the total is not known yet (see SetTotal).
// It finishes the task before, if any.
func (p *Progress) Start(task string, total int64) {
	if p == nil {
		return
	}
	if p.active {
		p.Finish()
	}
	now := time.Now()
	p.task, p.total, p.done, p.start, p.last = task, max(total, 0), 0, now, now
	p.noted, p.active = false, true
}

// SetTotal sets how many rows the task will write in all.
func (p *Progress) SetTotal(total int64) {
	if p == nil {
		return
	}
	p.total = max(total, 0)
}

// Add counts n more rows written.
func (p *Progress) Add(n int64) {
	if p == nil {
		return
	}
	p.done += n
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	if p.bar {
		p.draw(now)
		return
	}
	if p.total > 0 && p.done >= p.total {
		return // Finish says it
	}
	p.last = now
	fmt.Fprintf(p.w, "%s: %s\n", p.task, p.count())
}

// Note writes a line about the task, such as why it does nothing:
// "seed world: already seeded (10000 rows)".
func (p *Progress) Note(msg string) {
	if p == nil {
		return
	}
	p.clear()
	p.noted = true
	fmt.Fprintf(p.w, "%s: %s\n", p.task, msg)
}

// Finish ends the task with a line saying how many rows it wrote, and how
// fast; after a Note and no rows it says nothing more.
func (p *Progress) Finish() {
	if p == nil || !p.active {
		return
	}
	p.active = false
	p.clear()
	if p.noted && p.done == 0 {
		return
	}
	elapsed := time.Since(p.start)
	line := fmt.Sprintf("%s: %s in %s", p.task, plural(p.done, "row"), round(elapsed))
	if r := rate(p.done, elapsed); r != "" {
		line += " (" + r + ")"
	}
	fmt.Fprintln(p.w, line)
}

// fail ends the task without the summary: its rows were rolled back.
func (p *Progress) fail() {
	if p == nil || !p.active {
		return
	}
	p.active = false
	p.clear()
}

// clear removes the bar from the terminal's line.
func (p *Progress) clear() {
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

const barWidth = 30

// draw redraws the bar: "seed world [=====>     ]  45%  4500/10000 rows  52,000 rows/s".
func (p *Progress) draw(now time.Time) {
	p.last = now
	var b strings.Builder
	b.WriteString("\r")
	b.WriteString(p.task)
	if p.total > 0 {
		frac := min(float64(p.done)/float64(p.total), 1)
		filled := int(frac * barWidth)
		b.WriteString(" [")
		b.WriteString(strings.Repeat("=", filled))
		if filled < barWidth {
			b.WriteString(">")
			b.WriteString(strings.Repeat(" ", barWidth-filled-1))
		}
		fmt.Fprintf(&b, "] %3.0f%%  ", frac*100)
	} else {
		b.WriteString(": ")
	}
	if p.total > 0 {
		fmt.Fprintf(&b, "%d/%d rows", p.done, p.total)
	} else {
		b.WriteString(p.count())
	}
	if r := rate(p.done, now.Sub(p.start)); r != "" {
		b.WriteString("  ")
		b.WriteString(r)
	}
	b.WriteString("\x1b[K")
	io.WriteString(p.w, b.String())
	p.drawn = true
}

// count is "5000/10000 rows (50%)", or "5000 rows" without a total.
func (p *Progress) count() string {
	if p.total == 0 {
		return plural(p.done, "row")
	}
	return fmt.Sprintf("%d/%d rows (%d%%)", p.done, p.total, p.done*100/p.total)
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.FormatInt(n, 10) + " " + word + "s"
}

// rate is "105,263 rows/s", or "" before there is one to tell.
func rate(n int64, d time.Duration) string {
	if n == 0 || d <= 0 {
		return ""
	}
	r := float64(n) / d.Seconds()
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64) + " rows/s"
	}
	return thousands(int64(r)) + " rows/s"
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
