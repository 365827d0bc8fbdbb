// Package yamlduration decodes a YAML duration the way the configuration
// checker accepts it: a Go duration ("150ms", "10s") or a bare 0.
package yamlduration

import (
	"strconv"
	"strings"
	"time"
)

// Decode reads b into d: "150ms", "10s", or a bare 0 (which YAML reads as
// a number, and the YAML library then refuses for a time.Duration).
// Pass it as yaml.CustomUnmarshaler(yamlduration.Decode).
func Decode(d *time.Duration, b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
