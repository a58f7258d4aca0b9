// Package etcdserver runs a single-member embedded etcd for the local node.
//
// etcd holds every object of the cluster, so it only speaks TLS and only to
// clients holding a certificate from its own CA (the API server's
// apiserver-etcd-client): a web page in a browser on the same machine, or any
// other local process, cannot read or write it. The HTTP JSON gateway and
// CORS headers, which exist for browsers and curl, are off.
package etcdserver

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
	_ "unsafe" // go:linkname, for boltOpenOptions

	bolt "go.etcd.io/bbolt"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/membership"
)

// noBrowserOrigin is the only "allowed" CORS origin. etcd treats an empty CORS
// list as "allow every origin", so the list must hold something; a browser's
// Origin header is always "scheme://host[:port]" or "null", never this.
const noBrowserOrigin = "kubelab-no-cors"

// Options are etcd's command-line settings.
type Options struct {
	DataDir   string
	ClientURL string
	PeerURL   string
	// TLS for clients (the API server): server certificate and the CA that
	// client certificates must chain to.
	CertFile, KeyFile, TrustedCAFile string
	// TLS between peers (a single member, but the listener exists).
	PeerCertFile, PeerKeyFile, PeerTrustedCAFile string
}

func parseOptions(args []string) (Options, error) {
	var o Options
	flags := flag.NewFlagSet("etcd", flag.ContinueOnError)
	flags.StringVar(&o.DataDir, "data-dir", "", "directory holding etcd's data (required)")
	flags.StringVar(&o.ClientURL, "listen-client-url", "https://127.0.0.1:2379", "https URL serving etcd clients")
	flags.StringVar(&o.PeerURL, "listen-peer-url", "https://127.0.0.1:2380", "https URL for the (single) peer")
	flags.StringVar(&o.CertFile, "cert-file", "", "client-facing serving certificate (required)")
	flags.StringVar(&o.KeyFile, "key-file", "", "key of --cert-file (required)")
	flags.StringVar(&o.TrustedCAFile, "trusted-ca-file", "", "CA that client certificates must be signed by (required)")
	flags.StringVar(&o.PeerCertFile, "peer-cert-file", "", "peer serving and client certificate (required)")
	flags.StringVar(&o.PeerKeyFile, "peer-key-file", "", "key of --peer-cert-file (required)")
	flags.StringVar(&o.PeerTrustedCAFile, "peer-trusted-ca-file", "", "CA that peer certificates must be signed by (required)")
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	required := []struct{ name, value string }{
		{"data-dir", o.DataDir}, {"cert-file", o.CertFile}, {"key-file", o.KeyFile}, {"trusted-ca-file", o.TrustedCAFile},
		{"peer-cert-file", o.PeerCertFile}, {"peer-key-file", o.PeerKeyFile}, {"peer-trusted-ca-file", o.PeerTrustedCAFile},
	}
	for _, flag := range required {
		if flag.value == "" {
			return o, fmt.Errorf("--%s is required", flag.name)
		}
	}
	return o, nil
}

func httpsURL(name, raw string) (url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return url.URL{}, fmt.Errorf("bad --%s: %w", name, err)
	}
	if u.Scheme != "https" {
		return url.URL{}, fmt.Errorf("--%s must be an https:// URL (etcd only serves TLS with client certificates), got %q", name, raw)
	}
	return *u, nil
}

// Config builds the embedded etcd configuration for the options.
func Config(o Options) (*embed.Config, error) {
	client, err := httpsURL("listen-client-url", o.ClientURL)
	if err != nil {
		return nil, err
	}
	peer, err := httpsURL("listen-peer-url", o.PeerURL)
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "kubelab"
	cfg.Dir = o.DataDir
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ClientTLSInfo.CertFile = o.CertFile
	cfg.ClientTLSInfo.KeyFile = o.KeyFile
	cfg.ClientTLSInfo.TrustedCAFile = o.TrustedCAFile
	cfg.ClientTLSInfo.ClientCertAuth = true
	cfg.PeerTLSInfo.CertFile = o.PeerCertFile
	cfg.PeerTLSInfo.KeyFile = o.PeerKeyFile
	cfg.PeerTLSInfo.TrustedCAFile = o.PeerTrustedCAFile
	cfg.PeerTLSInfo.ClientCertAuth = true
	// The API server talks gRPC; the JSON gateway only serves browsers and curl.
	cfg.EnableGRPCGateway = false
	cfg.CORS = map[string]struct{}{noBrowserOrigin: {}}
	cfg.LogLevel = "warn"
	// A lab cluster is disposable: skipping fsync makes writes several times
	// faster and still survives a killed process (only a power loss can lose data).
	cfg.UnsafeNoFsync = true
	// etcd's file is memory-mapped whole, so its free pages (left by compacted
	// revisions: Events, learners' objects come and go) are resident memory.
	// Start-up defragments when that frees enough; a running node does it in
	// defragWhenWasteful.
	cfg.BootstrapDefragThresholdMegabytes = defragThresholdBytes >> 20
	// A class shares this etcd: the largest object it stores, times every object
	// the learners' quotas allow, fits the backend quota (README, "Running a
	// class"). Past the quota etcd raises its NOSPACE alarm and refuses writes.
	cfg.MaxRequestBytes = MaxRequestBytes
	cfg.QuotaBackendBytes = QuotaBackendBytes
	// etcd keeps the raft entries since its last snapshot in memory, plus
	// SnapshotCatchUpEntries more for a follower that lags; by default up to
	// 10000 + 5000 entries, each a whole written object (a class's writes
	// hold tens of MiB there). One member has no follower to catch up, and a
	// snapshot of its store is cheap, so snapshot every 1000 and keep 100.
	cfg.SnapshotCount = 1000
	cfg.SnapshotCatchUpEntries = 100
	return cfg, nil
}

// MaxRequestBytes bounds one write, so the largest object the API server can
// store (etcd's default is 1.5 MiB). The lessons' objects are a few KiB; the
// node's largest own object, its Node with the image list, about 20 KiB.
const MaxRequestBytes = 128 << 10

// QuotaBackendBytes is etcd's database size past which it raises the NOSPACE
// alarm and turns read-only (the default is 2 GiB; 8 GiB is etcd's documented
// practical maximum). It holds a class of 100 at its quotas' worst case: see
// src/lab/manifests.ts (etcdWorstCaseBytes).
const QuotaBackendBytes = 8 << 30

// defragThresholdBytes is how much free space in etcd's file is worth a
// defragmentation, which blocks requests for its duration (about a second per
// 100 MB in use here). A running etcd also waits until the file is at least
// twice its data (defragWhenWasteful): a class's history, compacted every
// minute, is not worth a pause each time.
const defragThresholdBytes = 16 << 20

// defragCheckInterval is how often a running etcd looks at its free space.
// The API server compacts old revisions every minute (node-config.ts).
const defragCheckInterval = 10 * time.Minute

// defragWhenWasteful looks every interval and defragments etcd's file
// whenever at least defragThresholdBytes of it, and at least as much as is in
// use, are free pages, until stop is closed.
func defragWhenWasteful(server *embed.Etcd, interval time.Duration, stop <-chan struct{}) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		be := server.Server.Backend()
		before, inUse := be.Size(), be.SizeInUse()
		if free := before - inUse; free >= defragThresholdBytes && free >= inUse || noSpaceAlarm(server) {
			started := time.Now()
			if err := be.Defrag(); err != nil {
				fmt.Fprintln(os.Stderr, "etcd: defragmentation failed:", err)
				continue
			}
			fmt.Fprintf(os.Stderr, "etcd: defragmented %d MiB to %d MiB in %s\n", before>>20, be.Size()>>20, time.Since(started).Round(time.Millisecond))
		}
		disarmWhenRoom(server)
	}
}

func noSpaceAlarm(server *embed.Etcd) bool {
	for _, alarm := range server.Server.Alarms() {
		if alarm.Alarm == pb.AlarmType_NOSPACE {
			return true
		}
	}
	return false
}

// disarmWhenRoom clears the NOSPACE alarm once the database is back under
// nine tenths of its quota: the alarm outlives the history that raised it
// (the API server compacts old revisions every minute, a defragmentation
// returns their pages), and until it is cleared etcd refuses every write.
func disarmWhenRoom(server *embed.Etcd) {
	if !noSpaceAlarm(server) || server.Server.Backend().Size() >= QuotaBackendBytes/10*9 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := server.Server.Alarm(ctx, &pb.AlarmRequest{
		Action: pb.AlarmRequest_DEACTIVATE, MemberID: uint64(server.Server.MemberID()), Alarm: pb.AlarmType_NOSPACE,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd: could not clear the NOSPACE alarm:", err)
		return
	}
	fmt.Fprintf(os.Stderr, "etcd: cleared the NOSPACE alarm (database %d MiB of a %d MiB quota)\n", server.Server.Backend().Size()>>20, QuotaBackendBytes>>20)
}

// boltOpenOptions is etcd's own choice of how its backend opens the database
// file (storage/backend/config_linux.go), which no setting exposes. On Linux
// it maps the file with MAP_POPULATE, reading every page of it into memory at
// start and at every remap as it grows: free pages left by compacted
// revisions included, the whole file stayed resident (60 MiB of a node's
// idle memory when the file had grown to 60 MiB with 17 MiB in use).
// Without it, only the pages etcd reads are resident: at start, the ones
// holding the current keys it indexes. The link fails at build time if etcd
// renames it.
//
//go:linkname boltOpenOptions go.etcd.io/etcd/server/v3/storage/backend.boltOpenOptions
var boltOpenOptions *bolt.Options

// mapOnDemand makes etcd's backend map its file without prefaulting it (boltOpenOptions).
func mapOnDemand() {
	if boltOpenOptions != nil {
		boltOpenOptions.MmapFlags &^= syscall.MAP_POPULATE
	}
}

// Run starts etcd with the given command-line flags and blocks until it stops
// or the process receives SIGINT/SIGTERM.
func Run(args []string) error {
	options, err := parseOptions(args)
	if err != nil {
		return err
	}
	cfg, err := Config(options)
	if err != nil {
		return err
	}
	mapOnDemand()
	server, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	defer server.Close()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-server.Server.ReadyNotify():
		fmt.Fprintln(os.Stderr, "etcd: ready to serve clients on", options.ClientURL)
		if err := updatePeerURL(server, options.PeerURL); err != nil {
			fmt.Fprintln(os.Stderr, "etcd: could not update the member's peer URL:", err)
		}
		// A node stopped while over its quota comes back with the alarm set; start-up defragmented it.
		disarmWhenRoom(server)
		done := make(chan struct{})
		defer close(done)
		go defragWhenWasteful(server, defragCheckInterval, done)
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

// updatePeerURL records the peer URL in the member list when a data dir
// written by an older kubelab (plain http peer URL) is started: etcd keeps a
// restarted member's stored peer URLs, which would otherwise stay stale.
func updatePeerURL(server *embed.Etcd, peerURL string) error {
	id := server.Server.MemberID()
	member := server.Server.Cluster().Member(id)
	if member == nil || slices.Equal(member.PeerURLs, []string{peerURL}) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := server.Server.UpdateMember(ctx, membership.Member{
		ID:             id,
		RaftAttributes: membership.RaftAttributes{PeerURLs: []string{peerURL}, IsLearner: member.IsLearner},
	})
	return err
}
