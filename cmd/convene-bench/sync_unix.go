//go:build unix

package main

import "syscall"

// syncDisks waits until the kernel has written every dirty page to disk.
func syncDisks() { syscall.Sync() }
