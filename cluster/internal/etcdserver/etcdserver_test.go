package etcdserver

import (
	"strings"
	"testing"
)

func validArgs() []string {
	return []string{
		"--data-dir=/d",
		"--listen-client-url=https://127.0.0.1:12379",
		"--listen-peer-url=https://127.0.0.1:12380",
		"--cert-file=/p/server.crt", "--key-file=/p/server.key", "--trusted-ca-file=/p/ca.crt",
		"--peer-cert-file=/p/peer.crt", "--peer-key-file=/p/peer.key", "--peer-trusted-ca-file=/p/ca.crt",
	}
}

func TestConfigRequiresClientCertificatesAndServesNoBrowser(t *testing.T) {
	options, err := parseOptions(validArgs())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(options)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ClientTLSInfo.ClientCertAuth || cfg.ClientTLSInfo.TrustedCAFile != "/p/ca.crt" {
		t.Errorf("client TLS without client-certificate auth: %+v", cfg.ClientTLSInfo)
	}
	if !cfg.PeerTLSInfo.ClientCertAuth || cfg.PeerTLSInfo.TrustedCAFile != "/p/ca.crt" {
		t.Errorf("peer TLS without client-certificate auth: %+v", cfg.PeerTLSInfo)
	}
	if cfg.EnableGRPCGateway {
		t.Error("the HTTP JSON gateway is on")
	}
	// etcd allows every origin when the list is empty or holds "*".
	if _, star := cfg.CORS["*"]; star || len(cfg.CORS) == 0 {
		t.Errorf("CORS allows every origin: %v", cfg.CORS)
	}
	for origin := range cfg.CORS {
		if strings.Contains(origin, "://") || origin == "null" {
			t.Errorf("CORS allows an origin a browser can send: %q", origin)
		}
	}
}

func TestConfigBoundsObjectsAndTheDatabase(t *testing.T) {
	options, err := parseOptions(validArgs())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(options)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxRequestBytes != 128<<10 || cfg.QuotaBackendBytes != 8<<30 {
		t.Errorf("MaxRequestBytes %d, QuotaBackendBytes %d: want the sizes the class arithmetic assumes", cfg.MaxRequestBytes, cfg.QuotaBackendBytes)
	}
}

func TestPlainHTTPAndMissingCertificatesAreRefused(t *testing.T) {
	for _, flag := range []string{"--listen-client-url=http://127.0.0.1:12379", "--listen-peer-url=http://127.0.0.1:12380"} {
		options, err := parseOptions(append(validArgs(), flag))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Config(options); err == nil || !strings.Contains(err.Error(), "https://") {
			t.Errorf("%s: want an https error, got %v", flag, err)
		}
	}
	args := validArgs()
	for i := 3; i < len(args); i++ {
		without := append(append([]string{}, args[:i]...), args[i+1:]...)
		if _, err := parseOptions(without); err == nil {
			t.Errorf("no error without %s", args[i])
		}
	}
}
