package middleware_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hatago/hatago/middleware"
)

func ExampleBodyLimit() {
	h := middleware.BodyLimit(64)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]string
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, "body over 64 bytes", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "hello %s", v["name"])
	}))

	big := `{"name": "` + strings.Repeat("x", 100) + `"}`
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"small", strings.NewReader(`{"name": "Ann"}`)},
		// With a Content-Length: answered before the handler runs.
		{"declared too large", strings.NewReader(big)},
		// Without one (chunked): the handler's read fails.
		{"chunked too large", io.MultiReader(strings.NewReader(big))},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", tt.body))
		fmt.Printf("%s: %d %q\n", tt.name, rec.Code, rec.Body.String())
	}
	// Output:
	// small: 200 "hello Ann"
	// declared too large: 413 "413 Request Entity Too Large\n"
	// chunked too large: 413 "body over 64 bytes\n"
}
