package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Resumed is what a master carries across a hot restart: its sockets and
// the parts of its stats that describe the process, not the image.
type Resumed struct {
	Sockets     []Socket
	StartedAt   time.Time
	HotRestarts uint64
	Phase       int
}

// masterEnv is the value of envMaster.
type masterEnv struct {
	Listen      []passed  `json:"listen"`
	StartedAt   time.Time `json:"started_at"`
	HotRestarts uint64    `json:"hot_restarts"`
	Phase       int       `json:"phase"`
	PID         int       `json:"pid"`
}

// Resume returns what the master before a hot restart handed on, or nil
// when this process was not started by one. It reads and unsets the
// variable, so call it once, early; the sockets are the caller's.
func Resume() (*Resumed, error) {
	v, ok := os.LookupEnv(envMaster)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(envMaster)
	var env masterEnv
	if err := json.Unmarshal([]byte(v), &env); err != nil {
		return nil, fmt.Errorf("cluster: bad %s: %w", envMaster, err)
	}
	if env.PID != os.Getpid() {
		return nil, nil // meant for another process
	}
	r := &Resumed{StartedAt: env.StartedAt, HotRestarts: env.HotRestarts, Phase: env.Phase}
	for _, p := range env.Listen {
		s := Socket{Bind: p.Bind}
		if p.FD >= 0 {
			syscall.CloseOnExec(p.FD)
			s.File = os.NewFile(uintptr(p.FD), p.Bind)
		}
		r.Sockets = append(r.Sockets, s)
	}
	return r, nil
}

// reexec replaces the master's process image with the binary now on disk,
// same PID, same arguments, its sockets kept open for the new image. It
// returns only if the exec failed, having resumed serving.
func (m *Master) reexec() {
	env := masterEnv{StartedAt: m.startedAt, HotRestarts: m.hotRestarts + 1, Phase: m.phase, PID: os.Getpid()}
	for _, s := range m.cfg.Sockets {
		fd := -1
		if s.File != nil {
			fd = int(s.File.Fd())
		}
		env.Listen = append(env.Listen, passed{FD: fd, Bind: s.Bind})
	}
	m.log.Info("hatago: hot restart: re-executing the master", "exe", m.cfg.Exe, "pid", os.Getpid())
	if m.cfg.BeforeExec != nil {
		m.cfg.BeforeExec()
	}
	// Keep the sockets across exec; everything else closes.
	for _, p := range env.Listen {
		if p.FD >= 0 {
			clearCloseOnExec(p.FD)
		}
	}
	environ := append(withoutVars(os.Environ(), envMaster), envMaster+"="+mustJSON(env))
	argv := append([]string{os.Args[0]}, m.cfg.Args...)
	err := syscall.Exec(m.cfg.Exe, argv, environ)
	// Still here: the exec failed. Serve on with new workers.
	for _, p := range env.Listen {
		if p.FD >= 0 {
			syscall.CloseOnExec(p.FD)
		}
	}
	m.log.Error("hatago: hot restart failed: starting workers again", "exe", m.cfg.Exe, "err", err)
	m.stopping = ""
	m.ready = false
}

func clearCloseOnExec(fd int) {
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0)
}

// withoutVars returns env without the variables named.
func withoutVars(env []string, names ...string) []string {
	return slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, k)
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of ints and strings
	}
	return string(b)
}
