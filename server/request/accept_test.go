package request

import "testing"

func TestResponseType(t *testing.T) {
	tests := []struct {
		accept, want string
	}{
		{"", JSON},
		{"*/*", JSON},
		{"application/*", JSON},
		{"application/json", JSON},
		{"application/graphql-response+json", GraphQLResponseJSON},
		{"application/graphql-response+json, application/json", GraphQLResponseJSON},
		{"application/json, application/graphql-response+json", GraphQLResponseJSON},
		{"application/graphql-response+json;charset=utf-8", GraphQLResponseJSON},
		{"Application/GraphQL-Response+JSON", GraphQLResponseJSON},
		{"application/graphql-response+json, */*;q=0.5", GraphQLResponseJSON},
		{"application/graphql-response+json;q=0.9, application/json", JSON},
		{"application/graphql-response+json;q=0, */*", JSON},
		{"application/graphql-response+json;q=oops", JSON},
		{"text/html", JSON},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON},
	}
	for _, tt := range tests {
		if got := ResponseType(tt.accept); got != tt.want {
			t.Errorf("ResponseType(%q) = %s, want %s", tt.accept, got, tt.want)
		}
	}
}

func TestQuality(t *testing.T) {
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
	tests := []struct {
		accept, media string
		want          float64
	}{
		{"", "text/html", 1},
		{browser, "text/html", 1},
		{browser, "application/json", 0.8},
		{"text/*;q=0.3, text/html;q=0.7, */*;q=0.1", "text/html", 0.7},
		{"text/*;q=0.3, text/html;q=0.7, */*;q=0.1", "text/plain", 0.3},
		{"text/*;q=0.3, text/html;q=0.7, */*;q=0.1", "image/png", 0.1},
		{"text/html;q=0", "text/html", 0},
		{"application/json", "text/html", 0},
		{"text/html; level=1; q=0.5", "text/html", 0.5},
		{"text/html;q=2", "text/html", 0},
	}
	for _, tt := range tests {
		if got := Quality(tt.accept, tt.media); got != tt.want {
			t.Errorf("Quality(%q, %q) = %v, want %v", tt.accept, tt.media, got, tt.want)
		}
	}
}
