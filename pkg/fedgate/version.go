package fedgate

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

var versionHelp = help{
	synopsis: "gateway version [--json]",
	description: `Prints which build this binary is: the module version, the commit it
was built from (with "+dirty" when the work tree had changes) and when,
and the Go version. "gateway serve" and "gateway demo" log the same at
start. A build without the repository's .git (go run, the Docker image)
has no commit.`,
	examples: `gateway version
gateway version --json`,
}

// buildInfo is what the binary knows of its own build.
type buildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Go       string `json:"go"`
}

// readBuildInfo reads the version and the VCS stamp Go records in the
// binary (go build in a git checkout; not go run, nor a copy without .git).
func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := bi.Main.Version; v != "" {
		b.Version = v
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.Revision != "" {
		b.Revision += "+dirty"
	}
	return b
}

// String is the one-line form: fedgate (devel) 0123abcd+dirty 2026-12-07T13:00:00Z go1.26.
func (b buildInfo) String() string {
	s := "fedgate " + b.Version
	if b.Revision != "" {
		s += " " + b.Revision
	}
	if b.Time != "" {
		s += " " + b.Time
	}
	return s + " " + b.Go
}

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", versionHelp)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the build as JSON")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway version: unexpected argument %q\n", fs.Arg(0))
		printShortUsage(fs)
		return errUsage
	}
	b := readBuildInfo()
	if *asJSON {
		out, _ := json.Marshal(b)
		_, err := fmt.Fprintln(stdout, string(out))
		return err
	}
	_, err := fmt.Fprintln(stdout, b.String())
	return err
}
