// Package templates holds Convene's page templates and message catalogs,
// embedded in the binary.
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
)

// FS holds layouts/, partials/, pages/ and i18n/.
//
//go:embed layouts partials pages i18n
var FS embed.FS

// Languages are the languages pages are offered in; the first is the default.
var Languages = []string{"en", "es"}

// Catalog maps an English message to its translation.
type Catalog map[string]string

// LoadCatalogs reads every language's catalog. English is the source text:
// its catalog may be empty, and a message missing from any catalog is shown
// in English.
func LoadCatalogs() (map[string]Catalog, error) {
	out := map[string]Catalog{}
	for _, lang := range Languages {
		b, err := FS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		c := Catalog{}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
		}
		out[lang] = c
	}
	return out, nil
}
