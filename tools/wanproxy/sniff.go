package main

import (
	"bytes"
	"strconv"
	"strings"
)

// responseLength reads an HTTP/1.x response head and returns the length of the
// whole response (head + Content-Length), so a reset can land at a uniformly
// random point of it. ok is false while the head is incomplete; known is false
// for a response without a Content-Length (chunked CAR streams).
func responseLength(head []byte) (length int64, known bool, ok bool) {
	end := bytes.Index(head, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false, false
	}
	for _, line := range strings.Split(string(head[:end]), "\r\n")[1:] {
		name, value, found := strings.Cut(line, ":")
		if !found || !strings.EqualFold(strings.TrimSpace(name), "content-length") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil || n < 0 {
			return 0, false, true
		}
		return int64(end+4) + n, true, true
	}
	return 0, false, true
}
