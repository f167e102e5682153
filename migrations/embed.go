// Package migrations holds Convene's goose SQL migrations, embedded in the binary.
package migrations

import "embed"

// FS holds every migration file; goose reads them in order of their number.
//
//go:embed *.sql
var FS embed.FS
