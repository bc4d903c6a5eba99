package hatago

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestCloseNewKeepsWaitingRequest: a stop closes a new connection that
// sent nothing, past the grace, and keeps one whose request waits unread
// in its socket, however old: that request is served. The peek leaves the
// bytes for net/http, also under TLS.
func TestCloseNewKeepsWaitingRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var clock time.Duration
	tr := &connTracker{mono: func() time.Duration { return clock }}
	silentC, silentS := pair(t, ln)
	sentC, sentS := pair(t, ln)
	youngC, youngS := pair(t, ln)
	tr.open(t.Context(), silentS, false)
	tr.open(t.Context(), sentS, false)
	clock = time.Second
	tr.open(t.Context(), youngS, false)
	if _, err := io.WriteString(sentC, "GET / HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // delivered
	if !requestWaiting(sentS) || requestWaiting(silentS) {
		t.Fatalf("requestWaiting: %v for the sent request, %v for the silent one; want true, false",
			requestWaiting(sentS), requestWaiting(silentS))
	}

	tr.now.Store(int64(clock + 100*time.Millisecond))
	if left, closed := tr.closeNew(250 * time.Millisecond); left != 2 || closed != 1 {
		t.Errorf("closeNew left %d connections and closed %d, want 2 (the one with a request waiting and the young one) and 1", left, closed)
	}
	silentC.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := silentC.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("silent connection past the grace: read %v, want EOF", err)
	}
	buf := make([]byte, 64)
	sentS.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := sentS.Read(buf); err != nil || string(buf[:n]) != "GET / HTTP/1.1\r\n" {
		t.Errorf("the waiting request after the peek: %q, %v; want it whole", buf[:n], err)
	}
	youngC.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := youngC.Read(buf); err == io.EOF {
		t.Error("a connection younger than the grace was closed")
	}

	tlsC, tlsS := pair(t, ln)
	if _, err := tlsC.Write([]byte{22, 3, 1}); err != nil { // a ClientHello's record header
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if !requestWaiting(tls.Server(tlsS, &tls.Config{})) {
		t.Error("requestWaiting on a TLS connection with a ClientHello waiting: false, want true")
	}
}
