package seed

import (
	"io"
	"time"
)

// NewBarProgress returns a Progress that draws its bar on w as it would on
// a terminal.
func NewBarProgress(w io.Writer) *Progress {
	return &Progress{w: w, bar: true, interval: 100 * time.Millisecond}
}
