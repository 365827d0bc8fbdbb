package redistest

import (
	"context"
	"net"
	"strconv"
	"testing"
)

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	c := s.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping succeeded with the server stopped")
	}
	s.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	if n, _ := c.Exists(ctx, "k").Result(); n != 0 {
		t.Errorf("data survived a restart without persistence")
	}
}

// TestStartTriesAnotherPort: when the port picked for redis-server is
// taken before it binds (by a listener, or by another redis-server, which
// would answer PING in its place), start starts it on another port.
func TestStartTriesAnotherPort(t *testing.T) {
	other := Start(t)
	tests := []struct {
		name  string
		taken func(t *testing.T) int
	}{
		{"a listener", func(t *testing.T) int {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			return ln.Addr().(*net.TCPAddr).Port
		}},
		{"another redis-server", func(t *testing.T) int { return other.port }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := tt.taken(t)
			picks := 0
			pick := func() (int, func(), error) {
				picks++
				if picks == 1 {
					return taken, func() {}, nil
				}
				return holdPort()
			}
			s := start(t, pick, serverArgs())
			if picks != 2 || s.port == taken {
				t.Fatalf("started on port %d after %d picks; port %d was taken", s.port, picks, taken)
			}
			info, err := s.Client().Info(context.Background(), "server").Result()
			if err != nil {
				t.Fatal(err)
			}
			if pid := infoField(info, "process_id"); pid != strconv.Itoa(s.proc.cmd.Process.Pid) {
				t.Fatalf("%s answers as process %s, not as the server started (%d)", s.Addr(), pid, s.proc.cmd.Process.Pid)
			}
		})
	}
	if err := other.Client().Ping(context.Background()).Err(); err != nil {
		t.Fatalf("the other server: %v", err)
	}
}
