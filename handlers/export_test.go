package handlers

import "sort"

// ChecksTokenAgain lists the routes that may sign a scanner in from the
// remembered tokens (a copy: tests cannot change it).
func ChecksTokenAgain() []string {
	var out []string
	for k := range checksTokenAgain {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
