package hatago_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/resource"
)

// A server with two slots and a per-slot resource: each slot gets its own
// buffer, used without a lock because a slot serves one request at a time.
func Example() {
	buffers := resource.New("buffer",
		func(_ context.Context, slot int) (*[]byte, error) {
			b := make([]byte, 0, 1024)
			return &b, nil
		}, nil)

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := buffers.From(r.Context())
		slot, _ := hatago.Slot(r.Context())
		*buf = fmt.Appendf((*buf)[:0], "hello from slot %d\n", slot)
		w.Write(*buf)
	})

	srv, err := hatago.New(h, hatago.Config{
		Binds:     []string{"tcp://127.0.0.1:0"},
		MaxSlots:  2,
		Resources: []resource.Decl{buffers},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	resp, err := http.Get("http://" + srv.Addrs()[0].String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	st := srv.Stats()
	fmt.Println("requests:", st.RequestsCount, "max_threads:", st.MaxThreads)
	// Output:
	// hello from slot 0
	// requests: 1 max_threads: 2
}

// Invalid configuration fails before anything starts, naming the field.
func ExampleNew_invalid() {
	_, err := hatago.New(http.NotFoundHandler(), hatago.Config{MinSlots: 8, MaxSlots: 4})
	fmt.Println(err)
	// Output:
	// hatago: config: MinSlots (-t): must not exceed MaxSlots (4), got 8
}
