package netpol

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func runningPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web", Labels: map[string]string{"app": "web"}, ResourceVersion: "1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.0.10", PodIPs: []corev1.PodIP{{IP: "10.244.0.10"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
		},
	}
}

// updates counts the syncs the update handler schedules for one update.
func updates(matters func(old, new any) bool, old, new any) int {
	n := 0
	handler(matters, func() { n++ }).OnUpdate(old, new)
	return n
}

func TestPodStatusUpdatesDoNotScheduleASync(t *testing.T) {
	pods := typed(podChangeMatters)
	for name, change := range map[string]func(p *corev1.Pod){
		"ready condition": func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionTrue },
		"container status": func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", RestartCount: 3}}
		},
		"resource version": func(p *corev1.Pod) { p.ResourceVersion = "2" },
		"annotation":       func(p *corev1.Pod) { p.Annotations = map[string]string{"note": "x"} },
		"deletion started": func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} },
	} {
		p := runningPod()
		change(p)
		if n := updates(pods, runningPod(), p); n != 0 {
			t.Errorf("%s: %d syncs scheduled, want none", name, n)
		}
	}
}

func TestPodUpdatesTheCompilerSeesScheduleASync(t *testing.T) {
	pods := typed(podChangeMatters)
	for name, change := range map[string]func(p *corev1.Pod){
		"label":      func(p *corev1.Pod) { p.Labels["app"] = "api" },
		"pod IP":     func(p *corev1.Pod) { p.Status.PodIP = "10.244.0.11" },
		"finished":   func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded },
		"named port": func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "web" },
	} {
		p := runningPod()
		change(p)
		if n := updates(pods, runningPod(), p); n != 1 {
			t.Errorf("%s: %d syncs scheduled, want 1", name, n)
		}
	}
	// A pod that gets its address is one the policies can now select.
	pending := runningPod()
	pending.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if n := updates(pods, pending, runningPod()); n != 1 {
		t.Errorf("pod got its IP: %d syncs scheduled, want 1", n)
	}
	// Unrecognised objects are never skipped.
	if n := updates(pods, "?", runningPod()); n != 1 {
		t.Errorf("unknown object: %d syncs scheduled, want 1", n)
	}
}

func TestNamespaceAndPolicyUpdates(t *testing.T) {
	ns := func(labels map[string]string, rv string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: labels, ResourceVersion: rv}}
	}
	namespaces := typed(namespaceChangeMatters)
	if n := updates(namespaces, ns(map[string]string{"team": "x"}, "1"), ns(map[string]string{"team": "x"}, "2")); n != 0 {
		t.Errorf("namespace without label change: %d syncs, want none", n)
	}
	if n := updates(namespaces, ns(map[string]string{"team": "x"}, "1"), ns(map[string]string{"team": "y"}, "2")); n != 1 {
		t.Errorf("namespace label change: %d syncs, want 1", n)
	}

	old := policy("a", "deny", networkingv1.NetworkPolicySpec{})
	policies := typed(policyChangeMatters)
	annotated := old.DeepCopy()
	annotated.Annotations = map[string]string{"note": "x"}
	if n := updates(policies, old, annotated); n != 0 {
		t.Errorf("policy metadata change: %d syncs, want none", n)
	}
	changed := old.DeepCopy()
	changed.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	if n := updates(policies, old, changed); n != 1 {
		t.Errorf("policy spec change: %d syncs, want 1", n)
	}
}
