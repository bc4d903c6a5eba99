package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/hatago/hatago/middleware"
)

// stackExampleHeader returns middleware that sets a response header.
func stackExampleHeader(key, value string) middleware.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(key, value)
			next.ServeHTTP(w, r)
		})
	}
}

func ExampleStack() {
	api := middleware.New(stackExampleHeader("X-API", "v1"))
	api.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api sees %s", r.URL.Path)
	}))

	app := middleware.New(middleware.RequestID(middleware.RequestIDConfig{Generate: func() string { return "req-1" }}))
	app.Use(middleware.Recover(middleware.RecoverConfig{}))
	app.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "home")
	}))
	app.Mount("/api", api)
	// A Hatago server freezes app when it starts; so does the first request.
	app.Freeze()

	for _, path := range []string{"/", "/api/users", "/apix"} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Printf("%s: %d %q X-API=%q X-Request-Id=%q\n", path, rec.Code, rec.Body.String(),
			rec.Header().Get("X-API"), rec.Header().Get("X-Request-Id"))
	}

	defer func() { fmt.Println(recover() != nil) }()
	app.Use(stackExampleHeader("X-Late", "1")) // panics: the stack is frozen
	// Output:
	// /: 200 "home" X-API="" X-Request-Id="req-1"
	// /api/users: 200 "api sees /users" X-API="v1" X-Request-Id="req-1"
	// /apix: 200 "home" X-API="" X-Request-Id="req-1"
	// true
}

func ExampleChain() {
	h := middleware.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, w.Header().Values("X-Order"))
	}), stackExampleHeader("X-Order", "first"), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Order", "second")
			next.ServeHTTP(w, r)
		})
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rec.Body.String())
	// Output: [first second]
}
