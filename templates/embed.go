// Package templates holds Convene's page templates and message catalogs,
// embedded in the binary.
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
)

// FS holds layouts/, partials/, pages/ and i18n/.
//
//go:embed layouts partials pages i18n
var FS embed.FS

// Languages are the languages pages are offered in; the first is the default.
var Languages = []string{"en", "es"}

// Catalog maps an English message to its translation.
type Catalog map[string]string

// LoadCatalogs reads every language's catalog: i18n/LANG.json plus any
// i18n/LANG-FEATURE.json, so each feature keeps its messages in its own file.
// English is the source text: its catalog may be empty, and a message missing
// from any catalog is shown in English.
func LoadCatalogs() (map[string]Catalog, error) {
	out := map[string]Catalog{}
	for _, lang := range Languages {
		files, err := fs.Glob(FS, "i18n/"+lang+"*.json")
		if err != nil {
			return nil, err
		}
		c := Catalog{}
		for _, f := range files {
			b, err := FS.ReadFile(f)
			if err != nil {
				return nil, err
			}
			part := Catalog{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k, v := range part {
				if old, dup := c[k]; dup && old != v {
					return nil, fmt.Errorf("%s: %q is translated twice, differently", f, k)
				}
				c[k] = v
			}
		}
		out[lang] = c
	}
	return out, nil
}
