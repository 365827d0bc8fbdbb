package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
)

// ByteSize is a size in bytes written either as a number or with a unit:
// "2MiB", "512KB", "1GB".
type ByteSize int64

// UnmarshalYAML accepts an integer or a string with a unit.
func (b *ByteSize) UnmarshalYAML(data []byte) error {
	s := strings.TrimSpace(string(data))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*b = ByteSize(n)
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("%q is negative: want a size, bytes or with a unit such as 2MiB", s)
	}
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a size: want bytes or a unit such as 2MiB", s)
	}
	*b = ByteSize(n)
	return nil
}

func splitHostPort(addr string) (string, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("%q is not host:port (127.0.0.1:4000; 0.0.0.0:4000 for every interface)", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", "", fmt.Errorf("%q: the port is not a number from 0 to 65535", addr)
	}
	return host, port, nil
}
