//go:build !linux

package main

import (
	"errors"
	"sync/atomic"
	"time"
)

// pollSupported reports whether -poll can be used here: the poller needs
// epoll.
const pollSupported = false

type poller struct{}

func newPoller(time.Duration) (*poller, error) { return nil, errors.New("poll: Linux only") }

func (p *poller) add(*client) error { return errors.New("poll: Linux only") }

func (p *poller) run(<-chan struct{}, *recorder, *atomic.Value) {}

func writeFD(int, []byte) error { return errors.New("poll: Linux only") }
