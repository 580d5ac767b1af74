//go:build !linux

package main

import "syscall"

// childProcAttr: outside Linux there is no parent-death signal; Stop and the
// interrupt handler are what stop the server.
func childProcAttr() *syscall.SysProcAttr { return nil }
