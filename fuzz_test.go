package hatago_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago"
)

// FuzzRawRequest sends arbitrary bytes to a live server as a request and
// checks that it answers with a well-formed status line that is never a
// server error (malformed input is the client's fault: 4xx, 505 for an HTTP
// version it does not speak, or a closed connection), and that the server
// serves on afterwards.
func FuzzRawRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GARBAGE\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
		"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n",
		"\x00\x01\x02",
	} {
		f.Add([]byte(seed))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "ok")
	})
	_, url := start(f, h, hatago.Config{MaxHeaderBytes: 4096, MaxBodyBytes: 1 << 16,
		HeaderTimeout: time.Second, RequestTimeout: 2 * time.Second})
	addr := strings.TrimPrefix(url, "http://")
	f.Fuzz(func(t *testing.T, raw []byte) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(3 * time.Second))
		conn.Write(raw)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite() // no more input: an incomplete request must not hang
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return // closed without an answer: allowed for malformed input
		}
		var proto string
		var code int
		if _, err := fmt.Sscanf(line, "%s %d", &proto, &code); err != nil || !strings.HasPrefix(proto, "HTTP/1.") {
			t.Fatalf("malformed status line %q for input %q", line, raw)
		}
		if code >= 500 && code != http.StatusHTTPVersionNotSupported {
			t.Fatalf("status %d for input %q: malformed input must not be a server error", code, raw)
		}

		// The server still serves.
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("server gone after input %q: %v", raw, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, " 200 ") {
			t.Fatalf("after input %q: %q %v, want 200", raw, line, err)
		}
	})
}
