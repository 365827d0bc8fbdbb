package fedgate

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// help is a command's help text: `gateway help NAME` and `gateway NAME
// --help` print it on stdout, a usage mistake prints it on stderr.
type help struct {
	// synopsis is the command line, one form a line.
	synopsis string
	// description says what the command does.
	description string
	// examples are command lines, one a line, with # comments.
	examples string
}

// newFlags returns a flag set whose usage prints h and the flags. parse
// decides where it goes.
func newFlags(name string, h help) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() { printHelp(fs.Output(), fs, h) }
	return fs
}

func printHelp(w io.Writer, fs *flag.FlagSet, h help) {
	fmt.Fprintf(w, "Usage:\n%s\n\n%s\n", indent(h.synopsis), strings.TrimSpace(h.description))
	if fs != nil {
		fmt.Fprintf(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	if h.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", indent(h.examples))
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + strings.TrimSpace(l)
		}
	}
	return strings.Join(lines, "\n")
}

// printFlags lists the flags as the docs write them: --name VALUE, then
// the usage and the default when it is not the zero value.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name
		}
		if arg != "" {
			line += " " + strings.ToUpper(arg)
		}
		switch f.DefValue {
		case "", "false", "0", "0s", "map[]":
		default:
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// parse parses args. Asked for help (-h, --help), it prints the usage on
// stdout and returns flag.ErrHelp; a mistake is printed on the flag set's
// output (stderr), with the synopsis and where the full help is, and
// returns errUsage.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
		return err
	default:
		fmt.Fprintf(out, "gateway %s: %s\n", fs.Name(), flagDashes.ReplaceAllString(err.Error(), "$1--$2"))
		printShortUsage(fs)
		return errUsage
	}
}

// flagDashes finds a long flag's name as the flag package writes it in its
// errors (-listen); the help and the docs write --listen.
var flagDashes = regexp.MustCompile(`(^|[\s:])-([a-z][a-z-]+)`)

// printShortUsage prints, after a usage mistake, the command's synopsis
// and the command that prints the rest: the whole help, flags and
// examples, would push the mistake off the screen.
func printShortUsage(fs *flag.FlagSet) {
	var buf bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&buf)
	fs.Usage()
	fs.SetOutput(out)
	synopsis, _, _ := strings.Cut(buf.String(), "\n\n")
	fmt.Fprintf(out, "%s\n\nRun \"gateway help %s\" for its flags and examples.\n", synopsis, fs.Name())
}
