package testsys

import (
	"context"
	"net"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestProcessCPUGrows: the CPU time counts work this process does.
func TestProcessCPUGrows(t *testing.T) {
	before, err := ProcessCPU()
	if err != nil {
		t.Skipf("no CPU time here: %v", err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	after, err := ProcessCPU()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("CPU time %v after 50 ms of work, %v before (%d rounds)", after, before, x)
	}
}

// TestReceiveBufferDials: a dialer with the small buffer connects.
func TestReceiveBufferDials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	d := net.Dialer{Control: ReceiveBuffer(4096), Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestKillGroupOnCancel: a shell's child ends with the shell when the
// context does, so reading their output returns.
func TestKillGroupOnCancel(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no process groups")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", "sleep 30; echo done")
	KillGroupOnCancel(cmd)
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the output was held %v after the context ended: %q", d, out)
	}
}
