package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	t.Setenv("HATAGO_ACCESS_LOG", "false")
	srv, err := newServer([]string{"-b", "tcp://127.0.0.1:0", "--control-url", "tcp://127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.Addrs()[0].String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i, want := range []string{"request #1", "request #2"} {
		if code, body := get("/hello"); code != 200 || !strings.Contains(body, want) {
			t.Fatalf("/hello #%d: %d %q, want the slot's own count %q", i+1, code, body, want)
		}
	}
	if code, _ := get("/panic"); code != 500 {
		t.Fatalf("/panic: %d, want 500", code)
	}
	if code, body := get("/slow?ms=1"); code != 200 || !strings.Contains(body, "slept 1ms") {
		t.Fatalf("/slow: %d %q", code, body)
	}
	code, body := get("/stats")
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil {
		t.Fatalf("/stats: %d %v", code, err)
	}
	if doc["panic_count"] != 1.0 || doc["max_threads"] != 4.0 {
		t.Fatalf("stats panic_count %v max_threads %v, want 1 and 4", doc["panic_count"], doc["max_threads"])
	}
	if srv.ControlToken() == "" || !strings.HasPrefix(srv.ControlURL(), "tcp://127.0.0.1:") {
		t.Fatalf("control server not started: %q", srv.ControlURL())
	}
}
