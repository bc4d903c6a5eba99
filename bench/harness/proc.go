package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Dirs are the two modules' directories.
type Dirs struct {
	Bench string // this module, github.com/hatago/hatago/bench
	Main  string // github.com/hatago/hatago, which bench replaces with ../
}

// FindDirs finds the bench module from dir: dir itself or a parent of it,
// or dir/bench (the repository's root).
func FindDirs(dir string) (Dirs, error) {
	isModule := func(d, path string) bool {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		return err == nil && strings.HasPrefix(string(b), "module "+path+"\n")
	}
	for d := dir; ; d = filepath.Dir(d) {
		for _, c := range []string{d, filepath.Join(d, "bench")} {
			if isModule(c, "github.com/hatago/hatago/bench") {
				main := filepath.Dir(c)
				if !isModule(main, "github.com/hatago/hatago") {
					return Dirs{}, fmt.Errorf("%s is not the hatago module, which bench's go.mod replaces", main)
				}
				return Dirs{Bench: c, Main: main}, nil
			}
		}
		if filepath.Dir(d) == d {
			return Dirs{}, fmt.Errorf("no bench module (github.com/hatago/hatago/bench) in or above %s", dir)
		}
	}
}

// Build compiles each distinct package of servers into binDir, one after
// the other, and returns the binary of each server that built and the
// error of each that did not; a failed build does not stop the others.
func Build(ctx context.Context, dirs Dirs, servers []Server, binDir string, progress func(name string, took time.Duration, err error)) (bins map[string]string, errs map[string]error) {
	bins, errs = map[string]string{}, map[string]error{}
	type key struct{ module, pkg string }
	built := map[key]string{}
	failed := map[key]error{}
	for _, s := range servers {
		k := key{s.Module, s.Package}
		if bin, ok := built[k]; ok {
			bins[s.Name] = bin
			continue
		}
		if err, ok := failed[k]; ok {
			errs[s.Name] = err
			continue
		}
		dir := dirs.Bench
		if s.Module == mainModule {
			dir = dirs.Main
		}
		bin := filepath.Join(binDir, s.Name)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, s.Package)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build %s (in %s): %w\n%s", s.Package, dir, err, strings.TrimSpace(string(out)))
			failed[k], errs[s.Name] = err, err
		} else {
			built[k], bins[s.Name] = bin, bin
		}
		if progress != nil {
			progress(s.Name, time.Since(start), err)
		}
	}
	return bins, errs
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Process is a server the harness started, in its own process group so
// that stopping it also stops any children (prefork).
type Process struct {
	Addr string
	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done is closed
}

// StartOptions say how to run a server's binary.
type StartOptions struct {
	Bin    string
	Addr   string
	DBURL  string
	Pool   int
	Prefix []string // before the binary, such as taskset -c 1
	Env    []string // added to the environment, after the server's own
	// Ready is how long to wait for the server to answer; 0 means 60 s.
	Ready time.Duration
}

// Start starts s as o says and returns once it answers HTTP on o.Addr. If
// it exits or does not answer in time, Start stops it and returns an
// error with the end of its output.
func Start(ctx context.Context, s Server, o StartOptions) (*Process, error) {
	argv := append(append(append([]string(nil), o.Prefix...), o.Bin), s.Args(o.Addr, o.DBURL, o.Pool)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), s.Env...), o.Env...)
	out := &tail{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Addr: o.Addr, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ready := o.Ready
	if ready == 0 {
		ready = 60 * time.Second
	}
	if err := p.waitReady(ctx, ready); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w\n%s", s.Name, err, p.Output())
	}
	return p, nil
}

// waitReady polls the server until any HTTP response comes back.
func (p *Process) waitReady(ctx context.Context, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+"/plaintext", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before it answered: %v", p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s in %v", p.Addr, limit)
		}
	}
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s. It waits
// for the process and may be called more than once.
func (p *Process) Stop() {
	signalGroup(p.cmd, false)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		signalGroup(p.cmd, true)
		<-p.done
	}
	signalGroup(p.cmd, true) // children that outlived their parent
}

// Output is the end of what the process printed.
func (p *Process) Output() string { return p.out.String() }

// tail keeps the last max bytes written to it. It is safe for concurrent
// use.
type tail struct {
	max int
	mu  sync.Mutex // guards buf
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// errExited is the problem of a server that ended while it was measured.
var errExited = errors.New("the server exited")
