//go:build unix

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
)

// bindOnly reserves a port without listening on it: the kernel answers a
// connect with RST, so clients see ECONNREFUSED, as from a gateway that is down.
func bindOnly(addr string) (string, io.Closer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", nil, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", nil, err
	}
	sa := &syscall.SockaddrInet4{Port: p}
	copy(sa.Addr[:], net.ParseIP(host).To4())
	if err := syscall.Bind(fd, sa); err != nil {
		_ = syscall.Close(fd)
		return "", nil, err
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		_ = syscall.Close(fd)
		return "", nil, err
	}
	return fmt.Sprintf("%s:%d", host, got.(*syscall.SockaddrInet4).Port), os.NewFile(uintptr(fd), "wanproxy-refusing"), nil
}
