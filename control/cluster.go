package control

import (
	"context"
	"time"
)

// ClusterStats is the stats document of a cluster's master: Puma's
// cluster-mode fields first, then Hatago's. Each worker's own document is
// in WorkerStatus[i].LastStatus.
type ClusterStats struct {
	// StartedAt is when the master started, in UTC. A hot restart keeps
	// it: the master is the same process.
	StartedAt time.Time `json:"started_at"`
	// Workers is the number of workers the master keeps running.
	Workers int `json:"workers"`
	// Phase counts phased restarts begun since start; workers started
	// since the last one carry it.
	Phase int `json:"phase"`
	// BootedWorkers is the number of workers that finished booting and
	// have not been told to stop.
	BootedWorkers int `json:"booted_workers"`
	// OldWorkers is the number of running workers from an earlier phase.
	OldWorkers int `json:"old_workers"`
	// WorkerStatus describes every worker process, booting and stopping
	// ones included, ordered by index and then by start time.
	WorkerStatus []WorkerStatus `json:"worker_status"`

	// PID is the master's process ID.
	PID int `json:"pid"`
	// Version is the Hatago version or the build's module version.
	Version string `json:"version,omitempty"`
	// Restarts counts workers started again after one died unasked
	// (crashed, was killed, or missed its boot or check-in timeout).
	Restarts uint64 `json:"restarts_count"`
	// Recycles counts workers replaced for reaching their request or
	// memory limit.
	Recycles uint64 `json:"recycles_count"`
	// Timeouts counts workers killed for missing their boot or check-in
	// timeout.
	Timeouts uint64 `json:"worker_timeouts_count"`
	// HotRestarts counts hot restarts of this master process.
	HotRestarts uint64 `json:"hot_restarts_count"`
	// PhasedRestart says how the last phased restart went: "" (none
	// yet), "running", "done", or "failed: REASON" (the old workers kept
	// serving).
	PhasedRestart string `json:"phased_restart,omitempty"`
	// CrashLoop is set while workers keep dying soon after they start;
	// respawns are then slowed. CrashLoopReason says what was seen.
	CrashLoop       bool   `json:"crash_loop"`
	CrashLoopReason string `json:"crash_loop_reason,omitempty"`
	// Live is true when every booted worker answered with a fresh stats
	// document for this one; false when some were taken from their last
	// check-in.
	Live bool `json:"live"`
}

// WorkerStatus is one worker process in [ClusterStats].
type WorkerStatus struct {
	// Started is when the master started the process, in UTC.
	Started time.Time `json:"started_at"`
	// PID is the worker's process ID.
	PID int `json:"pid"`
	// Index is the worker's stable index, 0 to Workers-1; a replacement
	// takes the index of the worker it replaces.
	Index int `json:"index"`
	// Phase is the phase the worker was started in.
	Phase int `json:"phase"`
	// Booted is true once the worker reported it serves.
	Booted bool `json:"booted"`
	// LastCheckin is when the worker last reported, in UTC.
	LastCheckin time.Time `json:"last_checkin"`
	// LastStatus is the worker's latest stats document.
	LastStatus Stats `json:"last_status"`

	// Stopping says why the master told the worker to stop ("phased
	// restart", "recycle: 10000 requests", "worker count down", "stop",
	// ...), or is empty while it serves.
	Stopping string `json:"stopping,omitempty"`
	// RSSBytes is the worker's resident memory at its last report.
	RSSBytes uint64 `json:"rss_bytes"`
}

// HasStatus reports whether LastStatus holds a stats document the worker
// sent, rather than the zero value of a worker that has not reported its
// stats yet. A document from a Hatago process always carries its PID.
func (w WorkerStatus) HasStatus() bool { return w.LastStatus.PID != 0 }

// ClusterTarget is a [Target] that is a cluster's master: its control
// server serves ClusterStats at /stats and accepts the cluster commands.
// Implementations must be safe for concurrent use, and the commands must
// return at once, the work going on in the background.
type ClusterTarget interface {
	Target
	// ClusterStats returns a fresh document: booted workers are asked for
	// their stats and answer within ctx's deadline, or their last
	// check-in is used.
	ClusterStats(ctx context.Context) ClusterStats
	// Restart begins a hot restart: workers drain and stop, then the
	// master re-executes itself with the same PID and sockets. The
	// control server answers /restart before it calls Restart, so that
	// the answer leaves before the process is replaced; an error Restart
	// returns can then reach only the server's log.
	Restart() error
	// PhasedRestart begins replacing the workers one at a time with the
	// binary now on disk. It fails if one is under way.
	PhasedRestart() error
	// WorkerCountUp and WorkerCountDown add or remove one worker.
	//
	// The control server answers an error of PhasedRestart,
	// WorkerCountUp or WorkerCountDown with 409 Conflict and the error's
	// text, so it should say why the command cannot run now.
	WorkerCountUp() error
	WorkerCountDown() error
}
