package jobs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var taskType = regexp.MustCompile(`^[a-z]+:[a-z_]+$`)

// TestEachTaskTypeHasOneConstant: every "area:action" task type is declared
// by exactly one constant in the whole module, in the package that owns the
// task, and no Task/Type constant merely renames another package's (an alias
// marked Deprecated is tolerated until its last use goes).
func TestEachTaskTypeHasOneConstant(t *testing.T) {
	decls := map[string][]string{} // task type → the constants declaring it
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != ".." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Task") && !strings.HasPrefix(name.Name, "Type") || i >= len(vs.Values) {
						continue
					}
					where := strings.TrimPrefix(filepath.ToSlash(filepath.Dir(path)), "../") + "." + name.Name
					switch v := vs.Values[i].(type) {
					case *ast.BasicLit:
						if s, err := strconv.Unquote(v.Value); err == nil && taskType.MatchString(s) {
							decls[s] = append(decls[s], where)
						}
					case *ast.SelectorExpr:
						if !strings.Contains(vs.Doc.Text(), "Deprecated:") {
							t.Errorf("%s renames %s.%s: refer to that constant instead", where, v.X, v.Sel)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(decls) < 10 {
		t.Fatalf("found only %d task types: %v", len(decls), decls)
	}
	for typ, where := range decls {
		if len(where) > 1 {
			t.Errorf("task type %s is declared %d times: %s", typ, len(where), strings.Join(where, ", "))
		}
	}
}
