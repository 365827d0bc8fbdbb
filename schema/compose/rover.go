package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// RoverConfig is rover's supergraph.yaml: the subgraphs to compose.
type RoverConfig struct {
	// FederationVersion is "2", "=2.x.y" or "2.x"; Federation 1
	// composition is not supported (Federation 1 subgraphs are, under it).
	FederationVersion string `yaml:"federation_version"`
	// Subgraphs maps a subgraph name to where its schema is.
	Subgraphs map[string]RoverSubgraph `yaml:"subgraphs"`
}

// RoverSubgraph is one subgraph of a supergraph.yaml.
type RoverSubgraph struct {
	RoutingURL string      `yaml:"routing_url"`
	Schema     RoverSchema `yaml:"schema"`
}

// RoverSchema says where a subgraph schema is: a file (relative to the
// supergraph.yaml) or a running subgraph asked for `_service { sdl }`.
type RoverSchema struct {
	File        string            `yaml:"file"`
	SubgraphURL string            `yaml:"subgraph_url"`
	Headers     map[string]string `yaml:"introspection_headers"`
}

// ReadRoverConfig reads and validates a supergraph.yaml.
func ReadRoverConfig(path string) (*RoverConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("supergraph config: %w", err)
	}
	var c RoverConfig
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("supergraph config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("supergraph config %s: %w", path, err)
	}
	return &c, nil
}

// Validate checks the federation version and that every subgraph names
// exactly one schema source.
func (c *RoverConfig) Validate() error {
	v := strings.TrimPrefix(strings.TrimSpace(c.FederationVersion), "=")
	if v != "" && v != "2" && !strings.HasPrefix(v, "2.") {
		return fmt.Errorf("federation_version: %q is not supported (want 2 or =2.x.y)", c.FederationVersion)
	}
	if len(c.Subgraphs) == 0 {
		return fmt.Errorf("subgraphs: at least one subgraph is needed")
	}
	for _, name := range c.names() {
		sg := c.Subgraphs[name]
		switch {
		case sg.Schema.File == "" && sg.Schema.SubgraphURL == "":
			return fmt.Errorf("subgraphs.%s.schema: needs file or subgraph_url", name)
		case sg.Schema.File != "" && sg.Schema.SubgraphURL != "":
			return fmt.Errorf("subgraphs.%s.schema: file and subgraph_url are exclusive", name)
		case sg.RoutingURL == "" && sg.Schema.SubgraphURL == "":
			return fmt.Errorf("subgraphs.%s.routing_url: missing", name)
		}
	}
	return nil
}

func (c *RoverConfig) names() []string {
	names := make([]string, 0, len(c.Subgraphs))
	for name := range c.Subgraphs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Load reads every subgraph schema, in subgraph name order. Files are
// relative to dir; subgraph_url schemas are fetched with client.
func (c *RoverConfig) Load(ctx context.Context, dir string, client *http.Client) ([]Subgraph, error) {
	var out []Subgraph
	for _, name := range c.names() {
		sg := c.Subgraphs[name]
		url := sg.RoutingURL
		if url == "" {
			url = sg.Schema.SubgraphURL
		}
		var sdl string
		if sg.Schema.File != "" {
			path := sg.Schema.File
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("subgraph %s: %w", name, err)
			}
			sdl = string(data)
		} else {
			var err error
			if sdl, err = FetchSDL(ctx, client, sg.Schema.SubgraphURL, sg.Schema.Headers); err != nil {
				return nil, fmt.Errorf("subgraph %s: %w", name, err)
			}
		}
		out = append(out, Subgraph{Name: name, URL: url, SDL: sdl})
	}
	return out, nil
}

// FetchSDL asks a running subgraph for its schema with `{ _service { sdl } }`.
func FetchSDL(ctx context.Context, client *http.Client, url string, headers map[string]string) (string, error) {
	body := []byte(`{"query":"query SubgraphIntrospectQuery { _service { sdl } }"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("fetch schema: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch schema: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return "", fmt.Errorf("fetch schema from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch schema from %s: HTTP %d", url, resp.StatusCode)
	}
	var result struct {
		Data struct {
			Service *struct {
				SDL string `json:"sdl"`
			} `json:"_service"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &result); err != nil {
		return "", fmt.Errorf("fetch schema from %s: %w", url, err)
	}
	if len(result.Errors) > 0 {
		return "", fmt.Errorf("fetch schema from %s: %s", url, result.Errors[0].Message)
	}
	if result.Data.Service == nil || result.Data.Service.SDL == "" {
		return "", fmt.Errorf("fetch schema from %s: no _service.sdl in the answer", url)
	}
	return result.Data.Service.SDL, nil
}
