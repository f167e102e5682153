//go:build !unix

package main

// syncDisks has nothing to call where there is no sync(2); the CHECKPOINT
// before it has written PostgreSQL's buffers out all the same.
func syncDisks() {}
