package middleware_test

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"time"

	"github.com/hatago/hatago/middleware"
)

//go:embed testdata/static
var staticFiles embed.FS

// Static serves files embedded in the binary under /static/. Their
// ETags are content hashes, so clients revalidate with a cheap 304;
// fingerprinted names are cached for a year.
func ExampleStatic() {
	files, err := fs.Sub(staticFiles, "testdata/static")
	if err != nil {
		panic(err)
	}
	fingerprinted := regexp.MustCompile(`\.[0-9a-f]{6,}\.(js|css)$`)
	static := middleware.Static(middleware.StaticConfig{
		Root:          files,
		MaxAge:        time.Hour,
		Immutable:     fingerprinted.MatchString,
		Precompressed: true, // css/site.css.gz sits next to css/site.css
	})
	srv := httptest.NewServer(http.StripPrefix("/static", static))
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // shows gzip as sent
	get := func(path string, header ...string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := get("/static/")
	etag := resp.Header.Get("ETag")
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), etag, resp.Header.Get("Cache-Control"))
	resp = get("/static/", "If-None-Match", etag)
	fmt.Println(resp.StatusCode)
	resp = get("/static/js/app.3f9a2c.js")
	fmt.Println(resp.StatusCode, resp.Header.Get("Cache-Control"))
	resp = get("/static/css/site.css", "Accept-Encoding", "gzip")
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	resp = get("/static/docs/")
	fmt.Println(resp.StatusCode)
	resp = get("/static/../example_static_test.go")
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 text/html; charset=utf-8 "a94dab0455b6d854fe72dd61fb763e70" public, max-age=3600
	// 304
	// 200 public, max-age=31536000, immutable
	// 200 gzip Accept-Encoding
	// 404
	// 400
}
