package etcdserver

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/embed"
)

// freeURL is a loopback http URL on a port nobody listens on.
func freeURL(t *testing.T) url.URL {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

// startPlain starts a throw-away etcd in dir (plain http on loopback: the
// defragmentation logic does not depend on TLS).
func startPlain(t *testing.T, dir string, bootstrapDefragMB uint) *embed.Etcd {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.UnsafeNoFsync = true
	client, peer := freeURL(t), freeURL(t)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.BootstrapDefragThresholdMegabytes = bootstrapDefragMB
	server, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-server.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd did not become ready")
	}
	return server
}

// fillAndFree writes ~100 MiB of values, deletes them and compacts them away:
// the pages stay in the file, free.
func fillAndFree(t *testing.T, server *embed.Etcd) {
	ctx := context.Background()
	value := make([]byte, 1<<20)
	for i := range 100 {
		if _, err := server.Server.Put(ctx, &pb.PutRequest{Key: fmt.Appendf(nil, "/waste/%03d", i), Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	deleted, err := server.Server.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("/waste/"), RangeEnd: []byte("/waste0")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Server.Compact(ctx, &pb.CompactionRequest{Revision: deleted.Header.Revision, Physical: true}); err != nil {
		t.Fatal(err)
	}
	// Compaction deletes in batches, and bbolt frees pages once no reader holds them.
	be := server.Server.Backend()
	for deadline := time.Now().Add(10 * time.Second); be.Size()-be.SizeInUse() < defragThresholdBytes; {
		if time.Now().After(deadline) {
			t.Fatalf("the test made only %d MiB of free pages", (be.Size()-be.SizeInUse())>>20)
		}
		time.Sleep(50 * time.Millisecond)
		be.ForceCommit()
	}
}

func TestARunningEtcdDefragmentsItsFreePages(t *testing.T) {
	server := startPlain(t, t.TempDir(), 0)
	defer server.Close()
	fillAndFree(t, server)
	before := server.Server.Backend().Size()
	stop := make(chan struct{})
	defer close(stop)
	go defragWhenWasteful(server, 50*time.Millisecond, stop)
	deadline := time.Now().Add(20 * time.Second)
	for server.Server.Backend().Size() > before/2 {
		if time.Now().After(deadline) {
			t.Fatalf("not defragmented: %d MiB", server.Server.Backend().Size()>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEtcdDefragmentsAtStartWhenItFreesEnough(t *testing.T) {
	dir := t.TempDir()
	server := startPlain(t, dir, 0)
	fillAndFree(t, server)
	before := server.Server.Backend().Size()
	server.Close()

	options, err := parseOptions(validArgs())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(options)
	if err != nil {
		t.Fatal(err)
	}
	restarted := startPlain(t, dir, cfg.BootstrapDefragThresholdMegabytes)
	defer restarted.Close()
	if after := restarted.Server.Backend().Size(); after > before/2 {
		t.Fatalf("start-up left %d MiB of %d MiB", after>>20, before>>20)
	}
}
