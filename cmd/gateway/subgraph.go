package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedgate/gateway/subgraphs/registry"
)

const subgraphHelp = `Talks to the schema registry's admin API of a running gateway
(registry.enabled; docs/registry.md).

  publish   compose the subgraph with the registered ones and serve it;
            refused on composition errors, and on breaking changes of the
            API schema unless --force
  check     the same checks, publishing nothing
  list      the registered subgraphs and the current version
  delete    remove a subgraph (breaking for its fields: needs --force)
  history   the supergraph versions
  rollback  publish again the subgraphs of --version

Exit status: 0 ok, 1 the check failed (composition errors or breaking
changes), 2 bad usage, connection error or refused token.`

// errCheckFailed is a publish or check the registry refused (exit 1).
var errCheckFailed = errors.New("check failed")

func subgraphCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("subgraph", "gateway subgraph publish|check|list|delete|history|rollback [flags]", subgraphHelp)
	fs.SetOutput(stderr)
	admin := fs.String("admin", envOr("FEDGATE_ADMIN_URL", "http://127.0.0.1:4001"), "admin API base URL (env FEDGATE_ADMIN_URL)")
	token := fs.String("token", "", "admin token (default: env FEDGATE_ADMIN_TOKEN)")
	name := fs.String("name", "", "subgraph name")
	routingURL := fs.String("url", "", "subgraph routing URL")
	schemaFile := fs.String("schema", "", "subgraph SDL file ('-' for stdin)")
	introspect := fs.Bool("introspect", false, "fetch the SDL from --url with `_service { sdl }`")
	force := fs.Bool("force", false, "accept breaking changes")
	version := fs.Int64("version", 0, "version to roll back to")
	asJSON := fs.Bool("json", false, "print the admin API's JSON answer")
	timeout := fs.Duration("timeout", time.Minute, "time limit of the request")
	if len(args) == 0 {
		fs.Usage()
		return errUsage
	}
	action, rest := args[0], args[1:]
	if action == "-h" || action == "--help" {
		fs.Usage()
		return flag.ErrHelp
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "subgraph %s: %s\n", action, fmt.Sprintf(format, a...))
		return errUsage
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
		return usageErr("unknown action (want publish, check, list, delete, history or rollback)")
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
			return errCheckFailed
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
	switch {
	case out.Message != "":
		fmt.Fprintf(w, "%s: %s\n", action, out.Message)
	case out.Published:
		fmt.Fprintf(w, "%s: published; serving version %d\n", action, out.Version)
	default:
		fmt.Fprintf(w, "%s: ok (%d change(s), %d breaking)\n", action, len(out.Changes), out.Breaking)
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
