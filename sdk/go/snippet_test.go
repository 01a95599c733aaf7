package orchestrator_test

// The reference's Go SDK snippet, as a user's program in its own module: it compiles and runs
// against the server with only its missing "fmt"/"log" imports added, the server's address and,
// when the server wants one, a token.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const snippetFile = "testdata/reference-snippet.go.txt"

func referencePath() string {
	for _, p := range []string{
		filepath.Join(repo, "..", "shared", "reference", "ecp-orchestrator-api-v1.51.md"),
		"/work/shared/reference/ecp-orchestrator-api-v1.51.md",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestTheSnippetIsTheReferencesGoBlockVerbatim(t *testing.T) {
	ref := referencePath()
	if ref == "" {
		t.Skip("the API reference is not at hand")
	}
	text, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	section := string(text)[strings.Index(string(text), "### Go SDK"):]
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(section)[1]
	committed, _ := os.ReadFile(snippetFile)
	if string(committed) != block {
		t.Fatalf("%s differs from the reference's Go block", snippetFile)
	}
}

func TestTheReferencesGoSnippetCompilesAndRuns(t *testing.T) {
	source, err := os.ReadFile(snippetFile)
	if err != nil {
		t.Fatal(err)
	}
	code := strings.Replace(string(source), "import (\n", "import (\n    \"fmt\"\n    \"log\"\n", 1)
	code = strings.Replace(code, "http://localhost:8001/api/v1", server.baseURL, 1)
	if server.token != "" {
		code = strings.Replace(code, "IsDemo:  false,", "IsDemo:  false,\n        Token:   \""+server.token+"\",", 1)
	}
	sdk, _ := filepath.Abs(".")
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	// The user's module reaches this SDK (and its WebSocket library) the way this module does.
	gorilla := regexp.MustCompile(`(?m)^replace github.com/gorilla/websocket => .*$`).FindString(string(gomod))
	dir := t.TempDir()
	files := map[string]string{
		"main.go": code,
		"go.mod": "module snippet\n\ngo 1.19\n\nrequire github.com/ecp-ai/orchestrator-client-go v0.0.0\n\n" +
			"replace github.com/ecp-ai/orchestrator-client-go => " + sdk + "\n\n" + gorilla + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if string(out) != "테넌트 생성됨: my-service\n" {
		t.Fatalf("output %q", out)
	}
	if _, err := newClient().GetTenant("my-service"); err != nil {
		t.Fatalf("the snippet's tenant is not there: %v", err)
	}
}
