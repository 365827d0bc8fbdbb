// Package redistest starts a real redis-server on a free loopback port for
// a test, and can stop and restart it to test what happens when Redis goes
// away. StartCluster starts a Redis Cluster (3 masters, 3 replicas) and
// StartSentinel a master, a replica and a Sentinel, both able to fail a
// master over while a test runs.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/freeport"
	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process owned by one test.
type Server struct {
	t    testing.TB
	port int
	dir  string
	argv commandLine

	mu   sync.Mutex
	proc *proc
}

// Start runs redis-server on 127.0.0.1 and stops it when the test ends.
// The test fails when redis-server is not installed: CI installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (apt-get install redis-server): %v", err)
	}
	return start(t, holdPort, serverArgs())
}

// startAttempts bounds the ports a server is started on. redis-server
// cannot be told to pick a free port itself (--port 0 turns TCP off), so
// the port is picked here and named on its command line. The port is held
// (freeport) until the test ends, so on Linux no other process can take it
// first, and a server stopped and restarted keeps it; where a held port
// cannot be shared (freeport.Shares is false) it is released just before
// redis-server starts, and another process may take it in between. Then
// redis-server exits ("Address already in use") or someone else answers
// there: start tries a new port, at most startAttempts times.
const startAttempts = 5

// pickPort picks the port of a server and holds it, and any other port
// the server binds (a cluster node's bus port), until release.
type pickPort func() (port int, release func(), err error)

// holdPort holds one free loopback port.
func holdPort() (int, func(), error) {
	h, err := freeport.ReserveAt(0)
	if err != nil {
		return 0, nil, err
	}
	return h.Port(), h.Release, nil
}

// commandLine returns the arguments of redis-server serving port, with
// dir its own directory and log its log file.
type commandLine func(port int, dir, log string) ([]string, error)

// serverArgs is the command line of a server on port without persistence,
// with args added.
func serverArgs(args ...string) commandLine {
	return func(port int, dir, log string) ([]string, error) {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", log, "--loglevel", "warning"}, args...), nil
	}
}

// start runs redis-server with the command line argv on a port from pick,
// trying new ports while redis-server fails to start (startAttempts).
func start(t testing.TB, pick pickPort, argv commandLine) *Server {
	t.Helper()
	var errs []error
	for range startAttempts {
		port, release, err := pick()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if !freeport.Shares {
			release()
		}
		s := &Server{t: t, port: port, dir: t.TempDir(), argv: argv}
		if err := s.start(); err != nil {
			release()
			errs = append(errs, err)
			t.Logf("redistest: %v; trying another port", err)
			continue
		}
		// Stop runs before the ports are given back.
		t.Cleanup(release)
		t.Cleanup(s.Stop)
		return s
	}
	t.Fatalf("redistest: redis-server did not start on %d ports: %v", startAttempts, errors.Join(errs...))
	return nil
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills the server; it may be started again with Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// Restart starts the server again on the same port (data is not kept) and
// waits until it answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
}

// start starts the server unless it runs.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	log := filepath.Join(s.dir, "redis.log")
	args, err := s.argv(s.port, s.dir, log)
	if err != nil {
		return err
	}
	p, err := launch(s.port, log, args...)
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// proc is a running redis-server process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// launch starts redis-server with args and waits until it answers PING
// on port as itself (INFO's process_id is its pid: a server that could
// not bind exits, and another one may answer there). It fails when the
// process exits first or does not answer in 10 s; logFile is quoted in
// the error.
func launch(port int, logFile string, args ...string) (*proc, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	fail := func(format string, a ...any) (*proc, error) {
		p.kill()
		log, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("redis-server on %s: %s\n%s", addr, fmt.Sprintf(format, a...), log)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.done:
			return fail("exited at start (%v)", cmd.ProcessState)
		default:
		}
		// A client per try: one whose dials failed waits and backs off
		// before it dials again.
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		_ = c.Close()
		if err == nil {
			if pid := infoField(info, "process_id"); pid != strconv.Itoa(cmd.Process.Pid) {
				return fail("another process answers there (process_id %s, ours %d)", pid, cmd.Process.Pid)
			}
			return p, nil
		}
		if time.Now().After(deadline) {
			return fail("no answer in 10 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill kills the process and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// infoField returns the value of field in the text of an INFO reply.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// String describes the server in test logs.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr()) }
