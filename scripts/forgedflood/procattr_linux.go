package main

import "syscall"

// childProcAttr makes the kernel kill the server if forgedflood dies
// without stopping it (SIGKILL, a crash), so no server is left running.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
