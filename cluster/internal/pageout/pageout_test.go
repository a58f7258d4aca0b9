package pageout

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestExecutableMappingsAreTheBinarysReadOnlyOnes(t *testing.T) {
	mappings, err := executableMappings(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(mappings) < 2 {
		t.Fatalf("want the text and read-only data mappings of the test binary, got %v", mappings)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	for _, m := range mappings {
		prefix := fmt.Sprintf("%08x-%08x ", m.Start, m.End)
		found := false
		for _, line := range strings.Split(string(maps), "\n") {
			if strings.HasPrefix(line, prefix) {
				found = true
				if fields := strings.Fields(line); fields[1][1] == 'w' || fields[len(fields)-1] != exe {
					t.Errorf("chose a mapping that is writable or not the binary's: %s", line)
				}
			}
		}
		if !found {
			t.Errorf("mapping %s is not in /proc/self/maps", prefix)
		}
	}
}

func TestExecutablePagesOutTheProcesssOwnBinary(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("process_madvise on a process needs root (CAP_SYS_NICE); the node runs as root")
	}
	before, after, err := Executable(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// This binary is mapped by this process alone, so its resident pages go;
	// the test's own code comes back as it runs.
	if after >= before {
		t.Fatalf("resident memory %d KiB before, %d KiB after: nothing was paged out", before, after)
	}
}

func TestRunSaysWhatItCouldNotDo(t *testing.T) {
	if err := Run(nil); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no arguments: want the usage, got %v", err)
	}
	if err := Run([]string{"not-a-pid", "-3"}); err == nil || !strings.Contains(err.Error(), "no process") {
		t.Fatalf("no valid process: want an error, got %v", err)
	}
}
