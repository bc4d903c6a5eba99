//go:build !linux

package harness

import (
	"os"
	"os/exec"
)

func ownGroup(*exec.Cmd) {}

// signalGroup signals the process alone: process groups are Linux's here.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if kill {
		cmd.Process.Kill()
		return
	}
	cmd.Process.Signal(os.Interrupt)
}
