package handlers_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"convene/models/rostercsv"
	"convene/templates"
)

// TestEverySpanishMessageExists finds every message pages and handlers pass
// through the translation function and checks the Spanish catalog has it.
func TestEverySpanishMessageExists(t *testing.T) {
	cats, err := templates.LoadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	es := cats["es"]
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\.T "((?:[^"\\]|\\.)+)"`),
		regexp.MustCompile(`"(?:Label|Hint)" "((?:[^"\\]|\\.)+)"`),
		regexp.MustCompile(`a\.T\(c, "((?:[^"\\]|\\.)+)"`),
		// TN's two messages: for one thing, and for any other number.
		regexp.MustCompile(`\.TN [^"]*?"((?:[^"\\]|\\.)+)"`),
		regexp.MustCompile(`\.TN [^"]*?"(?:[^"\\]|\\.)+" "((?:[^"\\]|\\.)+)"`),
		regexp.MustCompile(`p\.Add\("[a-z_]+", "((?:[^"\\]|\\.)+)"\)`),
		regexp.MustCompile(`a\.fail\(c, [^,]+, "[a-z_]+", "((?:[^"\\]|\\.)+)"\)`),
		regexp.MustCompile(`(?m)^\s+Verify\w+\s*=\s*"((?:[^"\\]|\\.)+)"`),
		regexp.MustCompile(`Fields: map\[string\]string\{"[a-z_]+": "((?:[^"\\]|\\.)+)"\}`),
		regexp.MustCompile(`&payState\{"((?:[^"\\]|\\.)+)"\}`),
	}
	var files []string
	fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".html") {
			files = append(files, "../templates/"+p)
		}
		return nil
	})
	for _, dir := range []string{".", "../models"} {
		gos, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, g := range gos {
			if !strings.HasSuffix(g, "_test.go") {
				files = append(files, g)
			}
		}
	}
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				found++
				if es[m[1]] == "" {
					t.Errorf("%s: no Spanish for %q", f, m[1])
				}
			}
		}
	}
	if found < 100 {
		t.Fatalf("found only %d messages; is the scan broken?", found)
	}
}

// Every reason a roster line can be skipped for has a Spanish sentence that
// takes the same arguments in the same order.
func TestRosterSkipReasonsHaveSpanish(t *testing.T) {
	cats, err := templates.LoadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	verbs := regexp.MustCompile(`%[a-z]`)
	for _, f := range rostercsv.Formats {
		es := cats["es"][f]
		if es == "" {
			t.Errorf("no Spanish for the roster reason %q", f)
			continue
		}
		if got, want := verbs.FindAllString(es, -1), verbs.FindAllString(f, -1); !slices.Equal(got, want) {
			t.Errorf("the Spanish for %q fills %v, the English %v", f, got, want)
		}
	}
}
