// Package gctune lowers a Go process's GOGC while it is idle and restores it
// under load.
//
// A Go heap grows to live × (1 + GOGC/100) between collections, and the
// runtime keeps those pages resident, so at idle most of a component's
// anonymous memory past its live heap is the headroom GOGC allows. That
// headroom is what makes collections rare under load: the collector's work is
// the allocation rate over GOGC, so a lower GOGC for good would double the
// API server's collections during a class. At idle the allocation rate is
// low (lease renewals, status updates, metrics scrapes), and a small GOGC
// costs little CPU there. Watch therefore samples the allocation rate and
// switches between the two: the process's own GOGC (the environment's, the
// node's choice for load) while it allocates faster than IdleAllocRate, and
// IdlePercent below it. On going idle it collects once and returns the freed
// pages to the kernel at once (debug.FreeOSMemory) instead of waiting for the
// runtime's scavenger.
package gctune

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// IdlePercent is GOGC while idle: 20 lets the bundle's idle heap (~125
	// MB live) grow to ~150 MB instead of ~190 at GOGC=50, for a collection
	// (~70 ms of CPU, GODEBUG=gctrace=1) every 5–15 s on an idle node. 10 was
	// no smaller on the node (`bench cluster`): what is left past the live
	// heap is then mostly partly used spans and ~4000 goroutines' stacks.
	IdlePercent = 20
	// IdleAllocRate is the allocation rate (bytes/s) below which a process is
	// idle. The bundle allocates ~6 MB/s while one learner after another
	// starts a lab (`bench lab`) and ~12 MB/s on average under a class of 100
	// (`bench class`), whose load must see GOGC=50; etcd, CoreDNS and the
	// NetworkPolicy engine allocate less than the bundle.
	IdleAllocRate = 8 << 20
	// Interval is how often the rate is sampled: a class's load raises GOGC
	// within one interval.
	Interval = 10 * time.Second
)

// Watch runs forever (start it in a goroutine), switching GOGC between the
// process's own and IdlePercent by the allocation rate of the last Interval.
// A process whose own GOGC is already at most IdlePercent (or off) is left
// alone.
func Watch() {
	watch(Interval, nil)
}

// watch is Watch with its own interval, until stop closes.
func watch(interval time.Duration, stop <-chan struct{}) {
	loadPercent := currentPercent()
	if loadPercent <= IdlePercent {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	last := sample[0].Value.Uint64()
	idle := false
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		metrics.Read(sample)
		allocated := sample[0].Value.Uint64()
		rate := float64(allocated-last) / interval.Seconds()
		last = allocated
		nowIdle := rate < IdleAllocRate
		if nowIdle == idle {
			continue
		}
		idle = nowIdle
		percent := loadPercent
		if idle {
			percent = IdlePercent
		}
		// One line per switch: how often a node switches shows in its log.
		fmt.Fprintf(os.Stderr, "gctune: allocating %.1f MB/s, GOGC=%d\n", rate/1e6, percent)
		debug.SetGCPercent(percent)
		if idle {
			debug.FreeOSMemory()
		}
	}
}

// currentPercent is the GOGC the runtime runs with (-1 when off: never above IdlePercent).
func currentPercent() int {
	sample := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return -1
	}
	return int(sample[0].Value.Uint64())
}
