package main

import (
	"maps"
	"sync/atomic"

	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/wsclient"
	"github.com/fedgate/gateway/subscriptions"
)

// subgraphURLs holds the HTTP URLs of the subgraphs being served (a reload
// replaces them); subscriptions dial their WebSocket form.
type subgraphURLs struct {
	m atomic.Pointer[map[string]string]
}

func (u *subgraphURLs) store(m map[string]string) {
	c := maps.Clone(m)
	u.m.Store(&c)
}

// wsURL is the graphql-transport-ws URL of a subgraph: its HTTP URL with
// the ws or wss scheme.
func (u *subgraphURLs) wsURL(name string) (string, bool) {
	m := u.m.Load()
	if m == nil {
		return "", false
	}
	url, ok := (*m)[name]
	if !ok {
		return "", false
	}
	return wsclient.WebSocketURL(url), true
}

// startSubscriptions serves subscriptions over WebSocket, SSE and
// multipart HTTP on srv's listener.
func (p *gatewayProcess) startSubscriptions(srv *server.Server) *subscriptions.Engine {
	up := wsclient.New(wsclient.Options{URL: p.urls.wsURL})
	eng := subscriptions.New(srv, up, subscriptions.Options{Logger: p.tel.Logger})
	srv.HandleStreams(eng)
	p.subs = eng
	return eng
}
