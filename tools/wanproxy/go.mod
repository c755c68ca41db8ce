// A user-space WAN emulator for citrate-ipfs's tests and benchmarks. Standard
// library only, so it builds offline. Go is used only in tools, never in product code.
module github.com/citrate/citrate-ipfs/tools/wanproxy

go 1.26
