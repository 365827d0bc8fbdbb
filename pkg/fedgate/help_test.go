package fedgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/golden"
)

// TestMain runs main itself when GATEWAY_TEST_MAIN is set, so tests can
// check what the binary prints and its exit status without building it.
func TestMain(m *testing.M) {
	if os.Getenv("GATEWAY_TEST_MAIN") == "1" {
		os.Args = append([]string{"gateway"}, os.Args[1:]...)
		Main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs `gateway args...` and returns its stdout, stderr and exit
// status.
func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runMainEnv(t, nil, args...)
}

// runMainEnv is runMain with env added to the process's environment.
func runMainEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "GATEWAY_TEST_MAIN=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// flagLine is a flag in the help: --name, then an upper-case argument
// name or nothing.
var flagLine = regexp.MustCompile(`^  --?([a-z][a-z-]*)( (.*))?$`)

var argName = regexp.MustCompile(`^[A-Z][A-Z_.=]*$`)

// TestCommandHelp: every command's help is on stdout, exit 0, with a
// synopsis, a description, its flags (each with a plain argument name)
// and examples, the same for "gateway help NAME", "gateway NAME --help"
// and "-h".
func TestCommandHelp(t *testing.T) {
	var names []string
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var first string
			for _, args := range [][]string{{"help", name}, {name, "--help"}, {name, "-h"}} {
				stdout, stderr, code := runMain(t, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("gateway %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
				}
				if first == "" {
					first = stdout
				} else if stdout != first {
					t.Errorf("gateway %s prints another help than gateway help %s", strings.Join(args, " "), name)
				}
			}
			if !strings.HasPrefix(first, "Usage:\n  gateway "+name+" ") {
				t.Errorf("help does not start with the synopsis:\n%s", first)
			}
			if _, examples, ok := strings.Cut(first, "\nExamples:\n"); !ok || !strings.Contains(examples, "  gateway "+name+" ") {
				t.Errorf("help has no examples of gateway %s:\n%s", name, first)
			}
			_, flags, _ := strings.Cut(first, "\nFlags:\n")
			flags, _, _ = strings.Cut(flags, "\nExamples:\n")
			n := 0
			for _, line := range strings.Split(flags, "\n") {
				m := flagLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n++
				if m[3] != "" && !argName.MatchString(m[3]) {
					t.Errorf("flag --%s reads as taking %q", m[1], m[3])
				}
			}
			if n == 0 {
				t.Errorf("no flags listed:\n%s", first)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata/cli")

// TestCLIGolden: what the command line prints, on which stream, and its
// exit status, for help and for the usage mistakes a newcomer makes,
// against testdata/cli/NAME.txt (-update rewrites them). A mistake says
// what was wrong and where the help is, on stderr, and exits 2; it does
// not bury the mistake under the whole help.
func TestCLIGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"help", []string{"help"}},
		{"help-serve", []string{"help", "serve"}},
		{"help-demo", []string{"help", "demo"}},
		{"help-plan", []string{"help", "plan"}},
		{"help-compose", []string{"help", "compose"}},
		{"help-subgraph", []string{"help", "subgraph"}},
		{"help-version", []string{"help", "version"}},
		{"no-command", nil},
		{"unknown-command", []string{"nosuch"}},
		{"mistyped-command", []string{"serv"}},
		{"dashed-command", []string{"--demo"}},
		{"help-unknown", []string{"help", "sever"}},
		{"serve-unknown-flag", []string{"serve", "--supergrahp", "x.graphql"}},
		{"serve-flag-without-value", []string{"serve", "--listen"}},
		{"serve-bad-subgraph-url", []string{"serve", "--subgraph-url", "products"}},
		{"compose-without-config", []string{"compose"}},
		{"compose-unknown-flag", []string{"compose", "--nosuch"}},
		{"plan-without-query", []string{"plan"}},
		{"subgraph-without-action", []string{"subgraph"}},
		{"subgraph-unknown-action", []string{"subgraph", "pubish", "--name", "a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runMainEnv(t, []string{"GOMAXPROCS=1", "FEDGATE_ADMIN_URL=", "FEDGATE_ADMIN_TOKEN="}, tt.args...)
			got := fmt.Sprintf("$ gateway %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(tt.args, " "), code, stdout, stderr)
			golden.Check(t, filepath.Join("testdata", "cli", tt.name+".txt"), []byte(got), *update, nil)
			if strings.HasPrefix(tt.name, "help") && tt.name != "help-unknown" {
				if code != 0 || stderr != "" {
					t.Errorf("help: exit %d, stderr %q", code, stderr)
				}
				return
			}
			if code != 2 || stdout != "" || stderr == "" {
				t.Errorf("a mistake: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if lines := strings.Count(stderr, "\n"); lines > 10 && tt.name != "no-command" {
				t.Errorf("a mistake takes %d lines of stderr; the mistake scrolls away:\n%s", lines, stderr)
			}
		})
	}
}

// TestHelpFlagsValue: the subgraph command's --introspect takes no value
// and its help does not read as if it did.
func TestHelpFlagsValue(t *testing.T) {
	var stdout bytes.Buffer
	if err := subgraphCmd([]string{"publish", "--help"}, &stdout, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(stdout.String(), "  --introspect\n") {
		t.Errorf("--introspect line:\n%s", stdout.String())
	}
}

// TestVersion: gateway version prints the build on one line, and as JSON
// with --json; the serve and demo start-up log has the same.
func TestVersion(t *testing.T) {
	stdout, stderr, code := runMain(t, "version")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "fedgate ") || !strings.HasSuffix(stdout, " "+runtime.Version()+"\n") {
		t.Errorf("gateway version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = runMain(t, "version", "--json")
	var b buildInfo
	if err := json.Unmarshal([]byte(stdout), &b); code != 0 || err != nil || b.Go != runtime.Version() || b.Version == "" {
		t.Errorf("gateway version --json: exit %d, %v, %q", code, err, stdout)
	}
	if _, stderr, code := runMain(t, "version", "extra"); code != 2 || !strings.Contains(stderr, "unexpected argument") {
		t.Errorf("gateway version extra: exit %d, stderr %q", code, stderr)
	}
}
