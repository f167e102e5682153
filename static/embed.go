// Package static holds the CSS, JavaScript and images served under /static,
// embedded in the binary.
package static

import "embed"

// FS holds css/, js/ and img/.
//
//go:embed css js
var FS embed.FS
