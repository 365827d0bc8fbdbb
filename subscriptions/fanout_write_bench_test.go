//go:build linux

package subscriptions

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFanOutWrite is the gateway's side of one event's fan-out
// alone: a group of n subscriptions, each on its own loopback WebSocket,
// gets an event's completed response (group.fanOut: the framing, one
// non-blocking write per socket, the counts). The clients are raw sockets
// outside the Go runtime's poller, read after each event with the timer
// stopped, so no write wakes a reader: the time is what the gateway's CPU
// spends per event (on loopback the kernel's receive path of each write
// included), as with remote clients. cpu-ns/delivery is the process's
// CPU time, which the waits for a CPU on a shared machine do not inflate
// as they do ns/delivery. Allocations are the fan-out's own.
// BenchmarkFanOut is the whole path (the event's emit, completion and the
// clients' reads).
func BenchmarkFanOutWrite(b *testing.B) {
	for _, n := range []int{100, 2000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) { benchFanOutWrite(b, n) })
	}
}

func benchFanOutWrite(b *testing.B, n int) {
	e := &Engine{opts: Options{Buffer: 64, WriteTimeout: 5 * time.Second}, done: make(chan struct{})}
	b.Cleanup(func() { close(e.done) })
	g := &group{e: e, members: map[*subscription]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	clients := make([]int, 0, n)
	b.Cleanup(func() {
		for _, fd := range clients {
			_ = syscall.Close(fd)
		}
	})
	for i := range n {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, fd)
		if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			b.Fatal(err)
		}
		if err := syscall.SetNonblock(fd, true); err != nil {
			b.Fatal(err)
		}
		conn, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		c := &wsConn{e: e, io: &hijacker{conn: conn, out: newSockWriter(conn)}, flushed: make(chan struct{})}
		id := strconv.Itoa(i)
		g.members[&subscription{e: e, g: g, sink: &wsSub{c: c, id: id, idJSON: appendJSONString(nil, id)}}] = struct{}{}
	}
	body := []byte(`{"data":{"reviewAdded":{"body":"1765000000123456789","product":{"upc":"1","name":"Table","inStock":true}}}}`)
	// Each client reads its message's frame: {"id":"<id>"…} and the
	// shared tail, after the frame's header.
	want := make([]int, n)
	for i := range want {
		m := len(`{"id":`) + len(strconv.Quote(strconv.Itoa(i))) + len(nextTail) + len(body) + 1
		want[i] = len(appendTextHeader(nil, m)) + m
	}
	got := make([]int, n)
	buf := make([]byte, 64<<10)
	drain := func(rounds int) {
		for i, fd := range clients {
			for {
				m, err := syscall.Read(fd, buf)
				if err == syscall.EINTR {
					continue
				}
				if m <= 0 {
					break
				}
				got[i] += m
			}
			if got[i] != rounds*want[i] {
				b.Fatalf("client %d read %d bytes, want %d", i, got[i], rounds*want[i])
			}
			got[i] = 0
		}
	}
	g.targets() // built once the group's membership changed
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	var counts eventCounts
	for i := 0; i < b.N; i++ {
		counts.out.Store(0)
		tr := fanTrace{t: &e.Timings, arrived: time.Now()}
		before := processCPU(b)
		g.fanOut(body, &tr, &counts)
		cpu += processCPU(b) - before
		if counts.out.Load() != int64(n) {
			b.Fatalf("delivered %d of %d", counts.out.Load(), n)
		}
		// The clients keep up: each socket is empty when an event
		// comes (what queues up in them would be kernel memory the
		// writes pay for).
		b.StopTimer()
		drain(1)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
	// On a machine shared with other work the elapsed time includes the
	// waits for a CPU; the process's CPU time does not.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/delivery")
}

// processCPU is the CPU time (user and system) the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
