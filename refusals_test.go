package ozgflow

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// TestReasonsListsEveryReason keeps Reasons complete: every constant of type
// Reason declared here is in the list, so the locale's test, which words
// each listed reason in German and English, covers every reason the
// workflow's validators and the case service can refuse with.
func TestReasonsListsEveryReason(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "refusals.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Reason" {
				continue
			}
			for _, name := range vs.Names {
				declared++
				lit := vs.Values[0].(*ast.BasicLit).Value
				if !slices.Contains(Reasons, Reason(lit[1:len(lit)-1])) {
					t.Errorf("%s is not in Reasons", name.Name)
				}
			}
		}
	}
	if declared != len(Reasons) || declared == 0 {
		t.Errorf("%d reasons declared, %d listed", declared, len(Reasons))
	}
}
