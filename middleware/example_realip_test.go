package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/hatago/hatago/middleware"
)

// The server sits behind load balancers in 10.0.0.0/8 that append the
// address they saw to X-Forwarded-For. The client's own entries are
// further left and do not count.
func ExampleRealIP() {
	realIP := middleware.RealIP(middleware.RealIPConfig{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	h := realIP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(middleware.ClientIP(r), r.RemoteAddr)
	}))

	// Through the load balancer: the client claims to be 192.0.2.1.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.5:41000"
	r.Header.Set("X-Forwarded-For", "192.0.2.1, 203.0.113.7")
	h.ServeHTTP(httptest.NewRecorder(), r)

	// Straight from the internet: the header is not believed.
	r = httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.9:52000"
	r.Header.Set("X-Forwarded-For", "192.0.2.1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// 203.0.113.7 203.0.113.7:0
	// 198.51.100.9 198.51.100.9:52000
}
