// Package timerslack gives the gateway's process a timer slack larger than
// Linux's default of 50 µs, before the Go runtime's threads exist.
//
// The timer slack is how late the kernel may end a thread's timed sleep so
// that it can serve several timers with one wake-up. The Go runtime's
// monitor thread (sysmon) sleeps 20 µs at a time while any goroutine runs
// and is woken from its deep sleep by the first system call after the
// process was idle, so a gateway that goes idle and busy again several
// times per request (each subgraph answer it waits for) wakes it thousands
// of times a second: each wake-up is a context switch on a core the
// subgraphs and clients share. A slack of a few hundred µs makes those
// sleeps longer and lets the kernel fold them with other timers; events
// (a socket readable, a goroutine handed work) wake threads as before,
// only timeouts may end up to the slack later.
//
// A thread inherits its slack from the thread that creates it, and the
// runtime creates its monitor thread before any package's init runs, so
// the slack is set on the calling thread and the process replaces itself
// with a new copy of its program (execve keeps the pid, the arguments, the
// environment, the slack and the descriptors not marked close-on-exec).
// Ensure must therefore run first, before the process opens listeners or
// starts work.
package timerslack
