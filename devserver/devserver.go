// Package devserver runs an embedded Temporal server for `ozgflow dev` and the
// end-to-end tests: all services in one process, persisted to a SQLite file
// (or kept in memory), with the ozgflow namespace and search attributes.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ozgflow/ozgflow"
	_ "github.com/ozgflow/ozgflow/internal/sqlitemem" // sets SQLite's memory options before any database opens
)

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file; empty keeps everything in memory.
	DatabaseFile string
	// Postgres, if set, keeps the state in PostgreSQL instead of SQLite.
	Postgres *Postgres
	// Namespace to create; defaults to ozgflow.Namespace.
	Namespace string
	// Port of the frontend gRPC API on 127.0.0.1; 0 picks a free one.
	Port int
	// HistoryShards defaults to 1; more did not help on 2 cores.
	HistoryShards int32
	// WorkerCacheSize bounds the Go SDK's sticky workflow cache, which every
	// worker in the process shares, the server's own system workers
	// included. They start first and create the cache, so a size set later
	// by the process's worker is ignored; 0 leaves the SDK's default
	// (10,000 workflows).
	WorkerCacheSize int
	Logger          *slog.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	server  temporal.Server
	address string
}

// SearchAttributes are registered in the namespace at start.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	ozgflow.SearchAttrService:    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ozgflow.SearchAttrAuthority:  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ozgflow.SearchAttrStatus:     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ozgflow.SearchAttrStage:      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ozgflow.SearchAttrQueue:      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	ozgflow.SearchAttrDueAt:      enumspb.INDEXED_VALUE_TYPE_DATETIME,
	ozgflow.SearchAttrDefinition: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

const clusterName = "active"

// DevRetention is how long the embedded server keeps the history of a
// closed workflow: a week, long enough to look at last Friday's cases in
// the Web UI on Monday, short enough that a dev data directory does not
// grow without end. The server's own default (a day) loses a case's
// history before anyone looks; ozgflow's own retention, per variant,
// erases personal data on its schedule whichever is shorter.
const DevRetention = 7 * 24 * time.Hour

// Start starts the server and returns once its frontend accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.Namespace == "" {
		opts.Namespace = ozgflow.Namespace
	}
	if opts.HistoryShards == 0 {
		opts.HistoryShards = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	if opts.Port != 0 {
		ports[0] = opts.Port
	}
	var conf *config.Config
	if opts.Postgres != nil {
		if err := SetupPostgres(*opts.Postgres); err != nil {
			return nil, err
		}
		conf = serverConfig(opts, opts.Postgres.sqlConfig(opts.Postgres.Database), ports)
		conf.Persistence.VisibilityStore = "visibility"
		conf.Persistence.DataStores["visibility"] = config.DataStore{SQL: opts.Postgres.sqlConfig(opts.Postgres.VisibilityDatabase)}
	} else {
		sqlConf, err := sqlConfig(opts)
		if err != nil {
			return nil, err
		}
		conf = serverConfig(opts, sqlConf, ports)
	}
	host := func(port int) static.Hosts { return static.SingleLocalHost("127.0.0.1:" + strconv.Itoa(port)) }
	dc := dynamicConfig(opts)
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(ports[0]),
			primitives.HistoryService:  host(ports[2]),
			primitives.MatchingService: host(ports[3]),
			primitives.WorkerService:   host(ports[4]),
		}),
		temporal.WithLogger(newLogger(opts.Logger)),
		temporal.WithDynamicConfigClient(dc),
	)
	if err != nil {
		return nil, fmt.Errorf("build temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{server: srv, address: "127.0.0.1:" + strconv.Itoa(ports[0])}
	if err := waitForPort(s.address, 30*time.Second); err != nil {
		srv.Stop()
		return nil, err
	}
	if opts.Postgres != nil {
		if err := EnsureNamespace(context.Background(), s.address, opts.Namespace); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	// A namespace made by an older dev kept the server's default; set it.
	if err := SetRetention(context.Background(), s.address, opts.Namespace, DevRetention); err != nil {
		srv.Stop()
		return nil, err
	}
	// On SQLite the search attributes are in the database before the
	// server starts; on PostgreSQL they are added after, and the history
	// service's copy would lag behind, so it keeps reading them afresh.
	if opts.Postgres == nil {
		if err := settleSearchAttributes(context.Background(), s.address, opts.Namespace, dc); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

// dynamicConfig is the server's dynamic configuration. It reads the
// search attributes afresh on every use until they are registered
// (settleSearchAttributes ends that).
//
// Its caches are sized for one machine that keeps many cases waiting for
// people: a waiting case needs no place in memory, and is read from the
// database again when it next has work. Measured with `ozgflow bench
// --phases waiting` (BENCHMARKS.md): with 10,000 cases waiting, the host's
// cache of mutable states held 8,192 of them, about 110 MiB of live heap and
// more than twice that in RSS; at 512 it holds the cases that are moving.
// The XDC cache keeps event blobs for replication to other clusters, of
// which dev has none.
func dynamicConfig(opts Options) *dynamicconfig.MemoryClient {
	dc := dynamicconfig.NewMemoryClient()
	settings := map[dynamicconfig.Key]any{
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 500,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 512,
		dynamicconfig.XDCCacheMaxSizeBytes.Key():                         1 << 20,
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():      true,
		// A case keeps its projection, a few kilobytes, in its memo.
		dynamicconfig.MemoSizeLimitWarn.Key(): 512 << 10,
		// One host and one database file: the database, not a rate limit
		// meant for shared clusters, bounds the load.
		dynamicconfig.FrontendPersistenceMaxQPS.Key(): 20000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():  20000,
		dynamicconfig.MatchingPersistenceMaxQPS.Key(): 20000,
		// A queue keeps the tasks it finished until its next checkpoint,
		// and walks all of them whenever new tasks arrive: at the default
		// of 30 s that walk took 5.8 to 8.7 % of the CPU under load, and
		// more as a run went on (BENCHMARKS.md). A checkpoint is one small
		// write.
		dynamicconfig.TransferProcessorUpdateAckInterval.Key():   2 * time.Second,
		dynamicconfig.VisibilityProcessorUpdateAckInterval.Key(): 2 * time.Second,
		// On SQLite each page the timer queue reads starts at the oldest
		// timer task not yet deleted (the store's query gives SQLite no
		// lower bound). With pages of 100 the queue fell behind under
		// load, its backlog grew, and every page took longer: the engine
		// slowed by a sixth within two minutes (BENCHMARKS.md). Pages of
		// 1,000 keep it up to date.
		dynamicconfig.TimerTaskBatchSize.Key(): 1000,
		// Every batch of events a workflow writes was walked, payload by
		// payload, to count payloads kept outside the engine, of which
		// ozgflow has none: 1.8 % of the CPU under load.
		dynamicconfig.ExternalPayloadsEnabled.Key(): false,
	}
	if opts.WorkerCacheSize > 0 {
		// The server hands this to worker.SetStickyWorkflowCacheSize
		// before it starts its workers.
		settings[dynamicconfig.WorkerStickyCacheSize.Key()] = opts.WorkerCacheSize
	}
	for key, value := range settings {
		dc.OverrideValue(key, value)
	}
	return dc
}

// settleSearchAttributes reads the registered search attributes once more,
// which refreshes the server's cache of them, and then lets the server
// keep that cache: reading them afresh on every start of a workflow and
// every row of a listing costs a database read each.
func settleSearchAttributes(ctx context.Context, addr, namespace string, dc *dynamicconfig.MemoryClient) error {
	c, ctx, done, err := dialFor(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	if _, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace}); err != nil {
		return fmt.Errorf("read the search attributes of %s: %w", namespace, err)
	}
	dc.OverrideValue(dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(), false)
	return nil
}

// Address is the host:port of the frontend gRPC API.
func (s *Server) Address() string { return s.address }

// Stop stops all services and closes the database.
func (s *Server) Stop() { s.server.Stop() }

func sqlConfig(opts Options) (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if opts.DatabaseFile == "" {
		conf.DatabaseName = "ozgflow-" + strconv.Itoa(rand.IntN(1<<30))
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
	} else {
		conf.DatabaseName = opts.DatabaseFile
		conf.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "NORMAL",
			"busy_timeout": "10000"}
		conf.MaxConns = 1
		conf.MaxIdleConns = 1
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	// The in-memory store sets its schema up itself; a new file needs it.
	if opts.DatabaseFile != "" {
		_, err := os.Stat(opts.DatabaseFile)
		fresh := errors.Is(err, os.ErrNotExist)
		if !fresh {
			return conf, createNamespace(conf, opts)
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("set up temporal schema: %w", err)
		}
	}
	return conf, createNamespace(conf, opts)
}

// createNamespace registers the namespace with ozgflow's search attributes;
// an existing namespace is left as it is.
func createNamespace(conf *config.SQL, opts Options) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, SearchAttributes)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", opts.Namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(DevRetention)
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", opts.Namespace, err)
	}
	return nil
}

func serverConfig(opts Options, sqlConf *config.SQL, ports []int) *config.Config {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = "127.0.0.1"
	conf.Persistence.DefaultStore = "default"
	conf.Persistence.VisibilityStore = "default"
	conf.Persistence.NumHistoryShards = opts.HistoryShards
	conf.Persistence.DataStores = map[string]config.DataStore{"default": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             "127.0.0.1:" + strconv.Itoa(ports[0]),
			HTTPAddress:            "127.0.0.1:" + strconv.Itoa(ports[1]),
			ClusterID:              "ozgflow-dev",
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	service := func(grpc, http int) config.Service {
		var s config.Service
		s.RPC.GRPCPort, s.RPC.HTTPPort, s.RPC.BindOnIP = grpc, http, "127.0.0.1"
		return s
	}
	conf.Services = map[string]config.Service{
		"frontend": service(ports[0], ports[1]),
		"history":  service(ports[2], 0),
		"matching": service(ports[3], 0),
		"worker":   service(ports[4], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = "127.0.0.1:" + strconv.Itoa(ports[0])
	return &conf
}

// freePorts finds n distinct ports of 127.0.0.1 that nothing listens on
// and this process has not handed out before. They are drawn below the
// usual start of the kernel's ephemeral ports (32768), so that between the
// check and the server's bind an outgoing connection or a listener on port
// 0 is unlikely to be given one of them, as happened when many test
// processes ran beside each other.
func freePorts(n int) ([]int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("find a free port: none of 1000 tried from %d to %d", lowestPort, lowestPort+portRange-1)
		}
		port := lowestPort + rand.IntN(portRange)
		if portsGiven[port] || portFree(port) != nil {
			continue
		}
		portsGiven[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// The ports freePorts draws from.
const (
	lowestPort = 20000
	portRange  = 12000
)

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{} // ports freePorts handed out, never twice in a process
)

func waitForPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal frontend %s did not come up: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
