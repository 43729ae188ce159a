package e2e

import (
	"os/exec"
	"syscall"
	"time"
)

// daemon is a server process a test started, reaped once: exited closes
// when it has ended, and err is then what Wait said.
type daemon struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

func startProcess(cmd *exec.Cmd) (*daemon, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// stop kills the process and waits for it.
func (d *daemon) stop() {
	d.cmd.Process.Kill()
	<-d.exited
}

// terminate asks the process to end (SIGTERM), so a server can close its
// storage, and kills it if it has not within grace.
func (d *daemon) terminate(grace time.Duration) {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(grace):
		d.stop()
	}
}
