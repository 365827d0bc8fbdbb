package main

import (
	"encoding/binary"
	"syscall"
	"time"
)

// rxStamps says the kernel's receive times are read (readStamped).
const rxStamps = true

// readStamped reads into b from the socket raw, and the receive time's
// control message into oob.
func readStamped(raw syscall.RawConn, b, oob []byte) (n, oobn int, err error) {
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), b, oob, 0)
		return rerr != syscall.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	return n, oobn, err
}

// enableRxStamps has the kernel stamp the bytes the socket fd receives
// (SO_TIMESTAMPNS, the realtime clock), given with each read (rxStamp).
func enableRxStamps(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

// rxStamp is the receive time in a read's control messages; zero when
// there is none.
func rxStamp(oob []byte) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec)
		}
	}
	return time.Time{}
}
