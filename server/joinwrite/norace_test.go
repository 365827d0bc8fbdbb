//go:build !race

package joinwrite

import (
	"io"
	"net"
	"testing"
)

// TestJoinedWriteAllocs: a joined answer (a held buffer flush and the
// rest of the body in one writev) allocates nothing. net.Buffers.WriteTo
// moves the start of the slice it writes past what it wrote, so a slice
// appended to anew after each writev had no capacity left and was
// allocated again for every answer.
func TestJoinedWriteAllocs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &Conn{Conn: nc}
	head, rest := body(holdMax), body(80<<10)
	allocs := testing.AllocsPerRun(100, func() {
		c.Arm()
		if _, err := c.Write(head); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(rest); err != nil {
			t.Fatal(err)
		}
		if err := c.Disarm(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per joined answer, want 0", allocs)
	}
}
