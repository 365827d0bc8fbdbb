package main

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
)

// The poller reads all client sockets from one goroutine, with its own
// epoll set that it polls without waiting in it: when a round finds no
// socket readable it sleeps (-poll, the interval), off the sockets' wait
// queues. A reader that waits on a socket (a goroutine per socket parks
// in the Go runtime's epoll wait, or one goroutine in an epoll wait) is
// woken by the write that fills it, and on loopback that wake-up (an
// interprocessor interrupt to the client's CPU) runs on the gateway's
// CPU inside every write system call: the clients' cost counted as the
// gateway's. A remote client costs the gateway no such wake-up. The
// sleep adds at most the interval (rounded up by the Go timer, to about
// a millisecond when the process is otherwise idle) to an event's read,
// which the measured latency includes. After pollIdle without anything
// to read the poller does wait in its epoll set, for the next burst's
// first write to wake it.

// pollIdle is how long the poller polls without waiting in the epoll set
// after it last read something: then it waits there, so that an idle
// poller costs nothing and the first event after a pause is read at once
// (one wake-up per burst of writes, not one per write).
const pollIdle = 5 * time.Millisecond

// pollSupported reports whether -poll can be used here.
const pollSupported = true

// poller reads the sockets of its clients.
type poller struct {
	epfd     int
	byFD     map[int32]*client
	interval time.Duration
}

func newPoller(interval time.Duration) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return &poller{epfd: epfd, byFD: map[int32]*client{}, interval: interval}, nil
}

// add detaches c's socket from the Go runtime's poller (a duplicate of
// its descriptor outlives the net.Conn, which is closed: the connection
// stays open) and adds it to p. Not safe to call while p runs.
func (p *poller) add(c *client) error {
	var fd int
	var derr error
	if c.raw == nil {
		return errors.New("poll: not a socket")
	}
	err := c.raw.Control(func(s uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		fd = int(r)
		if e != 0 {
			derr = e
		}
	})
	if err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("poll: dup: %w", err)
	}
	_ = c.conn.Close() // removes the descriptor from the runtime's epoll set
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return fmt.Errorf("poll: %w", err)
	}
	c.fd, c.conn, c.raw = fd, nil, nil
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		c.fd = -1
		return fmt.Errorf("poll: epoll_ctl: %w", err)
	}
	p.byFD[int32(fd)] = c
	return nil
}

// run reads the clients' messages until done is closed, then closes
// their sockets.
func (p *poller) run(done <-chan struct{}, rec *recorder, failed *atomic.Value) {
	defer func() {
		for fd := range p.byFD {
			syscall.Close(int(fd))
		}
		syscall.Close(p.epfd)
	}()
	evs := make([]syscall.EpollEvent, 256)
	lastRead := time.Now()
	for {
		// Between bursts the poller waits in the epoll set, to be woken
		// by a burst's first write; within one it does not wait there.
		timeout := 0
		if time.Since(lastRead) > pollIdle {
			timeout = 100 // ms, to see done
		}
		n, err := syscall.EpollWait(p.epfd, evs, timeout)
		if err != nil && err != syscall.EINTR {
			failed.Store("epoll_wait: " + err.Error())
			return
		}
		if n <= 0 {
			select {
			case <-done:
				return
			default:
			}
			if timeout == 0 {
				time.Sleep(p.interval)
			}
			continue
		}
		lastRead = time.Now()
		for _, ev := range evs[:n] {
			c := p.byFD[ev.Fd]
			if c == nil {
				continue
			}
			if err := c.readReady(rec, failed); err != nil {
				_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
				syscall.Close(c.fd)
				delete(p.byFD, ev.Fd)
			}
		}
	}
}

// readReady reads what c's socket holds (one receive) and handles the
// whole messages in it; an error when the connection ended.
func (c *client) readReady(rec *recorder, failed *atomic.Value) error {
	// c.buf is what is left of an earlier read (a partial frame), moved
	// to the start of c.base, which grows when it is nearly full.
	if cap(c.base)-len(c.buf) < 512 {
		c.base = make([]byte, 0, max(4096, 2*len(c.buf)))
	}
	c.buf = append(c.base[:0], c.buf...)
	var oob [64]byte
	n, oobn, _, _, err := syscall.Recvmsg(c.fd, c.buf[len(c.buf):cap(c.buf)], oob[:], 0)
	now := time.Now()
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return nil
	case err != nil:
		return err
	case n == 0:
		return errClosed
	}
	c.buf = c.buf[:len(c.buf)+n]
	stamp := rxStamp(oob[:oobn])
	for {
		m, size, ok := parseFrame(c.buf)
		if !ok {
			break
		}
		c.buf = c.buf[size:]
		switch m.op {
		case 0x1:
			c.handle(m.payload, now, stamp, rec, failed)
		case 0x8:
			return errClosed
		}
	}
	return nil
}

// writeFD writes b to the non-blocking socket fd, waiting while its
// buffer is full.
func writeFD(fd int, b []byte) error {
	deadline := time.Now().Add(10 * time.Second)
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			if time.Now().After(deadline) {
				return fmt.Errorf("write: %w", err)
			}
			time.Sleep(time.Millisecond)
		case err != nil:
			return fmt.Errorf("write: %w", err)
		default:
			b = b[n:]
		}
	}
	return nil
}
