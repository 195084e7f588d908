// Package client calls a ferryd daemon's API over mutual TLS.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ferryvm/ferry/ferryd/internal/apiv1"
)

// Client talks to one daemon.
type Client struct {
	base string
	http *http.Client
}

// New returns a client of the daemon at addr (HOST:PORT).
func New(addr string, tlsCfg *tls.Config) *Client {
	return &Client{base: "https://" + addr, http: &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: false}}}
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// APIError is a daemon's refusal of a request.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("ferryd: %s (HTTP %d)", e.Message, e.Status) }

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e apiv1.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = string(bytes.TrimSpace(b))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: e.Error}
	}
	return resp, nil
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.do(ctx, method, path, body, http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func inst(name string) string { return "/v1/instances/" + url.PathEscape(name) }

// Run starts a WASI command.
func (c *Client) Run(ctx context.Context, req apiv1.RunRequest) (apiv1.Instance, error) {
	var in apiv1.Instance
	return in, c.call(ctx, "POST", "/v1/instances", req, &in)
}

// List describes every instance.
func (c *Client) List(ctx context.Context) ([]apiv1.Instance, error) {
	var all []apiv1.Instance
	return all, c.call(ctx, "GET", "/v1/instances", nil, &all)
}

// Get describes one instance.
func (c *Client) Get(ctx context.Context, name string) (apiv1.Instance, error) {
	var in apiv1.Instance
	return in, c.call(ctx, "GET", inst(name), nil, &in)
}

// Pause stops an instance at its next pause point.
func (c *Client) Pause(ctx context.Context, name string) (apiv1.Instance, error) {
	var in apiv1.Instance
	return in, c.call(ctx, "POST", inst(name)+"/pause", nil, &in)
}

// Resume continues a paused instance.
func (c *Client) Resume(ctx context.Context, name string) (apiv1.Instance, error) {
	var in apiv1.Instance
	return in, c.call(ctx, "POST", inst(name)+"/resume", nil, &in)
}

// Delete stops and removes an instance.
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.call(ctx, "DELETE", inst(name), nil, nil)
}

// Checkpoint writes a checkpoint into the daemon's state directory.
func (c *Client) Checkpoint(ctx context.Context, name string, exit bool) (apiv1.CheckpointResult, error) {
	var r apiv1.CheckpointResult
	return r, c.call(ctx, "POST", inst(name)+"/checkpoint", apiv1.CheckpointRequest{Exit: exit}, &r)
}

// CheckpointTo streams a checkpoint into w.
func (c *Client) CheckpointTo(ctx context.Context, name string, exit bool, w io.Writer) (int64, error) {
	b, _ := json.Marshal(apiv1.CheckpointRequest{Stream: true, Exit: exit})
	resp, err := c.do(ctx, "POST", inst(name)+"/checkpoint", bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, err
	}
	// The status went out before the checkpoint was written: a failure
	// midway arrives as a trailer.
	if msg := resp.Trailer.Get("Ferry-Checkpoint-Error"); msg != "" {
		return n, errors.New("ferryd: " + msg)
	}
	return n, nil
}

// Restore uploads a checkpoint and runs it as req.Name (or, with
// req.From and a nil body, restores one in the daemon's state directory).
func (c *Client) Restore(ctx context.Context, req apiv1.RestoreRequest, body io.Reader) (apiv1.Instance, error) {
	var in apiv1.Instance
	if body == nil {
		return in, c.call(ctx, "POST", "/v1/restore", req, &in)
	}
	h, err := json.Marshal(req)
	if err != nil {
		return in, err
	}
	resp, err := c.do(ctx, "POST", "/v1/restore", body, http.Header{apiv1.RestoreHeader: {string(h)}, "Content-Type": {"application/octet-stream"}})
	if err != nil {
		return in, err
	}
	defer resp.Body.Close()
	return in, json.NewDecoder(resp.Body).Decode(&in)
}

// Logs copies an instance's stdout or stderr log to w; with follow, it
// goes on until the instance ends or ctx is cancelled.
func (c *Client) Logs(ctx context.Context, name, streamName string, follow bool, w io.Writer) error {
	q := ""
	if follow {
		q = "?follow=1"
	}
	resp, err := c.do(ctx, "GET", inst(name)+"/logs/"+url.PathEscape(streamName)+q, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}

// Migrate moves an instance to the daemon at req.To.
func (c *Client) Migrate(ctx context.Context, name string, req apiv1.MigrateRequest) (apiv1.MigrateResult, error) {
	var r apiv1.MigrateResult
	return r, c.call(ctx, "POST", inst(name)+"/migrate", req, &r)
}

// Metrics returns the daemon's metrics in Prometheus' text format.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, "GET", "/metrics", nil, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Resolve settles a migration of the instance that broke after its
// commit: the daemon asks the destination and deletes or resumes it.
func (c *Client) Resolve(ctx context.Context, name string) (apiv1.MigrationStatus, error) {
	var st apiv1.MigrationStatus
	return st, c.call(ctx, "POST", inst(name)+"/resolve", nil, &st)
}
