package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// Handler is the node's HTTP API (docs/ferryd.md, "API"). It assumes its
// server authenticated the client: ferryd serves it only over mutual TLS.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/instances", n.handleRun)
	mux.HandleFunc("GET /v1/instances", func(w http.ResponseWriter, r *http.Request) { reply(w, n.List(), nil) })
	mux.HandleFunc("GET /v1/instances/{name}", func(w http.ResponseWriter, r *http.Request) {
		in, err := n.Get(r.PathValue("name"))
		reply(w, in, err)
	})
	mux.HandleFunc("DELETE /v1/instances/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, n.Delete(r.PathValue("name")))
	})
	mux.HandleFunc("POST /v1/instances/{name}/pause", func(w http.ResponseWriter, r *http.Request) {
		in, err := n.Pause(r.PathValue("name"))
		reply(w, in, err)
	})
	mux.HandleFunc("POST /v1/instances/{name}/resume", func(w http.ResponseWriter, r *http.Request) {
		in, err := n.Resume(r.PathValue("name"))
		reply(w, in, err)
	})
	mux.HandleFunc("POST /v1/instances/{name}/checkpoint", n.handleCheckpoint)
	mux.HandleFunc("GET /v1/instances/{name}/logs/{stream}", n.handleLogs)
	mux.HandleFunc("POST /v1/instances/{name}/migrate", n.handleMigrate)
	mux.HandleFunc("POST /v1/instances/{name}/resolve", func(w http.ResponseWriter, r *http.Request) {
		st, err := n.Resolve(r.Context(), r.PathValue("name"))
		reply(w, st, err)
	})
	mux.HandleFunc("POST /v1/restore", n.handleRestore)
	mux.HandleFunc("GET /v1/migrations/incoming", n.handleIncoming)
	mux.HandleFunc("GET /v1/migrations/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, n.MigrationStatus(r.PathValue("id")), nil)
	})
	mux.Handle("GET /metrics", n.MetricsHandler())
	return mux
}

// maxJSON bounds a JSON request body other than a run's (whose module it
// carries).
const maxJSON = 1 << 20

func decode(r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}

// reply writes v as JSON, or err with the status its class says.
func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(statusOf(err))
		json.NewEncoder(w).Encode(apiv1.Error{Error: err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errNotFound):
		return http.StatusNotFound
	case errors.Is(err, errConflict):
		return http.StatusConflict
	case errors.Is(err, errMigration):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

func (n *Node) handleRun(w http.ResponseWriter, r *http.Request) {
	var req apiv1.RunRequest
	// Base64 makes the module 4/3 of its size, plus the other fields.
	if err := decode(r, n.cfg.MaxModuleBytes/3*4+maxJSON, &req); err != nil {
		reply(w, nil, err)
		return
	}
	in, err := n.Run(r.Context(), req)
	reply(w, in, err)
}

func (n *Node) handleRestore(w http.ResponseWriter, r *http.Request) {
	var req apiv1.RestoreRequest
	if h := r.Header.Get(apiv1.RestoreHeader); h != "" {
		if err := json.Unmarshal([]byte(h), &req); err != nil {
			reply(w, nil, badRequest("%s header: %v", apiv1.RestoreHeader, err))
			return
		}
	} else if err := decode(r, maxJSON, &req); err != nil {
		reply(w, nil, err)
		return
	}
	in, err := n.Restore(r.Context(), req, r.Body)
	reply(w, in, err)
}

func (n *Node) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	var req apiv1.CheckpointRequest
	if r.ContentLength != 0 {
		if err := decode(r, maxJSON, &req); err != nil {
			reply(w, nil, err)
			return
		}
	}
	name := r.PathValue("name")
	if !req.Stream {
		res, err := n.Checkpoint(name, req.Exit)
		reply(w, res, err)
		return
	}
	if _, err := n.lookup(name); err != nil {
		reply(w, nil, err)
		return
	}
	// Streamed: the status is sent before the checkpoint is written, so
	// a failure midway can only cut the body short; the client checks the
	// trailer.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Trailer", "Ferry-Checkpoint-Error")
	_, err := n.CheckpointTo(name, req.Exit, w)
	if err != nil {
		w.Header().Set("Ferry-Checkpoint-Error", err.Error())
	}
}

// logPoll is how often a followed log is checked for new output.
const logPoll = 50 * time.Millisecond

func (n *Node) handleLogs(w http.ResponseWriter, r *http.Request) {
	in, err := n.lookup(r.PathValue("name"))
	if err != nil {
		reply(w, nil, err)
		return
	}
	var file string
	switch r.PathValue("stream") {
	case "stdout":
		file = stdoutLog
	case "stderr":
		file = stderrLog
	default:
		reply(w, nil, fmt.Errorf("%w: no log %q (stdout or stderr)", errNotFound, r.PathValue("stream")))
		return
	}
	f, err := os.Open(filepath.Join(in.dir, file))
	if err != nil {
		reply(w, nil, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	follow := r.URL.Query().Get("follow") != ""
	flusher, _ := w.(http.Flusher)
	for {
		if _, err := io.Copy(w, f); err != nil {
			return
		}
		if !follow {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-in.guest.exited:
			// What it wrote before it ended, then the end.
			io.Copy(w, f)
			return
		case <-time.After(logPoll):
		}
	}
}

func (n *Node) handleMigrate(w http.ResponseWriter, r *http.Request) {
	var req apiv1.MigrateRequest
	if err := decode(r, maxJSON, &req); err != nil {
		reply(w, nil, err)
		return
	}
	res, err := n.Migrate(r.Context(), r.PathValue("name"), req)
	reply(w, res, err)
}
