//go:build tools

// Package tools pins IPFS Cluster as a build dependency so `go build` of its two
// commands resolves to the version in go.mod / go.sum (`go install …@v1.1.0`
// fails here: the module proxy refuses the module's version list).
package tools

import (
	_ "github.com/ipfs-cluster/ipfs-cluster/cmd/ipfs-cluster-ctl"
	_ "github.com/ipfs-cluster/ipfs-cluster/cmd/ipfs-cluster-service"
)
