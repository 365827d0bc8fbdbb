//go:build unix

package h1

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestSockWritesOnFirstRead: a pending request is written by the first
// read, not before, and that read returns the answer; later reads are
// the connection's. The cases cover what the one call must not lose: an
// answer sent at once (before the reader can wait), one sent later, and
// the end of the stream.
func TestSockWritesOnFirstRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		delay time.Duration
	}{{"answer at once", 0}, {"answer later", 30 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			client, server := tcpPair(t)
			s := newSock(client)
			if s == nil {
				t.Fatal("no sock for a TCP connection")
			}
			for round := range 200 {
				req := []byte("request " + string(rune('a'+round%26)))
				s.pending = req
				// Nothing is written before the read.
				_ = server.SetReadDeadline(time.Now().Add(time.Millisecond))
				if n, _ := server.Read(make([]byte, 64)); n != 0 {
					t.Fatalf("round %d: %d bytes written before the first read", round, n)
				}
				_ = server.SetReadDeadline(time.Time{})
				served := make(chan error, 1)
				go func() {
					got := make([]byte, len(req))
					if _, err := io.ReadFull(server, got); err != nil || !bytes.Equal(got, req) {
						served <- errors.New("server read " + string(got))
						return
					}
					if c.delay > 0 && round < 3 {
						time.Sleep(c.delay)
					}
					_, err := server.Write([]byte("answer"))
					served <- err
				}()
				_ = client.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 64)
				n, err := s.Read(buf)
				if err != nil || string(buf[:n]) != "answer" {
					t.Fatalf("round %d: read %q, %v", round, buf[:n], err)
				}
				if err := <-served; err != nil {
					t.Fatal(err)
				}
				if s.pending != nil || s.writeErr != nil {
					t.Fatalf("round %d: pending %q, writeErr %v after the read", round, s.pending, s.writeErr)
				}
			}
			server.Close()
			if n, err := s.Read(make([]byte, 8)); n != 0 || err != io.EOF {
				t.Fatalf("after the server closed: %d, %v; want 0, EOF", n, err)
			}
		})
	}
}

// TestSockPartialWrite: a request the socket's buffer does not take at
// once is finished by the connection's blocking write, and its answer read.
func TestSockPartialWrite(t *testing.T) {
	client, server := tcpPair(t)
	raw, err := client.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	// A small send buffer: the request below fills it and the
	// server's receive buffer (128 KB to start with) before the server
	// reads.
	_ = raw.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096) })
	s := newSock(client)
	req := bytes.Repeat([]byte("x"), 1<<20)
	s.pending = req
	go func() {
		time.Sleep(50 * time.Millisecond) // the writer fills the buffers first
		got, _ := io.ReadAll(io.LimitReader(server, int64(len(req))))
		if bytes.Equal(got, req) {
			_, _ = server.Write([]byte("answer"))
		}
	}()
	// The first step's write stops when the buffers are full.
	var partial bool
	_ = raw.Control(func(fd uintptr) { partial = s.step(fd) && len(s.pending) > 0 && len(s.pending) < len(req) })
	if !partial {
		t.Fatalf("the socket took %d of %d bytes at once: no partial write to test", len(req)-len(s.pending), len(req))
	}
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "answer" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// TestSockWriteFails: a request that cannot be written is the write's
// error (writeErr), whether the deadline passed before it or the
// connection is closed.
func TestSockWriteFails(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		client, _ := tcpPair(t)
		s := newSock(client)
		s.pending = []byte("request")
		_ = client.SetDeadline(time.Now().Add(-time.Second))
		if _, err := s.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(s.writeErr, os.ErrDeadlineExceeded) {
			t.Fatalf("err %v, writeErr %v; want the deadline's", err, s.writeErr)
		}
	})
	t.Run("peer reset", func(t *testing.T) {
		client, server := tcpPair(t)
		_ = server.(*net.TCPConn).SetLinger(0)
		server.Close() // RST
		time.Sleep(20 * time.Millisecond)
		s := newSock(client)
		s.pending = []byte("request")
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		_, err := s.Read(make([]byte, 8))
		if err == nil || !closedByPeer(err) {
			t.Fatalf("err %v; want a connection the peer closed", err)
		}
	})
}
