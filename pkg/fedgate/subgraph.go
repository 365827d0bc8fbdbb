package fedgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedgate/gateway/schema/compose"
	"github.com/fedgate/gateway/subgraphs/registry"
)

var subgraphHelp = help{
	synopsis: `gateway subgraph publish|check --name NAME --url URL (--schema FILE | --introspect) [--force]
gateway subgraph publish|check --config SUPERGRAPH.YAML [--force]
gateway subgraph list|history
gateway subgraph delete --name NAME [--force]
gateway subgraph rollback --version N`,
	description: `Talks to the schema registry's admin API of a running gateway
(registry.enabled; docs/registry.md).

  publish   compose the subgraph with the registered ones and serve it;
            refused on composition errors, and on breaking changes of the
            API schema unless --force. With --config, every subgraph of a
            rover supergraph.yaml is published as one version, composed
            together (seeding an empty registry: the order does not matter)
  check     the same checks, publishing nothing
  list      the registered subgraphs and the current version
  delete    remove a subgraph (breaking for its fields: needs --force)
  history   the supergraph versions
  rollback  publish again the subgraphs of --version

The first version of an empty registry is never a breaking change; it
replaces the supergraph the gateway served until then.

Exit status: 0 ok, 1 the check failed (composition errors or breaking
changes), 2 bad usage, connection error or refused token.`,
	examples: `export FEDGATE_ADMIN_TOKEN=...           # registry.token
gateway subgraph publish --config subgraphs/demo/supergraph.yaml   # seed from a rover supergraph.yaml
gateway subgraph check --name accounts --url http://accounts:4001/graphql --schema accounts.graphql
gateway subgraph publish --name accounts --url http://accounts:4001/graphql --introspect
gateway subgraph list
gateway subgraph delete --name reviews --force
gateway subgraph rollback --version 4`,
}

// subgraphActions are the actions of gateway subgraph.
var subgraphActions = []string{"publish", "check", "list", "history", "delete", "rollback"}

// errCheckFailed is a publish or check the registry refused (exit 1).
var errCheckFailed = errors.New("refused by the registry")

func subgraphCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("subgraph", subgraphHelp)
	fs.SetOutput(stderr)
	admin := fs.String("admin", envOr("FEDGATE_ADMIN_URL", "http://127.0.0.1:4001"), "admin API base `URL` (env FEDGATE_ADMIN_URL)")
	token := fs.String("token", "", "admin `TOKEN` (default: env FEDGATE_ADMIN_TOKEN)")
	name := fs.String("name", "", "subgraph `NAME`")
	routingURL := fs.String("url", "", "subgraph routing `URL`")
	schemaFile := fs.String("schema", "", "subgraph SDL `FILE` ('-' for stdin)")
	introspect := fs.Bool("introspect", false, "fetch the SDL from --url (the query { _service { sdl } })")
	roverConfig := fs.String("config", "", "publish or check every subgraph of this rover supergraph.yaml `FILE` as one version")
	force := fs.Bool("force", false, "accept breaking changes")
	version := fs.Int64("version", 0, "`N`, the version to roll back to")
	asJSON := fs.Bool("json", false, "print the admin API's JSON answer")
	timeout := fs.Duration("timeout", time.Minute, "time limit of the request")
	if len(args) == 0 {
		fmt.Fprintln(stderr, "gateway subgraph: want an action: publish, check, list, history, delete or rollback")
		printShortUsage(fs)
		return errUsage
	}
	action, rest := args[0], args[1:]
	if action == "-h" || action == "--help" || action == "-help" {
		fs.SetOutput(stdout)
		fs.Usage()
		return flag.ErrHelp
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "gateway subgraph %s: %s\n", action, fmt.Sprintf(format, a...))
		return errUsage
	}
	if !slices.Contains(subgraphActions, action) {
		// Before the flags and the token: the mistake is the action.
		return usageErr("unknown action (want %s)", strings.Join(subgraphActions, ", "))
	}
	if err := parse(fs, rest, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *token == "" {
		*token = os.Getenv("FEDGATE_ADMIN_TOKEN")
	}
	if *token == "" {
		return usageErr("an admin token is required: --token or FEDGATE_ADMIN_TOKEN")
	}
	base := strings.TrimRight(*admin, "/")
	var method, path string
	var body any
	switch action {
	case "publish", "check":
		if *roverConfig != "" {
			if *name != "" || *routingURL != "" || *schemaFile != "" || *introspect {
				return usageErr("--config publishes the subgraphs of the file: not with --name, --url, --schema or --introspect")
			}
			set, err := roverSubgraphs(*roverConfig, *timeout)
			if err != nil {
				fmt.Fprintf(stderr, "subgraph %s: %v\n", action, err)
				return errUsage
			}
			method, path, body = http.MethodPost, "/supergraph/"+action, map[string]any{"subgraphs": set}
			if action == "publish" && *force {
				path += "?force=true"
			}
			break
		}
		if *name == "" || *routingURL == "" {
			return usageErr("--name and --url are required")
		}
		if (*schemaFile == "") == !*introspect {
			return usageErr("give exactly one of --schema FILE and --introspect")
		}
		b := map[string]any{"url": *routingURL}
		if *introspect {
			b["introspect"] = true
		} else {
			sdl, err := readSchema(*schemaFile)
			if err != nil {
				return usageErr("%v", err)
			}
			b["sdl"] = sdl
		}
		method, path, body = http.MethodPost, "/subgraphs/"+url.PathEscape(*name), b
		if action == "check" {
			path += "/check"
		} else if *force {
			path += "?force=true"
		}
	case "list":
		method, path = http.MethodGet, "/subgraphs"
	case "history":
		method, path = http.MethodGet, "/supergraph/history"
	case "delete":
		if *name == "" {
			return usageErr("--name is required")
		}
		method, path = http.MethodDelete, "/subgraphs/"+url.PathEscape(*name)
		if *force {
			path += "?force=true"
		}
	case "rollback":
		if *version < 1 {
			return usageErr("--version N is required")
		}
		method, path, body = http.MethodPost, "/supergraph/rollback", map[string]any{"version": *version}
	default:
		return usageErr("unknown action (want %s)", strings.Join(subgraphActions, ", "))
	}
	client := &http.Client{Timeout: *timeout}
	status, data, err := adminRequest(client, method, base+path, *token, body)
	if err != nil {
		fmt.Fprintf(stderr, "subgraph %s: %v\n", action, err)
		return errUsage
	}
	if *asJSON {
		stdout.Write(data)
	}
	switch {
	case status == http.StatusOK && (action == "list" || action == "history"):
		if !*asJSON {
			return printListing(stdout, action, data)
		}
		return nil
	case status == http.StatusOK || status == http.StatusConflict || status == http.StatusUnprocessableEntity:
		var out registry.Outcome
		if err := json.Unmarshal(data, &out); err != nil {
			fmt.Fprintf(stderr, "subgraph %s: HTTP %d: %s\n", action, status, bytes.TrimSpace(data))
			return errUsage
		}
		if !*asJSON {
			printOutcome(stdout, action, &out)
		}
		if !out.OK {
			return fmt.Errorf("subgraph %s: %w", action, errCheckFailed)
		}
		return nil
	default:
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(data, &e)
		fmt.Fprintf(stderr, "subgraph %s: HTTP %d %s: %s\n", action, status, e.Error.Code, e.Error.Message)
		return errUsage
	}
}

// roverSubgraphs reads a rover supergraph.yaml and its subgraph schemas
// (files, or subgraph_url asked for _service { sdl }) for a set publish.
func roverSubgraphs(path string, timeout time.Duration) ([]map[string]string, error) {
	cfg, err := compose.ReadRoverConfig(path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	subs, err := cfg.Load(ctx, filepath.Dir(path), &http.Client{Timeout: timeout})
	if err != nil {
		return nil, err
	}
	set := make([]map[string]string, len(subs))
	for i, s := range subs {
		set[i] = map[string]string{"name": s.Name, "url": s.URL, "sdl": s.SDL}
	}
	return set, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func readSchema(path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--schema: %w", err)
	}
	return string(data), nil
}

func adminRequest(client *http.Client, method, target, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		return 0, nil, fmt.Errorf("--admin: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("admin API: %w", err)
	}
	return resp.StatusCode, data, nil
}

func printOutcome(w io.Writer, action string, out *registry.Outcome) {
	for _, e := range out.Errors {
		where := e.Coordinate
		if e.Subgraph != "" {
			where = e.Subgraph + " " + where
		}
		fmt.Fprintf(w, "error[%s] %s: %s\n", e.Code, strings.TrimSpace(where), e.Message)
	}
	for _, c := range out.Changes {
		fmt.Fprintf(w, "%-9s %s: %s\n", c.Severity, c.Coordinate, c.Message)
	}
	msg := out.Message
	if !out.OK && out.Breaking > 0 && len(out.Errors) == 0 {
		// The admin API's message names its own force parameter.
		msg = fmt.Sprintf("refused: %d breaking change(s); run it again with --force to accept them", out.Breaking)
		if action == "check" {
			msg = fmt.Sprintf("%d breaking change(s); a publish needs --force", out.Breaking)
		}
	}
	switch {
	case out.Published:
		fmt.Fprintf(w, "%s: published; serving version %d\n", action, out.Version)
	case out.OK && (action == "check" || msg == ""):
		fmt.Fprintf(w, "%s: ok (%d change(s), %d breaking)\n", action, len(out.Changes), out.Breaking)
	default:
		fmt.Fprintf(w, "%s: %s\n", action, msg)
		msg = ""
	}
	if msg != "" {
		fmt.Fprintf(w, "%s: %s\n", action, msg)
	}
}

func printListing(w io.Writer, action string, data []byte) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	if action == "list" {
		var l struct {
			Version   int64
			Subgraphs []registry.Subgraph
		}
		if err := json.Unmarshal(data, &l); err != nil {
			return fmt.Errorf("admin API answer: %w", err)
		}
		fmt.Fprintf(tw, "version %d\nNAME\tREVISION\tURL\tUPDATED\n", l.Version)
		for _, s := range l.Subgraphs {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.Name, s.Revision, s.URL, s.UpdatedAt.Format(time.RFC3339))
		}
		return nil
	}
	var h struct {
		Versions []struct {
			Version   int64
			CreatedAt time.Time `json:"created_at"`
			Reason    string
			Current   bool
		}
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return fmt.Errorf("admin API answer: %w", err)
	}
	fmt.Fprintln(tw, "VERSION\tCREATED\tREASON\t")
	for _, v := range h.Versions {
		cur := ""
		if v.Current {
			cur = "(current)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.CreatedAt.Format(time.RFC3339), v.Reason, cur)
	}
	return nil
}
