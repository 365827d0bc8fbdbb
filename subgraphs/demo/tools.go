//go:build tools

package demo

// Keeps the gqlgen command and its dependencies in go.mod, so that
// `go mod tidy` does not drop what `go generate` (go run .../gqlgen) needs.
import _ "github.com/99designs/gqlgen"
