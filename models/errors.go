// Package models holds Convene's domain types, their SQL and their rules.
package models

import (
	"errors"
	"sort"
	"strings"
)

// Named errors that handlers map to HTTP statuses with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrForbidden     = errors.New("not allowed")
	ErrConflict      = errors.New("conflict")
	ErrDuplicate     = errors.New("already exists")
	ErrClosed        = errors.New("registration is closed")
	ErrFull          = errors.New("full")
	ErrBadCredential = errors.New("email or password is wrong")
	ErrThrottled     = errors.New("too many attempts")
)

// ValidationError lists what is wrong with input, field by field. Messages are
// plain English; pages pass them through the translation function.
type ValidationError struct {
	Fields map[string]string
}

// Error joins the field messages in a stable order.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return strings.Join(parts, "; ")
}

// Problems collects field errors while validating.
type Problems map[string]string

// Add records msg for field unless the field already has a message.
func (p Problems) Add(field, msg string) {
	if _, ok := p[field]; !ok {
		p[field] = msg
	}
}

// Err returns a *ValidationError when there are problems, else nil.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Fields: p}
}
