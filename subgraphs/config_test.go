package subgraphs

import (
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// parse decodes a "subgraphs" section over the defaults, as the config
// package does.
func parse(t *testing.T, src string) (Config, error) {
	t.Helper()
	var doc struct {
		Subgraphs Config `yaml:"subgraphs"`
	}
	doc.Subgraphs = DefaultConfig()
	if err := yaml.UnmarshalWithOptions([]byte(src), &doc, yaml.Strict()); err != nil {
		return Config{}, err
	}
	return doc.Subgraphs, doc.Subgraphs.Validate()
}

func TestConfigOverridesInherit(t *testing.T) {
	c, err := parse(t, `
subgraphs:
  all:
    timeout: 2s
    retry:
      attempts: 3
  overrides:
    products:
      url: http://products:4001/graphql
      retry:
        backoff: 10ms
      breaker:
        enabled: false
    reviews:
      timeout: 500ms
`)
	if err != nil {
		t.Fatal(err)
	}
	p := c.For("products")
	if p.URL != "http://products:4001/graphql" || p.Timeout != 2*time.Second || p.Retry.Attempts != 3 ||
		p.Retry.Backoff != 10*time.Millisecond || p.Retry.MaxBackoff != DefaultSettings().Retry.MaxBackoff || p.Breaker.Enabled {
		t.Errorf("products: %+v", p)
	}
	r := c.For("reviews")
	if r.Timeout != 500*time.Millisecond || r.Retry.Attempts != 3 || !r.Breaker.Enabled || r.URL != "" {
		t.Errorf("reviews: %+v", r)
	}
	a := c.For("accounts")
	if a.Timeout != 2*time.Second || a.MaxResponseBytes != 64<<20 {
		t.Errorf("accounts: %+v", a)
	}
}

// TestConfigIncludeErrors: subgraph errors are redacted unless a
// subgraph (or all) says otherwise.
func TestConfigIncludeErrors(t *testing.T) {
	if DefaultSettings().IncludeErrors {
		t.Error("include_errors is on by default")
	}
	for _, tc := range []struct {
		src                string
		products, accounts bool
	}{
		{"subgraphs:\n  overrides:\n    products:\n      include_errors: true\n", true, false},
		{"subgraphs:\n  all:\n    include_errors: true\n  overrides:\n    products:\n      include_errors: false\n", false, true},
		{"subgraphs:\n  all:\n    include_errors: true\n  overrides:\n    products:\n      timeout: 1s\n", true, true},
	} {
		c, err := parse(t, tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.For("products").IncludeErrors; got != tc.products {
			t.Errorf("%q: products %t, want %t", tc.src, got, tc.products)
		}
		if got := c.For("accounts").IncludeErrors; got != tc.accounts {
			t.Errorf("%q: accounts %t, want %t", tc.src, got, tc.accounts)
		}
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"subgraphs:\n  all:\n    timeout: 0s\n", "subgraphs.all.timeout: must be positive"},
		{"subgraphs:\n  all:\n    retry:\n      attempts: 0\n", "subgraphs.all.retry.attempts: 0 is not between 1 and 10"},
		{"subgraphs:\n  all:\n    url: http://x/\n", "subgraphs.all.url:"},
		{"subgraphs:\n  overrides:\n    products:\n      url: ftp://x\n", `subgraphs.overrides.products.url: "ftp://x" must be an http(s) URL`},
		{"subgraphs:\n  overrides:\n    products:\n      breaker:\n        failure_ratio: 2\n", "subgraphs.overrides.products.breaker.failure_ratio: 2 is not in (0, 1]"},
		{"subgraphs:\n  all:\n    health_check:\n      enabled: true\n      query: \"\"\n", "subgraphs.all.health_check.query: needs a query"},
		{"subgraphs:\n  all:\n    bulkhead:\n      max_concurrent: -1\n", "subgraphs.all.bulkhead.max_concurrent: must not be negative"},
		{"subgraphs:\n  all:\n    retry:\n      backoff: 1s\n      max_backoff: 10ms\n", "subgraphs.all.retry.max_backoff: must be at least retry.backoff"},
		{"subgraphs:\n  all:\n    timout: 1s\n", `subgraphs.all: [1:1] unknown field "timout"`},
		{"subgraphs:\n  overrides:\n    products:\n      retries: 2\n", `subgraphs.overrides.products: [1:1] unknown field "retries"`},
	} {
		_, err := parse(t, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.src, err, tc.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
