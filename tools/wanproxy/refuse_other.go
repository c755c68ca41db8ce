//go:build !unix

package main

import (
	"errors"
	"io"
)

// bindOnly is unix-only; elsewhere a refusing listener accepts and resets.
func bindOnly(string) (string, io.Closer, error) {
	return "", nil, errors.New("bind without listen needs a unix system")
}
