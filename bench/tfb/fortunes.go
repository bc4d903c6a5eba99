package tfb

import (
	"slices"
	"strconv"
	"strings"
)

// Fortunes are the twelve rows of the fortune table, as TechEmpower's setup
// inserts them.
var Fortunes = []Fortune{
	{1, "fortune: No such file or directory"},
	{2, "A computer scientist is someone who fixes things that aren't broken."},
	{3, "After enough decimal places, nobody gives a damn."},
	{4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"},
	{5, "A computer program does what you tell it to do, not what you want it to do."},
	{6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"},
	{7, "Any program that runs right is obsolete."},
	{8, "A list is only as strong as its weakest link. — Donald Knuth"},
	{9, "Feature: A bug with seniority."},
	{10, "Computers make very fast, very accurate mistakes."},
	{11, `<script>alert("This should not be displayed in a browser alert box.");</script>`},
	{12, "フレームワークのベンチマーク"},
}

// AddAndSort appends the fortune added at request time to fortunes and
// sorts them by message in byte order, as the fortunes test asks.
func AddAndSort(fortunes []Fortune) []Fortune {
	fortunes = append(fortunes, Fortune{0, AdditionalFortune})
	slices.SortFunc(fortunes, func(a, b Fortune) int { return strings.Compare(a.Message, b.Message) })
	return fortunes
}

// FortunesTemplate is the fortunes page as an html/template, for the peers
// whose idiom is a template engine; its data is a []Fortune.
const FortunesTemplate = `<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>` +
	`<tr><th>id</th><th>message</th></tr>` +
	`{{range .}}<tr><td>{{.ID}}</td><td>{{.Message}}</td></tr>{{end}}` +
	`</table></body></html>`

const (
	pageHead = `<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>`
	pageTail = `</table></body></html>`
)

// AppendFortunesPage appends the fortunes page for fortunes to dst, each
// message HTML-escaped, and returns the extended buffer. It is the
// hand-written renderer the fastest peers use instead of a template engine
// (TechEmpower allows either, as long as the escaping is real).
func AppendFortunesPage(dst []byte, fortunes []Fortune) []byte {
	dst = append(dst, pageHead...)
	for _, f := range fortunes {
		dst = append(dst, "<tr><td>"...)
		dst = strconv.AppendInt(dst, int64(f.ID), 10)
		dst = append(dst, "</td><td>"...)
		dst = AppendEscaped(dst, f.Message)
		dst = append(dst, "</td></tr>"...)
	}
	return append(dst, pageTail...)
}

// AppendEscaped appends s to dst with the five characters that are special
// in HTML (& < > " ') replaced by entities.
func AppendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&#39;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}
