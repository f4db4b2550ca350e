// Package openapi lints the API document with Redocly's recommended rules,
// pinned in this directory's package-lock.json and installed by
// `make prepare-test`.
package openapi

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLint fails on every error `redocly lint` reports; warnings are printed
// with -v and do not fail.
func TestLint(t *testing.T) {
	redocly := filepath.Join("node_modules", ".bin", "redocly")
	if _, err := os.Stat(redocly); err != nil {
		t.Fatalf("%s is missing: run make prepare-test (npm ci in test/openapi)", redocly)
	}
	doc := apiDocument(t)
	cmd := exec.Command(redocly, "lint", "--config=redocly.yaml", "--format=stylish", doc)
	// No usage reports and no update checks: the lint runs offline.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint %s: %v\n%s", doc, err, out)
	}
	t.Logf("%s", out)
}

// apiDocument finds the one openapi.yaml under gateway/, wherever the
// gateway keeps it.
func apiDocument(t *testing.T) string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(filepath.Join("..", "..", "gateway"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "openapi.yaml" {
			found = append(found, path)
		}
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("want one openapi.yaml under gateway/, found %v (%v)", strings.Join(found, ", "), err)
	}
	return found[0]
}
