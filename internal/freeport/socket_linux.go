package freeport

import "syscall"

// socket is a TCP socket closed on exec, made in one system call.
func socket() (int, error) {
	return syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}
