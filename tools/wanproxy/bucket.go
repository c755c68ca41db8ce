package main

import (
	"sync"
	"time"
)

// tokenBucket is a bandwidth cap. It hands out reservations (the balance may go
// negative, the caller sleeps until it would be back at zero), so connections
// sharing one bucket are served in the order they asked, each chunk in turn,
// which splits a shared cap evenly instead of letting one connection win every race.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second; <= 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
}

// bucketBurst lets a cap pass one read chunk at full speed: a smaller burst
// would make every chunk wait; a much larger one lets a fresh connection
// exceed its cap for a visible fraction of a second.
const bucketBurst = 128 * 1024

func newTokenBucket(rate float64) *tokenBucket {
	return &tokenBucket{rate: rate, burst: bucketBurst, tokens: bucketBurst, last: time.Now()}
}

// reserve takes n bytes' worth of tokens and says how long to wait before sending them.
func (b *tokenBucket) reserve(n int) time.Duration {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate <= 0 {
		return 0
	}
	now := time.Now()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

func (b *tokenBucket) setRate(rate float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate = rate
}
