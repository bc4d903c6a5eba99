package racy

import (
	"net/http"
	"testing"
)

func TestRecord(t *testing.T) {
	var paths []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
	})
	_ = h
}
