package middleware_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hatago/hatago/middleware"
)

func ExampleCompress() {
	report := strings.Repeat(`{"name":"hatago","ok":true},`, 200) // 5.6 kB
	mux := http.NewServeMux()
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, report)
	})
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "pong") // under MinSize: sent as is
	})
	srv := httptest.NewServer(middleware.Compress(middleware.CompressConfig{})(mux))
	defer srv.Close()

	// A client that shows the bytes on the wire instead of decoding them.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, path := range []string{"/report", "/ping"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip, br")
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			body, _ = gzip.NewReader(resp.Body)
		}
		b, _ := io.ReadAll(body)
		resp.Body.Close()
		fmt.Printf("%s: Content-Encoding %q, Vary %q, %d bytes\n",
			path, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), len(b))
	}
	// Output:
	// /report: Content-Encoding "gzip", Vary "Accept-Encoding", 5600 bytes
	// /ping: Content-Encoding "", Vary "Accept-Encoding", 4 bytes
}
