package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/hatago/hatago/control"
)

// Message kinds on the pipe between the master and a worker. The pipe is
// a unix stream socket pair, one JSON object a line.
const (
	msgBoot    = "boot"    // worker → master: it serves
	msgCheckin = "checkin" // worker → master: its stats, every CheckinInterval
	msgStats   = "stats"   // master → worker: send stats now; worker → master: here they are
)

// message is one line on the pipe. Stats is set on check-ins and stats
// answers; ID pairs a stats answer with its question.
type message struct {
	Type  string         `json:"t"`
	ID    uint64         `json:"id,omitempty"`
	PID   int            `json:"pid,omitempty"`
	Stats *control.Stats `json:"stats,omitempty"`
}

// maxMessage bounds a line: a stats document is a few hundred bytes.
const maxMessage = 1 << 20

// pipe is one end of the master-worker pipe: writes are serialised,
// reads belong to one goroutine.
type pipe struct {
	conn net.Conn
	r    *bufio.Scanner

	mu  sync.Mutex // serialises writes
	enc *json.Encoder
}

func newPipe(c net.Conn) *pipe {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), maxMessage)
	return &pipe{conn: c, r: sc, enc: json.NewEncoder(c)}
}

func (p *pipe) send(m message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.enc.Encode(m)
}

// recv reads the next message; io.EOF when the other end closed.
func (p *pipe) recv() (message, error) {
	if !p.r.Scan() {
		if err := p.r.Err(); err != nil {
			return message{}, err
		}
		return message{}, io.EOF
	}
	var m message
	if err := json.Unmarshal(p.r.Bytes(), &m); err != nil {
		return message{}, fmt.Errorf("cluster: bad message on the pipe: %w", err)
	}
	return m, nil
}

func (p *pipe) close() error { return p.conn.Close() }
