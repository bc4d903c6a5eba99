package middleware_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/hatago/hatago/middleware"
)

func ExampleRecover() {
	// A logger for the example's output: no time, and no stack (which a
	// real log keeps).
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "stack" {
				return slog.Attr{}
			}
			return a
		},
	}))
	h := middleware.Recover(middleware.RecoverConfig{Logger: log})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items := strings.Split(r.URL.Query().Get("items"), ",")
		fmt.Fprint(w, items[2]) // panics: index out of range
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/orders", nil))
	fmt.Printf("%d %q\n", rec.Code, rec.Body.String())
	// Output:
	// level=ERROR msg="middleware: handler panic" method=POST path=/orders panic="runtime error: index out of range [2] with length 1"
	// 500 "500 Internal Server Error\n"
}
