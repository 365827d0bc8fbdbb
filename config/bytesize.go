package config

import (
	"fmt"
	"net"
	"strconv"

	"github.com/dustin/go-humanize"
)

// ByteSize is a size in bytes written either as a number or with a unit:
// "2MiB", "512KB", "1GB".
type ByteSize int64

// UnmarshalYAML accepts an integer or a string with a unit.
func (b *ByteSize) UnmarshalYAML(data []byte) error {
	s := string(data)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*b = ByteSize(n)
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("not a size: %q (want bytes or a unit such as 2MiB)", s)
	}
	*b = ByteSize(n)
	return nil
}

func splitHostPort(addr string) (string, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("%q is not host:port", addr)
	}
	return host, port, nil
}
