// Package freeport holds loopback TCP ports for tests that must name a
// port before a server binds it: a redis-server (which cannot be told to
// pick its own), a server stopped and started again on the same port, or
// an address where nothing listens.
//
// Picking a port by listening on 127.0.0.1:0 and closing the listener is
// a race: between the close and the server's bind, any process on the
// machine may take the port (a listener asking for a free one, or a
// connect() choosing its local port), and the server fails to start, or
// worse, the test talks to someone else. A Hold keeps the port with a
// socket that is bound and never listens, so:
//   - connections to the port are refused while no server listens;
//   - the kernel never gives the port to a bind to port 0 or to a
//     connect(), since it is in use;
//   - on Linux, a server that sets SO_REUSEADDR (every Go net.Listen,
//     redis-server) can still bind it and listen alongside the hold, as
//     the holding socket does not listen (see Shares).
package freeport
