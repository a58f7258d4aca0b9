// Package etcdserver runs a single-member embedded etcd for the local node.
package etcdserver

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

// Run starts etcd with the given command-line flags and blocks until it stops
// or the process receives SIGINT/SIGTERM.
func Run(args []string) error {
	flags := flag.NewFlagSet("etcd", flag.ContinueOnError)
	dataDir := flags.String("data-dir", "", "directory holding etcd's data (required)")
	clientURL := flags.String("listen-client-url", "http://127.0.0.1:2379", "URL serving etcd clients")
	peerURL := flags.String("listen-peer-url", "http://127.0.0.1:2380", "URL for the (single) peer")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	client, err := url.Parse(*clientURL)
	if err != nil {
		return fmt.Errorf("bad --listen-client-url: %w", err)
	}
	peer, err := url.Parse(*peerURL)
	if err != nil {
		return fmt.Errorf("bad --listen-peer-url: %w", err)
	}

	cfg := embed.NewConfig()
	cfg.Name = "kubelab"
	cfg.Dir = *dataDir
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	// A lab cluster is disposable: skipping fsync makes writes several times
	// faster and still survives a killed process (only a power loss can lose data).
	cfg.UnsafeNoFsync = true

	server, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	defer server.Close()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-server.Server.ReadyNotify():
		fmt.Fprintln(os.Stderr, "etcd: ready to serve clients on", client.String())
	case err := <-server.Err():
		return err
	case <-stop:
		return nil
	}
	select {
	case err := <-server.Err():
		return err
	case <-stop:
		return nil
	}
}
