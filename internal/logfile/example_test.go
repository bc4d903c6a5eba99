package logfile_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hatago/hatago/internal/logfile"
)

// A server logs to a file; logrotate moves it away and sends SIGHUP, on
// which the server reopens the path.
func ExampleFile_Reopen() {
	dir, _ := os.MkdirTemp("", "logfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.log")

	f, err := logfile.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	log := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	log.Info("booted")

	os.Rename(path, path+".1")         // logrotate
	if err := f.Reopen(); err != nil { // on SIGHUP
		fmt.Println(err)
		return
	}
	log.Info("rotated")

	rotated, _ := os.ReadFile(path + ".1")
	current, _ := os.ReadFile(path)
	fmt.Print(string(rotated), string(current))
	// Output:
	// level=INFO msg=booted
	// level=INFO msg=rotated
}
