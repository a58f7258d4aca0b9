// Module terminal-agent builds the toolbox's terminal agent: a WebSocket
// server in the learner's toolbox pod that runs a terminal command on a
// pseudo-terminal, so kubelab's server on the node reaches a shell without
// the API server, the kubelet and the container runtime in between.
module kubelab.local/terminal-agent

go 1.24.4

require (
	github.com/creack/pty v1.1.18
	github.com/gorilla/websocket v1.5.4-0.20250319132907-e064f32e3674
)

require golang.org/x/net v0.26.0 // indirect
