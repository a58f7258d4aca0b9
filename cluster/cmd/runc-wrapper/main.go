// Command runc-wrapper runs runc after adapting OCI specs to hosts that lack
// CAP_SYS_RESOURCE (unprivileged containers, some sandboxes). There a process
// may not lower its oom_score_adj, yet the kubelet asks for -998 on pod
// sandboxes and -997 for Guaranteed pods, so runc's init fails with
// "can't get final child's PID from pipe". The wrapper raises any such value to
// the wrapper's own oom_score_adj, the lowest the host allows, and otherwise
// passes every argument to runc unchanged.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const capSysResource = 24

func main() {
	runc := os.Getenv("KUBELAB_RUNC")
	if runc == "" {
		runc = "/usr/sbin/runc"
	}
	if !hasCapability(capSysResource) {
		floor := ownOOMScoreAdj()
		for i, arg := range os.Args {
			if i+1 >= len(os.Args) {
				break
			}
			next := os.Args[i+1]
			switch arg {
			case "--bundle", "-b":
				clamp(filepath.Join(next, "config.json"), floor, true)
			case "--process", "-p":
				clamp(next, floor, false)
			}
		}
	}
	args := append([]string{runc}, os.Args[1:]...)
	if err := syscall.Exec(runc, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-wrapper: exec %s: %v\n", runc, err)
		os.Exit(127)
	}
}

// clamp raises oomScoreAdj in a spec (bundle config, or a bare process spec) to floor.
func clamp(path string, floor int, bundle bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil {
		return
	}
	process := doc
	if bundle {
		if json.Unmarshal(doc["process"], &process) != nil {
			return
		}
	}
	var adj int
	if raw, ok := process["oomScoreAdj"]; !ok || json.Unmarshal(raw, &adj) != nil || adj >= floor {
		return
	}
	process["oomScoreAdj"] = json.RawMessage(strconv.Itoa(floor))
	if bundle {
		encoded, _ := json.Marshal(process)
		doc["process"] = encoded
	}
	if out, err := json.Marshal(doc); err == nil {
		_ = os.WriteFile(path, out, 0o600)
	}
}

func hasCapability(bit uint) bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "CapEff:") {
			caps, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapEff:")), 16, 64)
			return err != nil || caps&(1<<bit) != 0
		}
	}
	return true
}

func ownOOMScoreAdj() int {
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0
	}
	adj, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return adj
}
