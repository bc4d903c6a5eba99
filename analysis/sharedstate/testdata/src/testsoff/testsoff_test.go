package testsoff

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecord(t *testing.T) {
	var got []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path) // sequential: one request at a time
	})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if len(got) != 1 {
		t.Fatal(got)
	}
}
