package fedgate

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
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
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GATEWAY_TEST_MAIN=1")
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

// TestUsageMistakes: a mistake prints on stderr, nothing on stdout, and
// exits 2.
func TestUsageMistakes(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuch"},
		{"help", "nosuch"},
		{"compose"},
		{"compose", "--nosuch"},
		{"plan"},
		{"serve", "--listen"},
		{"subgraph"},
	} {
		stdout, stderr, code := runMain(t, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "Usage:") {
			t.Errorf("gateway %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, stdout, stderr)
		}
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
