//go:build tools

// Package tools pins kubo as a build dependency so `go build github.com/ipfs/kubo/cmd/ipfs`
// resolves to the version in go.mod / go.sum.
package tools

import _ "github.com/ipfs/kubo/cmd/ipfs"
