package paymentstest

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill stripe-mock if the test binary dies
// without running its cleanups (a panic, a -timeout), so none is left behind.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
