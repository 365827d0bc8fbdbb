//go:build !linux

package freeport

const isLinux = false
