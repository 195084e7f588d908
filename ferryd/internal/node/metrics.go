package node

import (
	"net/http"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one node's, in a registry of its own: two nodes in one
// process (the tests) never mix their numbers.
type metrics struct {
	reg             *prometheus.Registry
	started         prometheus.Counter
	exited          prometheus.Counter
	checkpoints     prometheus.Counter
	checkpointBytes prometheus.Counter
	migrations      *prometheus.CounterVec
	migrationBytes  *prometheus.CounterVec
	downtime        prometheus.Histogram
	restoreSeconds  prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		started: prometheus.NewCounter(prometheus.CounterOpts{Name: "ferryd_instances_started_total",
			Help: "Instances started: run, restored, or migrated in."}),
		exited: prometheus.NewCounter(prometheus.CounterOpts{Name: "ferryd_instances_ended_total",
			Help: "Instances whose program ended (returned, exited, trapped or was stopped)."}),
		checkpoints: prometheus.NewCounter(prometheus.CounterOpts{Name: "ferryd_checkpoints_total",
			Help: "Checkpoints written, to the state directory or to a client."}),
		checkpointBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "ferryd_checkpoint_bytes_total",
			Help: "Bytes of the checkpoints written."}),
		migrations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferryd_migrations_total",
			Help: "Migrations by role (source, destination) and result (switched, aborted, refused, unresolved)."}, []string{"role", "result"}),
		migrationBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferryd_migration_bytes_total",
			Help: "Bytes of migration streams, framing included, by role."}, []string{"role"}),
		downtime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ferryd_migration_downtime_seconds",
			Help:    "From the pause on the source to the destination's first instruction, per switched migration (measured by the source).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		restoreSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ferryd_restore_seconds",
			Help:    "Time to restore a checkpoint up to its first instruction (file open, WASI state, memory checks).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	m.reg.MustRegister(m.started, m.exited, m.checkpoints, m.checkpointBytes, m.migrations, m.migrationBytes, m.downtime, m.restoreSeconds)
	return m
}

// registerInstances adds the gauge of instances by state, read from the
// node at each scrape.
func (n *Node) registerInstances() {
	desc := prometheus.NewDesc("ferryd_instances", "Instances this daemon holds, by state.", []string{"state"}, nil)
	n.metrics.reg.MustRegister(instanceCollector{n: n, desc: desc})
}

type instanceCollector struct {
	n    *Node
	desc *prometheus.Desc
}

func (c instanceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c instanceCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	for _, st := range []string{apiv1.StateCreated, apiv1.StateRunning, apiv1.StatePaused, apiv1.StateMigrating, apiv1.StateExited, apiv1.StateFailed} {
		counts[st] = 0
	}
	for _, in := range c.n.List() {
		counts[in.State]++
	}
	for st, k := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(k), st)
	}
}

// MetricsHandler serves the node's metrics in Prometheus' text format.
func (n *Node) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{})
}
