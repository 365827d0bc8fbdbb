package fedgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/fedgate/gateway/schema/compose"
)

var composeHelp = help{
	synopsis: "gateway compose --config SUPERGRAPH.YAML [-o FILE] [--timeout DURATION]",
	description: `Composes the subgraph schemas listed in a rover supergraph.yaml (each
subgraph a schema file, relative to the YAML file, or a subgraph_url asked
for _service { sdl }) into a supergraph SDL, with Apollo Federation v2's
composition rules and error codes. The SDL goes to -o or stdout; hints and
errors go to stderr, one a line with their codes, and composition errors
make the command fail (exit 1). "gateway serve --supergraph FILE" serves
the result.`,
	examples: `gateway compose --config subgraphs/demo/supergraph.yaml -o supergraph.graphql
gateway compose --config supergraph.yaml > supergraph.graphql`,
}

// composeCmd composes the subgraphs of a rover supergraph.yaml into a
// supergraph SDL, written to -o or stdout. Composition errors are printed
// one a line with their codes, and the command fails.
func composeCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compose", composeHelp)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "rover supergraph.yaml `FILE` listing the subgraphs")
	out := fs.String("o", "", "write the supergraph SDL to this `FILE` (default: stdout)")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for fetching subgraph_url schemas")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *config == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "gateway compose: want --config FILE (a rover supergraph.yaml) and no arguments")
		printShortUsage(fs)
		return errUsage
	}
	cfg, err := compose.ReadRoverConfig(*config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	subgraphs, err := cfg.Load(ctx, filepath.Dir(*config), &http.Client{Timeout: *timeout})
	if err != nil {
		return err
	}
	res, err := compose.Compose(subgraphs)
	if err != nil {
		var list compose.Errors
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintf(stderr, "error[%s]: %s\n", e.Code, e.Message)
			}
			return fmt.Errorf("composition failed with %d error(s)", len(list))
		}
		return err
	}
	for _, h := range res.Hints {
		fmt.Fprintf(stderr, "hint[%s]: %s\n", h.Code, h.Message)
	}
	if *out == "" {
		_, err = io.WriteString(stdout, res.SDL)
		return err
	}
	if err := os.WriteFile(*out, []byte(res.SDL), 0o644); err != nil {
		return fmt.Errorf("write supergraph: %w", err)
	}
	return nil
}
