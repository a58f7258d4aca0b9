// Command terminal-agent runs in the learner's toolbox pod and serves
// terminals to kubelab's server on the node: one WebSocket per terminal, its
// command on a pseudo-terminal of its own.
//
// Why: a keystroke sent through the API's exec crosses the API server, the
// kubelet, the container runtime and its shim before it reaches the shell,
// each a process that must be woken on a busy machine. From the node, the
// pod's address is one hop away.
//
// Protocol (GET /terminal over TLS, upgraded to a WebSocket; docs/architecture.md):
//   - TLS with the lab's own key pair (--tls-cert, --tls-key), which the
//     server pins: a learner's pod that forges packets on the node's bridge
//     can neither read the token nor pose as the agent;
//   - the request carries "Authorization: Bearer <token>", the token being
//     the contents of --token-file, read on each request (a rotated Secret
//     takes effect without a restart); a request with an Origin header is
//     refused, so no web page can open one;
//   - the first message, text: {"command": [...], "cols": n, "rows": n};
//   - then binary messages are the terminal's bytes, both ways, and text
//     messages from the client are control: {"type": "resize", "cols": n, "rows": n};
//   - when the command exits, the agent sends {"type": "exit", "code": n}
//     and closes. When the client goes, the command's session is hung up
//     (SIGHUP, then SIGKILL after hangUpGrace), unlike a process under the
//     container runtime's console, which outlives its exec stream.
package main

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/gorilla/websocket"
)

const (
	// maxMessageBytes bounds one message from the client (keystrokes, a paste's chunk).
	maxMessageBytes = 64 << 10
	// maxSessions bounds the terminals one agent serves at a time.
	maxSessions = 16
	// helloTimeout is how long a new connection may take to name its command.
	helloTimeout = 5 * time.Second
	// hangUpGrace is how long a hung-up command has to exit before it is killed.
	hangUpGrace = 2 * time.Second
	// maxArgs and maxArgBytes bound the command (an exam shell's carries a kubeconfig).
	maxArgs     = 64
	maxArgBytes = 32 << 10
)

// hello is the first message of a connection.
type hello struct {
	Command []string `json:"command"`
	Cols    uint16   `json:"cols"`
	Rows    uint16   `json:"rows"`
}

// control is a later text message from the client.
type control struct {
	Type string `json:"type"`
	Cols uint16 `json:"cols"`
	Rows uint16 `json:"rows"`
}

// agent serves terminals to holders of the token in tokenFile.
type agent struct {
	tokenFile string
	sessions  chan struct{}
	upgrader  websocket.Upgrader
	logf      func(format string, args ...any)
}

func newAgent(tokenFile string, logf func(string, ...any)) *agent {
	return &agent{
		tokenFile: tokenFile,
		sessions:  make(chan struct{}, maxSessions),
		upgrader: websocket.Upgrader{
			ReadBufferSize:  32 << 10,
			WriteBufferSize: 32 << 10,
			// Origin-bearing requests are refused before the upgrade (ServeHTTP).
			CheckOrigin: func(*http.Request) bool { return true },
		},
		logf: logf,
	}
}

// authorized compares the request's bearer token with the token file in constant time.
func (a *agent) authorized(r *http.Request) (bool, error) {
	want, err := os.ReadFile(a.tokenFile)
	if err != nil {
		return false, err
	}
	token := strings.TrimSpace(string(want))
	if token == "" {
		return false, fmt.Errorf("%s is empty", a.tokenFile)
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1, nil
}

func (a *agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/terminal" {
		http.Error(w, "not found: the agent serves /terminal only", http.StatusNotFound)
		return
	}
	if r.Header.Get("Origin") != "" {
		http.Error(w, "forbidden: terminals are not served to web pages", http.StatusForbidden)
		return
	}
	ok, err := a.authorized(r)
	if err != nil {
		a.logf("refusing every terminal: cannot read the token: %v", err)
		http.Error(w, "unavailable: the agent has no token", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.Error(w, "unauthorized: a bearer token is required", http.StatusUnauthorized)
		return
	}
	select {
	case a.sessions <- struct{}{}:
		defer func() { <-a.sessions }()
	default:
		http.Error(w, fmt.Sprintf("too many terminals: at most %d at a time", maxSessions), http.StatusTooManyRequests)
		return
	}
	conn, err := a.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client.
	}
	defer conn.Close()
	conn.SetReadLimit(maxMessageBytes)
	if err := a.serve(conn); err != nil {
		a.logf("terminal from %s: %v", r.RemoteAddr, err)
	}
}

// readHello reads and checks the connection's first message.
func readHello(conn *websocket.Conn) (hello, error) {
	var h hello
	conn.SetReadDeadline(time.Now().Add(helloTimeout))
	kind, data, err := conn.ReadMessage()
	if err != nil {
		return h, fmt.Errorf("reading the first message: %w", err)
	}
	conn.SetReadDeadline(time.Time{})
	if kind != websocket.TextMessage {
		return h, errors.New("the first message must be text (JSON naming the command)")
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("the first message is not JSON: %w", err)
	}
	if len(h.Command) == 0 || len(h.Command) > maxArgs {
		return h, fmt.Errorf("the command must have 1 to %d arguments, not %d", maxArgs, len(h.Command))
	}
	for _, arg := range h.Command {
		if len(arg) > maxArgBytes {
			return h, fmt.Errorf("an argument of the command is longer than %d bytes", maxArgBytes)
		}
	}
	return h, nil
}

// serve runs one terminal until its command exits or its client goes.
func (a *agent) serve(conn *websocket.Conn) error {
	h, err := readHello(conn)
	if err != nil {
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, err.Error()))
		return err
	}
	cmd := exec.Command(h.Command[0], h.Command[1:]...)
	size := &pty.Winsize{Cols: h.Cols, Rows: h.Rows}
	if size.Cols == 0 || size.Rows == 0 {
		size = &pty.Winsize{Cols: 80, Rows: 24}
	}
	tty, err := pty.StartWithSize(cmd, size) // setsid: the command leads a session of its own
	if err != nil {
		msg := fmt.Sprintf("cannot start %q: %v", h.Command[0], err)
		writeJSON(conn, &sync.Mutex{}, map[string]any{"type": "exit", "code": 127, "message": msg})
		return errors.New(msg)
	}
	defer tty.Close()

	var writeMu sync.Mutex // gorilla allows one writer at a time
	exited := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		if err != nil {
			code = -1
			if exit, ok := err.(*exec.ExitError); ok {
				code = exit.ExitCode()
			}
		}
		exited <- code
	}()

	// Output: the pty to the client; a client that stops reading stops this
	// loop, and the command blocks on its terminal, as on a real one.
	outputDone := make(chan struct{})
	go func() {
		defer close(outputDone)
		buf := make([]byte, 32<<10)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				writeMu.Lock()
				werr := conn.WriteMessage(websocket.BinaryMessage, buf[:n])
				writeMu.Unlock()
				if werr != nil {
					return
				}
			}
			if err != nil {
				return // EIO once the command and its children have closed the terminal
			}
		}
	}()

	// Input and control, until the client goes.
	inputDone := make(chan error, 1)
	go func() {
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				inputDone <- err
				return
			}
			if kind == websocket.BinaryMessage {
				if _, err := tty.Write(data); err != nil {
					inputDone <- err
					return
				}
				continue
			}
			var c control
			if json.Unmarshal(data, &c) == nil && c.Type == "resize" && c.Cols > 0 && c.Rows > 0 {
				pty.Setsize(tty, &pty.Winsize{Cols: c.Cols, Rows: c.Rows})
			}
		}
	}()

	select {
	case code := <-exited:
		// Let the last output through before saying so.
		select {
		case <-outputDone:
		case <-time.After(time.Second):
		}
		writeJSON(conn, &writeMu, map[string]any{"type": "exit", "code": code})
		writeMu.Lock()
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		writeMu.Unlock()
		return nil
	case <-inputDone:
		hangUp(cmd, tty, exited)
		return nil
	}
}

// hangUp ends a command whose client went: SIGHUP to its session's process
// group (as a terminal's hang-up does), SIGKILL if it is still there after hangUpGrace.
func hangUp(cmd *exec.Cmd, tty *os.File, exited <-chan int) {
	pgid := cmd.Process.Pid // the session leader's group
	syscall.Kill(-pgid, syscall.SIGHUP)
	tty.Close()
	select {
	case <-exited:
	case <-time.After(hangUpGrace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
}

func writeJSON(conn *websocket.Conn, mu *sync.Mutex, v any) {
	data, _ := json.Marshal(v)
	mu.Lock()
	defer mu.Unlock()
	conn.WriteMessage(websocket.TextMessage, data)
}

func main() {
	listen := flag.String("listen", ":7681", "address to serve terminals on")
	dir := "/var/run/kubelab/terminal"
	tokenFile := flag.String("token-file", dir+"/token", "file holding the bearer token clients must present")
	certFile := flag.String("tls-cert", dir+"/tls.crt", "the serving certificate (PEM)")
	keyFile := flag.String("tls-key", dir+"/tls.key", "its private key (PEM)")
	flag.Parse()
	logger := log.New(os.Stderr, "terminal-agent: ", log.LstdFlags)
	server := &http.Server{
		Addr:              *listen,
		Handler:           newAgent(*tokenFile, logger.Printf),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS13},
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          logger,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(shutdown)
	}()
	// PID 1 is tini, which reaps the orphans of hung-up sessions.
	if err := server.ListenAndServeTLS(*certFile, *keyFile); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Fatalf("cannot serve on %s with %s: %v", *listen, *certFile, err)
	}
}
