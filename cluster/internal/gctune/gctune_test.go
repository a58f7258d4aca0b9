package gctune

import (
	"runtime/debug"
	"testing"
	"time"
)

var sink []byte

// The watcher lowers GOGC while the process allocates slowly and restores the
// process's own under a fast allocation rate.
func TestWatchFollowsTheAllocationRate(t *testing.T) {
	previous := debug.SetGCPercent(50)
	defer debug.SetGCPercent(previous)
	stop := make(chan struct{})
	defer close(stop)
	go watch(50*time.Millisecond, stop)

	waitFor(t, IdlePercent, func() { time.Sleep(10 * time.Millisecond) })
	// 1 MiB per millisecond, far past IdleAllocRate.
	waitFor(t, 50, func() {
		for range 10 {
			sink = make([]byte, 1<<20)
			time.Sleep(time.Millisecond / 10)
		}
	})
	waitFor(t, IdlePercent, func() { time.Sleep(10 * time.Millisecond) })
}

func waitFor(t *testing.T, percent int, step func()) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for currentPercent() != percent {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d, want %d", currentPercent(), percent)
		}
		step()
	}
}

// A process that already runs with a small GOGC keeps it.
func TestWatchLeavesASmallGOGC(t *testing.T) {
	previous := debug.SetGCPercent(IdlePercent - 5)
	defer debug.SetGCPercent(previous)
	done := make(chan struct{})
	go func() { watch(time.Millisecond, nil); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Watch kept running for a process with GOGC below IdlePercent")
	}
}
