package sdnotify_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/hatago/hatago/internal/sdnotify"
)

// A service tells systemd it is ready. Here the test plays systemd's part:
// it listens on the socket that NOTIFY_SOCKET names.
func ExampleNotify() {
	dir, _ := os.MkdirTemp("", "sdnotify")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "notify.sock")
	systemd, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer systemd.Close()
	old, had := os.LookupEnv("NOTIFY_SOCKET")
	os.Setenv("NOTIFY_SOCKET", name)
	defer func() {
		if had {
			os.Setenv("NOTIFY_SOCKET", old)
		} else {
			os.Unsetenv("NOTIFY_SOCKET")
		}
	}()

	sent, err := sdnotify.Notify("READY=1\nSTATUS=serving")
	fmt.Println(sent, err)

	buf := make([]byte, 256)
	n, _ := systemd.Read(buf)
	fmt.Printf("%q\n", buf[:n])
	// Output:
	// true <nil>
	// "READY=1\nSTATUS=serving"
}
