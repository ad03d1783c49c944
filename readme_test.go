package realtime_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// snippet is one ```go block of a Markdown file.
type snippet struct {
	file string // the Markdown file's absolute path
	line int    // of the block's first line of code
	code string
}

// lineDirective makes the compiler report errors in s at the Markdown
// file's lines.
func (s snippet) lineDirective() string { return fmt.Sprintf("//line %s:%d\n", s.file, s.line) }

// readmeSnippets returns the ```go blocks of a Markdown file.
func readmeSnippets(t *testing.T, path string) []snippet {
	t.Helper()
	path, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []snippet
		cur  *snippet
		code strings.Builder
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &snippet{file: path, line: n + 1}
			code.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = code.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(line)
			code.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated ```go block", path, cur.line-1)
	}
	return out
}

// fragmentFile is the package a README fragment is compiled in: the
// fragment is the body of a function, with the imports and the variables
// the README's fragments take as given.
const fragmentFile = `package snippet

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
	"github.com/tradewithai/realtime/redisadapter"
)

// What the README's fragments take as given.
var (
	ctx    context.Context
	rdb    *redis.Client
	gw     *realtime.Gateway
	auth   realtime.Authenticator
	secret []byte
	fill   map[string]any
)

// Every import is used, whatever a fragment uses.
var (
	_ = context.Background
	_ = time.Second
	_ = redis.NewClient
	_ = realtime.New
	_ = jwtauth.New
	_ = redisadapter.New
)

func _() {
%s%s
}
`

// wrapFragment returns a file that compiles s, a sequence of statements,
// with every variable s declares at its top level marked as used.
func wrapFragment(s snippet) (string, error) {
	body := s.lineDirective() + s.code
	f, err := parser.ParseFile(token.NewFileSet(), s.file, fmt.Sprintf(fragmentFile, body, ""), 0)
	if err != nil {
		return "", fmt.Errorf("not a sequence of Go statements: %w", err)
	}
	var names []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		for _, stmt := range fn.Body.List {
			switch stmt := stmt.(type) {
			case *ast.AssignStmt:
				if stmt.Tok == token.DEFINE {
					for _, e := range stmt.Lhs {
						if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
							names = append(names, id.Name)
						}
					}
				}
			case *ast.DeclStmt:
				if g, ok := stmt.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
					for _, spec := range g.Specs {
						for _, id := range spec.(*ast.ValueSpec).Names {
							if id.Name != "_" {
								names = append(names, id.Name)
							}
						}
					}
				}
			}
		}
	}
	var uses strings.Builder
	for _, name := range names {
		fmt.Fprintf(&uses, "\t_ = %s\n", name)
	}
	return fmt.Sprintf(fragmentFile, body, uses.String()), nil
}

// TestReadmeGoSnippetsCompile compiles and vets every ```go block of
// README.md against the module as it stands: complete programs (starting
// with `package main`) as they are, fragments as the body of a function
// that has the usual imports and the variables rdb, ctx, gw, auth, secret
// and fill.
// The blocks are built in a module of their own that replaces this one
// with the working tree, so nothing is written inside the repository.
func TestReadmeGoSnippetsCompile(t *testing.T) {
	t.Parallel()
	snippets := readmeSnippets(t, "README.md")
	if len(snippets) == 0 {
		t.Fatal("README.md has no ```go block")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to compile README.md's snippets: %v", err)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, s := range snippets {
		src := s.lineDirective() + s.code
		if !strings.HasPrefix(strings.TrimSpace(s.code), "package main") {
			if src, err = wrapFragment(s); err != nil {
				t.Errorf("%s:%d: %v", s.file, s.line, err)
				continue
			}
		}
		pkg := filepath.Join(dir, fmt.Sprintf("snippet%d", i+1))
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "snippet.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// This module's go.mod, renamed, requiring this module from the working
	// tree: the snippets see the same dependency versions (and go.sum).
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gomod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAllLiteralString(string(mod), "module readmesnippets") +
		"\nrequire github.com/tradewithai/realtime v0.0.0\n\nreplace github.com/tradewithai/realtime => " + strconv.Quote(root) + "\n"
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(t.Context(), goBin, "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("a ```go block of README.md does not compile or vet against this module (%v):\n%s", err, out)
	}
}
