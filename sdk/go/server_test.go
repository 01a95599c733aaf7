package orchestrator_test

// A real `ecp serve` for the tests: a temp copy of the repo's presets/ and tenants/ in a fresh
// git repo, compiled and served on a free loopback port. When the CLI can mint tokens
// (`ecp token create`), the server runs with auth and the tests use an admin token; before that
// it runs without. ECP_BIN names the `ecp` executable (default: the repo's .venv, then PATH).

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repo is the project's root: sdk/go is two levels below it.
var repo, _ = filepath.Abs(filepath.Join("..", ".."))

type ecpServer struct {
	root    string
	port    int
	baseURL string
	token   string
	ecp     string
	cmd     *exec.Cmd
	exited  chan struct{}
}

var server *ecpServer

func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting ecp serve:", err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	s.stop()
	os.RemoveAll(s.root)
	os.Exit(code)
}

func ecpBinary() string {
	if bin := os.Getenv("ECP_BIN"); bin != "" {
		return bin
	}
	venv := filepath.Join(repo, ".venv", "bin", "ecp")
	if _, err := os.Stat(venv); err == nil {
		return venv
	}
	return "ecp"
}

// cleanEnv drops ECP_* settings from the developer's shell: the tests pin the defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ECP_") {
			env = append(env, kv)
		}
	}
	return env
}

func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, cleanEnv()
	out, err := cmd.Output()
	if exit, ok := err.(*exec.ExitError); ok {
		return string(out), fmt.Errorf("%s %v: %v: %s", name, args, err, exit.Stderr)
	}
	return string(out), err
}

func copyDir(from, to string) error {
	return filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer() (*ecpServer, error) {
	root, err := os.MkdirTemp("", "ecp-go-sdk-")
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{"presets", "tenants"} {
		if err := copyDir(filepath.Join(repo, dir), filepath.Join(root, dir)); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(root, ".gitignore"), []byte("output/\n.ecp/\n"), 0o644); err != nil {
		return nil, err
	}
	ecp := ecpBinary()
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main"},
		{"add", "--all"},
		{"-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "seed"},
	} {
		if _, err := run(root, "git", args...); err != nil {
			return nil, err
		}
	}
	if _, err := run(root, ecp, "--root", root, "compile", "--all"); err != nil {
		return nil, err
	}
	s := &ecpServer{root: root, ecp: ecp}
	// A CLI without `token` fails here; the server then runs without auth.
	if out, err := run(root, ecp, "--root", root, "token", "create", "--name", "sdk-tests", "--role", "admin", "--format", "json"); err == nil {
		var minted struct {
			Token string `json:"token"`
		}
		if json.Unmarshal([]byte(out), &minted) == nil {
			s.token = minted.Token
		}
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	s.baseURL = fmt.Sprintf("http://127.0.0.1:%d/api/v1", s.port)
	return s, s.start()
}

func (s *ecpServer) start() error {
	log, err := os.OpenFile(filepath.Join(s.root, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	s.cmd = exec.Command(s.ecp, "--root", s.root, "serve", "--host", "127.0.0.1",
		"--port", fmt.Sprint(s.port), "--log-level", "warning")
	s.cmd.Dir, s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.root, cleanEnv(), log, log
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() { _ = s.cmd.Wait(); close(exited) }()
	health := fmt.Sprintf("http://127.0.0.1:%d/health", s.port)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return fmt.Errorf("ecp serve exited; see %s/server.log", s.root)
		default:
		}
		if resp, err := http.Get(health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("ecp serve did not start in time")
}

func (s *ecpServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// restart stops the server and starts it again on the same port and workspace.
func (s *ecpServer) restart(t *testing.T) {
	t.Helper()
	s.stop()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}
