package etcdserver

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
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

// dbResidentBytes is how much of etcd's database file this process has resident (its mapping's Rss).
func dbResidentBytes(t *testing.T, dir string) int64 {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps here:", err)
	}
	var total int64
	inDB := false
	for _, line := range strings.Split(string(smaps), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 6 && strings.Contains(fields[0], "-") {
			inDB = strings.HasPrefix(fields[5], dir) && strings.HasSuffix(fields[5], "/db")
		} else if inDB && len(fields) == 3 && fields[0] == "Rss:" {
			kib, _ := strconv.ParseInt(fields[1], 10, 64)
			total += kib << 10
		}
	}
	return total
}

func TestARestartedEtcdKeepsItsFreePagesOutOfMemory(t *testing.T) {
	mapOnDemand()
	dir := t.TempDir()
	server := startPlain(t, dir, 0)
	fillAndFree(t, server)
	server.Close()
	// Restarted with the file as it was (no defragmentation at start): etcd's own
	// MAP_POPULATE read the whole file in, ~100 MiB resident for ~1 MiB of data.
	restarted := startPlain(t, dir, 0)
	defer restarted.Close()
	size, resident := restarted.Server.Backend().Size(), dbResidentBytes(t, dir)
	if resident > size/4 {
		t.Fatalf("%d MiB of the %d MiB database file are resident; its free pages should not be", resident>>20, size>>20)
	}
}
