package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestSealedFieldListCoversEverySeal guards the hand-kept sealedFields
// list (keys.go), which rewrap, key status, retire and backup checks walk:
// it reads this package's source and fails when a seal call names a
// bucket the list does not hold, or a record struct gets a sealed JSON
// member that sealedField.envelope does not read. Without it, a new
// sealed field would be left on an old key version by rewrap, and retire
// would then destroy the key it needs.
func TestSealedFieldListCoversEverySeal(t *testing.T) {
	listed := map[string]bool{}
	for _, f := range sealedFields {
		listed[string(f.bucket)] = true
	}
	bucketNames := map[string]string{} // Go name → bucket name
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		// Package-level bucket names: bucketX = []byte("x").
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "bucket") || i >= len(vs.Values) {
					continue
				}
				if call, ok := vs.Values[i].(*ast.CallExpr); ok && len(call.Args) == 1 {
					if lit, ok := call.Args[0].(*ast.BasicLit); ok {
						bucketNames[id.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
			return true
		})
	}
	sealCalls := 0
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := calleeName(n)
				if !isSealCall(name) || len(n.Args) == 0 {
					return true
				}
				pos := fset.Position(n.Pos())
				if name == "sealMessage" {
					return true // its body seals into bucketMessages, checked there
				}
				arg := n.Args[0]
				if conv, ok := arg.(*ast.CallExpr); ok && calleeName(conv) == "string" && len(conv.Args) == 1 {
					arg = conv.Args[0]
				}
				id, ok := arg.(*ast.Ident)
				switch {
				case ok && id.Name == "bucket":
					// the generic helper's parameter: its callers are checked
				case ok && bucketNames[id.Name] != "":
					sealCalls++
					if !listed[bucketNames[id.Name]] {
						t.Errorf("%s: %s seals into bucket %q, which sealedFields (keys.go) does not list: add it, or rewrap and retire will miss it", pos, name, bucketNames[id.Name])
					}
				default:
					t.Errorf("%s: %s seals into a bucket this test cannot name; seal with a package-level bucketX as the first argument", pos, name)
				}
			case *ast.StructType:
				for _, field := range n.Fields.List {
					if field.Tag == nil {
						continue
					}
					tag, _ := strconv.Unquote(field.Tag.Value)
					member, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
					if strings.HasPrefix(member, "sealed") && member != "sealed" && member != "sealed_sid" {
						t.Errorf("%s: JSON member %q holds a sealed value that sealedField.envelope does not read: add it there and to sealedFields", fset.Position(field.Pos()), member)
					}
				}
			}
			return true
		})
	}
	if sealCalls < len(sealedFields) {
		t.Errorf("found %d seal calls naming a bucket, fewer than the %d listed fields: the test no longer sees them", sealCalls, len(sealedFields))
	}
}

func calleeName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// isSealCall: seal, Seal, sealMessage and any sealX or XSeal helper.
func isSealCall(name string) bool {
	return name == "seal" || name == "Seal" || (strings.HasPrefix(name, "seal") && len(name) > 4 && name[4] >= 'A' && name[4] <= 'Z') || strings.HasSuffix(name, "Seal")
}
