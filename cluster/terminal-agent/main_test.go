package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const testToken = "test-token-0123456789"

// startAgent serves an agent whose token file holds testToken.
func startAgent(t *testing.T) string {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	// TLS as the agent serves it; the client trusts the test server's certificate alone.
	server := httptest.NewUnstartedServer(newAgent(tokenFile, t.Logf))
	server.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	server.StartTLS()
	t.Cleanup(server.Close)
	dialer = &websocket.Dialer{TLSClientConfig: server.Client().Transport.(*http.Transport).TLSClientConfig}
	return "wss" + strings.TrimPrefix(server.URL, "https") + "/terminal"
}

// dialer trusts the newest test server's certificate.
var dialer *websocket.Dialer

func dial(t *testing.T, url string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	conn, res, err := dialer.Dial(url, header)
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, res, err
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// open dials with the token and names the command.
func open(t *testing.T, url string, command ...string) *websocket.Conn {
	t.Helper()
	conn, _, err := dial(t, url, bearer(testToken))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	hello, _ := json.Marshal(hello{Command: command, Cols: 100, Rows: 30})
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readUntil reads the terminal's output until it contains want, and any exit message.
func readUntil(t *testing.T, conn *websocket.Conn, want string) (output string, exit map[string]any) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out strings.Builder
	for !strings.Contains(out.String(), want) {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q, got %q and then %v", want, out.String(), err)
		}
		if kind == websocket.TextMessage {
			json.Unmarshal(data, &exit)
			continue
		}
		out.Write(data)
	}
	return out.String(), exit
}

func TestRefusesWithoutTheToken(t *testing.T) {
	url := startAgent(t)
	for name, header := range map[string]http.Header{
		"no token":    nil,
		"wrong token": bearer("not-the-token"),
		"prefix":      bearer(testToken[:10]),
		"basic":       {"Authorization": {"Basic " + testToken}},
	} {
		_, res, err := dial(t, url, header)
		if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: want 401, got %v %v", name, res, err)
		}
	}
}

func TestRefusesWebPages(t *testing.T) {
	header := bearer(testToken)
	header.Set("Origin", "http://evil.example")
	_, res, err := dial(t, startAgent(t), header)
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("want 403 for a request with an Origin, got %v %v", res, err)
	}
}

func TestRefusesWhenTheTokenFileIsMissing(t *testing.T) {
	server := httptest.NewServer(newAgent(filepath.Join(t.TempDir(), "absent"), t.Logf))
	defer server.Close()
	dialer = websocket.DefaultDialer
	_, res, err := dial(t, "ws"+strings.TrimPrefix(server.URL, "http")+"/terminal", bearer(""))
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("want 503, got %v %v", res, err)
	}
}

func TestRunsTheCommandOnATerminal(t *testing.T) {
	conn := open(t, startAgent(t), "sh", "-c", `[ -t 0 ] && echo tty; stty size; read line; echo "got $line"; exit 3`)
	readUntil(t, conn, "30 100") // the hello's size
	conn.WriteMessage(websocket.BinaryMessage, []byte("hello\r"))
	_, _ = readUntil(t, conn, "got hello")
	// The exit message follows the output, then the agent closes.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("no exit message before %v", err)
		}
		if kind == websocket.TextMessage {
			var exit struct {
				Type string
				Code int
			}
			json.Unmarshal(data, &exit)
			if exit.Type != "exit" || exit.Code != 3 {
				t.Fatalf("want exit code 3, got %s", data)
			}
			return
		}
	}
}

func TestResizes(t *testing.T) {
	conn := open(t, startAgent(t), "sh", "-c", `read x; stty size; sleep 5`)
	resize, _ := json.Marshal(control{Type: "resize", Cols: 132, Rows: 43})
	conn.WriteMessage(websocket.TextMessage, resize)
	time.Sleep(100 * time.Millisecond)
	conn.WriteMessage(websocket.BinaryMessage, []byte("\r"))
	readUntil(t, conn, "43 132")
}

func TestHangsUpWhenTheClientGoes(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// A command that ignores nothing: the hang-up must end it and its child.
	conn := open(t, startAgent(t), "sh", "-c", `sleep 300 & echo $! > `+pidFile+`; echo started; wait`)
	readUntil(t, conn, "started")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	json.Unmarshal([]byte(strings.TrimSpace(string(data))), &pid)
	conn.Close()
	deadline := time.Now().Add(hangUpGrace + 3*time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %d outlived its client", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBoundsTheCommand(t *testing.T) {
	conn, _, err := dial(t, startAgent(t), bearer(testToken))
	if err != nil {
		t.Fatal(err)
	}
	conn.WriteMessage(websocket.TextMessage, []byte(`{"command": []}`))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("want a policy-violation close for an empty command, got %v", err)
	}
}
