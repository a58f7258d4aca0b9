package main

import (
	"reflect"
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
