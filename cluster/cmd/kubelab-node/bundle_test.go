package main

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestParseBundleSplitsComponentsAndTheirFlags(t *testing.T) {
	groups, err := parseBundle([]string{"kube-scheduler", "--a=1", "--b", "--next", "kube-proxy", "--config=c"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"kube-scheduler", "--a=1", "--b"}, {"kube-proxy", "--config=c"}}
	if !reflect.DeepEqual(groups, want) {
		t.Fatalf("groups = %q, want %q", groups, want)
	}
}

func TestParseBundleRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "an empty component"},
		{[]string{"kube-proxy", "--next"}, "an empty component"},
		{[]string{"coredns", "-conf", "c"}, `"coredns" cannot run in a bundle`},
		{[]string{"kube-proxy", "--next", "network-policy"}, `"network-policy" cannot run in a bundle`},
		{[]string{"kube-proxy", "--next", "kube-proxy"}, "named twice"},
	} {
		_, err := parseBundle(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseBundle(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

// Every bundled command is built in one process, the controller manager's
// first, as runBundle does: a process global claimed twice at build time (a
// feature gate or a component's version registered again) panics here. (The
// kubelet claims the signal handler only when it runs: see bundle.go.)
func TestBundledCommandsBuildInOneProcess(t *testing.T) {
	names := bundledNames()
	sort.SliceStable(names, func(i, j int) bool {
		return names[i] == "kube-controller-manager" && names[j] != "kube-controller-manager"
	})
	for _, name := range names {
		if bundled[name]() == nil {
			t.Errorf("bundled[%q] builds no command", name)
		}
	}
}
