package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hatago/hatago/middleware"
)

// An API that the single-page app at https://app.example.com (and its
// preview deployments, one subdomain of preview.example.com each) calls
// with cookies and a JSON body.
func ExampleCORS() {
	cors := middleware.CORS(middleware.CORSConfig{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.preview.example.com"},
		AllowedMethods:   []string{"GET", "POST", "DELETE"},
		AllowedHeaders:   []string{"Content-Type", "X-CSRF-Token"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
		MaxAge:           time.Hour,
	})
	api := cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "42")
		fmt.Fprintln(w, "deleted")
	}))

	// The browser's preflight before a DELETE with a JSON body.
	r := httptest.NewRequest("OPTIONS", "/items/7", nil)
	r.Header.Set("Origin", "https://pr-12.preview.example.com")
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	r.Header.Set("Access-Control-Request-Headers", "content-type,x-csrf-token")
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	fmt.Println(w.Header().Get("Access-Control-Allow-Methods"), "|", w.Header().Get("Access-Control-Allow-Headers"), "|", w.Header().Get("Access-Control-Max-Age"))

	// The DELETE itself.
	r = httptest.NewRequest("DELETE", "/items/7", nil)
	r.Header.Set("Origin", "https://pr-12.preview.example.com")
	w = httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Credentials"), w.Header().Get("Access-Control-Expose-Headers"), w.Header().Get("Vary"))

	// Another site's preflight is refused.
	r = httptest.NewRequest("OPTIONS", "/items/7", nil)
	r.Header.Set("Origin", "https://evil.example.net")
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	w = httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Printf("%d %q\n", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	// Output:
	// 204 https://pr-12.preview.example.com
	// DELETE | content-type, x-csrf-token | 3600
	// 200 https://pr-12.preview.example.com true X-Request-Id Origin
	// 403 ""
}
