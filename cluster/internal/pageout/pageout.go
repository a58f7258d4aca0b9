// Package pageout hands the pages of a process's executable back to the
// kernel once the process is past its start-up.
//
// A Go binary's text and read-only data are mapped from its file. The kernel
// fills the page cache in large folios (up to 2 MiB) and maps a whole folio
// on a fault, so a node component that ran a few KiB of start-up code keeps
// megabytes of its binary mapped, and those count in its resident memory:
// 50–110 MiB per process here, most of it code that ran once. MADV_PAGEOUT
// reclaims the clean pages no other process maps; what the component runs
// again comes back on its next fault (from the page cache or the disk). Idle
// after a cold start, the node components' PSS went from 504 to 428 MiB, and
// five minutes later it was 401 (docs/architecture.md, "Cluster providers").
package pageout

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapping is one read-only mapping of a process's executable.
type mapping struct {
	Start, End uintptr
}

// executableMappings lists the mappings of the process's own executable that
// are not writable (text and read-only data; the data segment is private and
// written, so it is left alone).
func executableMappings(pid int) ([]mapping, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return nil, err
	}
	maps, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer maps.Close()
	var found []mapping
	lines := bufio.NewScanner(maps)
	for lines.Scan() {
		// "00400000-021ea000 r-xp 00000000 fe:00 10027068   /path/to/binary"
		fields := strings.Fields(lines.Text())
		if len(fields) < 6 || strings.Join(fields[5:], " ") != exe || strings.Contains(fields[1], "w") {
			continue
		}
		start, end, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		s, err1 := strconv.ParseUint(start, 16, 64)
		e, err2 := strconv.ParseUint(end, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		found = append(found, mapping{Start: uintptr(s), End: uintptr(e)})
	}
	return found, lines.Err()
}

// residentKiB is the process's resident memory (Rss in smaps_rollup), in KiB.
func residentKiB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no Rss line in smaps_rollup")
}

// iovec is struct iovec: process_madvise names ranges of the target's address space with it.
type iovec struct {
	base, length uintptr
}

// Executable pages out the read-only mappings of pid's executable and
// returns the process's resident memory before and after, in KiB. It needs
// CAP_SYS_NICE and the right to read the process's memory map (root).
func Executable(pid int) (beforeKiB, afterKiB int64, err error) {
	mappings, err := executableMappings(pid)
	if err != nil {
		return 0, 0, err
	}
	if beforeKiB, err = residentKiB(pid); err != nil {
		return 0, 0, err
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	for _, m := range mappings {
		// One range per call: a call stops at the first range it cannot advise.
		iov := iovec{base: m.Start, length: m.End - m.Start}
		_, _, errno := unix.Syscall6(unix.SYS_PROCESS_MADVISE, uintptr(pidfd), uintptr(unsafe.Pointer(&iov)), 1, unix.MADV_PAGEOUT, 0, 0)
		if errno != 0 {
			return beforeKiB, beforeKiB, fmt.Errorf("process_madvise(MADV_PAGEOUT): %w", errno)
		}
	}
	afterKiB, err = residentKiB(pid)
	return beforeKiB, afterKiB, err
}

// Run is `kubelab-lean pageout PID...`: pages out each process's executable
// and says what it freed, one line per process. A process that is gone or
// refuses is reported and skipped; it fails only when none could be done.
func Run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: pageout PID... (the processes whose executables' pages to hand back)")
	}
	done := 0
	for _, arg := range args {
		pid, err := strconv.Atoi(arg)
		if err != nil || pid <= 0 {
			fmt.Fprintf(os.Stderr, "pageout: %q is not a process id\n", arg)
			continue
		}
		before, after, err := Executable(pid)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pageout: process %d: %v\n", pid, err)
			continue
		}
		done++
		fmt.Fprintf(os.Stderr, "pageout: process %d: resident %d → %d MiB\n", pid, before>>10, after>>10)
	}
	if done == 0 {
		return errors.New("no process could be paged out (it needs root, or CAP_SYS_NICE and CAP_SYS_PTRACE)")
	}
	return nil
}
