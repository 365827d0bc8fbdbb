package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fedgate/gateway/config"
)

// goTestCommand is a `go test` command line the documentation shows, in
// a code span or a line of a fenced block (skipped blocks too: they are
// not run, so nothing else sees a package that moved or a test renamed).
type goTestCommand struct {
	where string // file:line
	line  string
}

var (
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	goTestLine = regexp.MustCompile(`(?:^|\s)go test(\s.*)?$`)
	// commandSeparator separates the commands of a line: | || && ;
	commandSeparator = regexp.MustCompile(`\s(?:\|\||\||&&)\s|;\s`)
)

// docGoTestCommands returns the go test commands of a Markdown file.
func docGoTestCommands(path string) ([]goTestCommand, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []goTestCommand
	inFence := false
	for i, l := range strings.Split(string(data), "\n") {
		where := fmt.Sprintf("%s:%d", filepath.Base(path), i+1)
		if strings.HasPrefix(l, "```") {
			inFence = !inFence
			continue
		}
		var candidates []string
		if inFence {
			candidates = []string{strings.TrimSpace(strings.SplitN(l, " #", 2)[0])}
		} else {
			for _, m := range codeSpan.FindAllStringSubmatch(l, -1) {
				candidates = append(candidates, m[1])
			}
		}
		for _, c := range candidates {
			// Only the go test part of a pipeline or a command list
			// (a | in a quoted -run pattern has no blanks around it).
			for _, part := range commandSeparator.Split(c, -1) {
				if m := goTestLine.FindString(part); m != "" {
					out = append(out, goTestCommand{where: where, line: strings.TrimSpace(m)})
				}
			}
		}
	}
	return out, nil
}

// shellWords splits a command line as the shell would for these
// commands: blanks separate words, single and double quotes group.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// testFuncs returns the names of the Test, Fuzz, Example and Benchmark
// functions declared in a package directory's _test.go files (every build
// tag's), or an error when it has none.
func testFuncs(dir string) ([]string, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no test files", dir)
	}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Example|Benchmark)\w*)\(`)
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range decl.FindAllSubmatch(data, -1) {
			names = append(names, string(m[1]))
		}
	}
	return names, nil
}

// checkGoTest says what is wrong with one documented go test command:
// a package directory without tests, or a -run or -bench pattern that no
// test or benchmark of its packages matches (go test then passes having
// run nothing).
func checkGoTest(root, line string) []string {
	words := shellWords(line)
	var pkgs []string
	var run, bench string
	for i := 2; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-run" || w == "-bench":
			if i+1 < len(words) {
				if w == "-run" {
					run = words[i+1]
				} else {
					bench = words[i+1]
				}
				i++
			}
		case strings.HasPrefix(w, "-run="):
			run = strings.TrimPrefix(w, "-run=")
		case strings.HasPrefix(w, "-bench="):
			bench = strings.TrimPrefix(w, "-bench=")
		case strings.HasPrefix(w, "-"):
			// Flags with a value the commands use (-count 6, -o FILE,
			// -tags attack, -timeout 40m, -benchtime 10x, -cpu 1, -fuzztime).
			switch strings.TrimLeft(w, "-") {
			case "count", "o", "tags", "timeout", "benchtime", "cpu", "fuzztime", "fuzz", "p", "parallel":
				i++
			}
		case strings.HasPrefix(w, "./"):
			pkgs = append(pkgs, w)
		}
	}
	var problems []string
	var all []string
	for _, p := range pkgs {
		if strings.HasSuffix(p, "/...") {
			continue // every package below: nothing to pin
		}
		names, err := testFuncs(filepath.Join(root, p))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v (go test reports [no test files] and passes)", p, err))
			continue
		}
		all = append(all, names...)
	}
	if len(problems) > 0 || len(all) == 0 {
		return problems
	}
	match := func(flag, pattern, prefix string) {
		if pattern == "" || pattern == "^$" || pattern == "XXX" || pattern == "." {
			return
		}
		top, _, _ := strings.Cut(pattern, "/") // subtests: the top level names a function
		re, err := regexp.Compile(top)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: %v", flag, pattern, err))
			return
		}
		for _, n := range all {
			if strings.HasPrefix(n, prefix) && re.MatchString(n) {
				return
			}
		}
		problems = append(problems, fmt.Sprintf("%s %q matches no %s function of %s (go test passes having run nothing)",
			flag, pattern, prefix, strings.Join(pkgs, " ")))
	}
	match("-run", run, "Test")
	match("-bench", bench, "Benchmark")
	return problems
}

// TestDocGoTestCommands: every go test command the README and docs/*.md
// show names packages that have tests, and a -run or -bench pattern that
// matches one of them. A package that moved or a test renamed otherwise
// leaves a command that passes having run nothing (the README pointed at
// `go test ./cmd/gateway -run BuildBudget`, a package without tests, for
// the build budget test of pkg/fedgate).
func TestDocGoTestCommands(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	docs = append([]string{filepath.Join(repoRoot, "README.md")}, docs...)
	n := 0
	for _, doc := range docs {
		cmds, err := docGoTestCommands(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			n++
			for _, p := range checkGoTest(repoRoot, c.line) {
				t.Errorf("%s: %s: %s", c.where, c.line, p)
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d go test commands in the docs; the extraction is broken", n)
	}
}

// TestCheckGoTest: the check refuses what it is for and accepts the
// forms the docs use.
func TestCheckGoTest(t *testing.T) {
	for _, tt := range []struct {
		line string
		ok   bool
	}{
		{"go test ./pkg/fedgate -run BuildBudget", true},
		{"go test ./cmd/gateway -run BuildBudget", false},        // no test files
		{"go test ./pkg/fedgate -run NoSuchTestAnywhere", false}, // matches nothing
		{"go test ./e2e -run 'TestDefer(PartsArriveWhenReady|NoEmptyPayloads)'", true},
		{"go test -run XXX -bench FanOut ./subscriptions", true},
		{"go test -run XXX -bench NoSuchBench ./subscriptions", false},
		{"go test ./nosuchdir", false},
		{"go test -race ./...", true},
		{"go test ./e2e -run DocCommands/README.md", true},
	} {
		if got := checkGoTest(repoRoot, tt.line); (len(got) == 0) != tt.ok {
			t.Errorf("%s: problems %q, want ok=%v", tt.line, got, tt.ok)
		}
	}
	if got := shellWords(`go test ./e2e -run '^$' -bench "A B"`); strings.Join(got, "|") != "go|test|./e2e|-run|^$|-bench|A B" {
		t.Errorf("shellWords: %q", got)
	}
}

// TestDocDefaults: the addresses the README and the docs give for the
// listeners are the configuration's defaults.
func TestDocDefaults(t *testing.T) {
	d := config.Default()
	prom := d.Telemetry.Metrics.Prometheus
	for _, tt := range []struct{ file, says string }{
		{"README.md", "http://" + prom.Listen + prom.Path},                          // metrics
		{"README.md", "http://localhost:" + strings.Split(d.Server.Listen, ":")[1]}, // make run's address
		{"docs/registry.md", "(default `" + d.Registry.Listen + "`)"},               // admin API
		{"docs/config.md", "| `server.listen` | `" + d.Server.Listen + "` |"},
		{"docs/deployment.md", "defaults to `" + prom.Listen + "`"},
	} {
		data, err := os.ReadFile(filepath.Join(repoRoot, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tt.says) {
			t.Errorf("%s does not say %q, the default", tt.file, tt.says)
		}
	}
}
