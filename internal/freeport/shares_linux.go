//go:build linux

package freeport

const isLinux = true
