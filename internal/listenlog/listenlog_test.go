package listenlog

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFind: both log formats; the first line wins; other listeners'
// lines and look-alike messages are not taken for it.
func TestFind(t *testing.T) {
	tests := []struct {
		name, log, msg, want string
	}{
		{"json", `{"time":"t","level":"INFO","msg":"gateway listening","addr":"127.0.0.1:4711","graphql":"http://127.0.0.1:4711/graphql"}` + "\n", Gateway, "127.0.0.1:4711"},
		{"text", `time=t level=INFO msg="gateway listening" addr=127.0.0.1:4711 graphql=http://127.0.0.1:4711/graphql` + "\n", Gateway, "127.0.0.1:4711"},
		{"admin before gateway", `{"msg":"registry admin API listening","addr":"127.0.0.1:1"}` + "\n" + `{"msg":"gateway listening","addr":"127.0.0.1:2"}` + "\n", Gateway, "127.0.0.1:2"},
		{"admin", `{"msg":"registry admin API listening","addr":"127.0.0.1:1"}` + "\n" + `{"msg":"gateway listening","addr":"127.0.0.1:2"}` + "\n", Admin, "127.0.0.1:1"},
		{"first line", `{"msg":"gateway listening","addr":"127.0.0.1:1"}` + "\n" + `{"msg":"gateway listening","addr":"127.0.0.1:2"}` + "\n", Gateway, "127.0.0.1:1"},
		{"another message", `{"msg":"gateway listening soon","addr":"127.0.0.1:1"}` + "\n", Gateway, ""},
		{"none", `{"msg":"demo subgraph","name":"accounts","url":"http://127.0.0.1:3/query"}` + "\n", Gateway, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Find(tt.log, tt.msg)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("Find = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// TestWait: the address once the line is written; an error quoting the
// log when the process exits first or the line does not come in time.
func TestWait(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	read := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	go func() {
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		log.WriteString(`{"msg":"gateway listening","addr":"127.0.0.1:4711"}` + "\n")
		mu.Unlock()
	}()
	if addr, err := Wait(read, Gateway, nil, 10*time.Second); err != nil || addr != "127.0.0.1:4711" {
		t.Fatalf("Wait = %q, %v", addr, err)
	}
	exited := make(chan struct{})
	close(exited)
	start := time.Now()
	if _, err := Wait(func() string { return "bind: address already in use\n" }, Gateway, exited, 10*time.Second); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("exited: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("exited: waited %v", d)
	}
	if _, err := Wait(func() string { return "" }, Admin, nil, 50*time.Millisecond); err == nil {
		t.Fatal("no line: no error")
	}
}
