package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Errors returned by [Client] methods.
var (
	// ErrUnauthorized means the server refused the request because the
	// token was missing (401) or wrong (403). The error is a
	// *[ResponseError] that unwraps to it.
	ErrUnauthorized = errors.New("control: unauthorized")
	// ErrUnreachable means no answer came from the server: connection
	// refused, no such socket, or a timeout. The error also unwraps to the
	// network error.
	ErrUnreachable = errors.New("control: server unreachable")
	// ErrUnknownCommand is returned by Client.Do for a command it does
	// not know.
	ErrUnknownCommand = errors.New("control: unknown command")
	// ErrConflict means the server refused a cluster command it cannot
	// run now, for example a phased restart while one is under way
	// (409). The error is a *[ResponseError] whose Message says why.
	ErrConflict = errors.New("control: command refused")
	// ErrNotCluster means the server controls a single process, not a
	// cluster: the cluster commands answer 501, and Client.ClusterStats
	// finds a single-mode stats document. For the commands the error is
	// a *[ResponseError] that unwraps to it.
	ErrNotCluster = errors.New("control: not in cluster mode")
)

const (
	dialTimeout  = 5 * time.Second
	maxBodyBytes = 1 << 30 // goroutine dumps of huge processes are large
	maxErrorBody = 64 << 10
)

// ResponseError is returned by [Client] methods when the server answers
// with a status other than 2xx. It unwraps to [ErrUnauthorized] for 401
// and 403, to [ErrConflict] for 409 and to [ErrNotCluster] for 501.
type ResponseError struct {
	// URL is the control URL of the server.
	URL string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is the "error" field of the JSON answer, or its text.
	Message string
}

// Error describes the answer. It is safe for concurrent use.
func (e *ResponseError) Error() string {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Sprintf("control: %s requires a token (401 Unauthorized: %s)", e.URL, e.Message)
	case http.StatusForbidden:
		return fmt.Sprintf("control: %s refused the token (403 Forbidden: %s)", e.URL, e.Message)
	}
	return fmt.Sprintf("control: %s answered %d %s: %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Unwrap returns [ErrUnauthorized] for 401 and 403, [ErrConflict] for
// 409, [ErrNotCluster] for 501, else nil.
func (e *ResponseError) Unwrap() error {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusConflict:
		return ErrConflict
	case http.StatusNotImplemented:
		return ErrNotCluster
	}
	return nil
}

// unreachableError wraps a network error that kept a request from
// reaching the server; it unwraps to ErrUnreachable and to the cause.
type unreachableError struct {
	url   string
	cause error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("control: cannot reach %s: %s (is the server running with --control-url?)", e.url, e.reason())
}

func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.cause} }

// reason says in a few words why the server could not be reached.
func (e *unreachableError) reason() string {
	var (
		errno syscall.Errno
		nerr  net.Error
		op    *net.OpError
	)
	switch {
	case errors.Is(e.cause, context.DeadlineExceeded),
		errors.As(e.cause, &nerr) && nerr.Timeout():
		return "timed out"
	case errors.Is(e.cause, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(e.cause, fs.ErrNotExist):
		return "no such socket"
	case errors.As(e.cause, &errno):
		return errno.Error()
	case errors.As(e.cause, &op) && op.Err != nil:
		return op.Err.Error()
	}
	return e.cause.Error()
}

// Client talks to a control server. Its methods are safe for concurrent
// use. Each returns an error wrapping [ErrUnreachable] if the server
// cannot be reached, a *[ResponseError] (wrapping [ErrUnauthorized] for a
// missing or wrong token, [ErrConflict] or [ErrNotCluster] for a refused
// cluster command) if it answers with an error status, or the error of
// ctx if ctx is cancelled.
type Client struct {
	url   string // normal form, for messages
	base  string // http:// URL prefix for requests
	token string
	hc    *http.Client
}

// NewClient returns a client for the control server at url (tcp://HOST:PORT
// or unix:///PATH) that sends token as a bearer token. It does no I/O.
// Errors are *[ConfigError] values for an invalid url or token.
func NewClient(url, token string) (*Client, error) {
	addr, err := parseURL("URL", url)
	if err != nil {
		return nil, err
	}
	if err := checkToken("token", token); err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: dialTimeout}
	tr := &http.Transport{
		// Always dial the control address: the request URL only names it.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, addr.network, addr.address)
		},
		Proxy:              nil,
		MaxIdleConns:       2,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
	}
	host := addr.address
	if addr.network == "unix" {
		host = "localhost"
	}
	return &Client{
		url:   addr.String(),
		base:  "http://" + host,
		token: token,
		hc: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// URL returns the control URL of the server, in normal form. It is safe
// for concurrent use.
func (c *Client) URL() string { return c.url }

// Do runs a command by name, as the CLI does: stats, gc, gc-stats,
// goroutines, thread-backtraces, stop, halt, restart, phased-restart,
// worker-count-up, worker-count-down or metrics. It returns the body of
// the answer: JSON, or text for goroutines and metrics. It returns an
// error wrapping [ErrUnknownCommand] for other names.
func (c *Client) Do(ctx context.Context, command string) ([]byte, error) {
	cmd, ok := lookupCommand(command)
	if !ok {
		return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownCommand, command, commandNames())
	}
	return c.request(ctx, cmd.method, cmd.path)
}

// Stats returns the server's stats document. Against a cluster's master
// it returns the master's document read as a Stats, most fields zero; use
// [Client.ClusterStats] or [Client.StatsAny] there.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := c.getJSON(ctx, "stats", &s)
	return s, err
}

// ClusterStats returns the stats document of a cluster's master. It
// returns an error wrapping [ErrNotCluster] if the server controls a
// single process.
func (c *Client) ClusterStats(ctx context.Context) (ClusterStats, error) {
	doc, err := c.StatsAny(ctx)
	if err != nil {
		return ClusterStats{}, err
	}
	cs, ok := doc.(ClusterStats)
	if !ok {
		return ClusterStats{}, fmt.Errorf("control: %s: stats: %w", c.url, ErrNotCluster)
	}
	return cs, nil
}

// StatsAny returns the server's stats document as the server is running:
// a [ClusterStats] value from a cluster's master (its document has a
// worker_status key), else a [Stats] value. Callers use a type switch.
func (c *Client) StatsAny(ctx context.Context) (any, error) {
	b, err := c.Do(ctx, "stats")
	if err != nil {
		return nil, err
	}
	return decodeStats(b, c.url)
}

// GC runs a garbage collection in the server and returns heap figures
// from before and after.
func (c *Client) GC(ctx context.Context) (GCResult, error) {
	var r GCResult
	err := c.getJSON(ctx, "gc", &r)
	return r, err
}

// GCStats returns the server's garbage collector statistics; the package
// doc lists the keys. Numbers are json.Number values, so that large
// counters keep every digit.
func (c *Client) GCStats(ctx context.Context) (map[string]any, error) {
	var m map[string]any
	err := c.getJSON(ctx, "gc-stats", &m)
	return m, err
}

// Goroutines returns the stacks of all goroutines of the server, as text.
func (c *Client) Goroutines(ctx context.Context) (string, error) {
	b, err := c.Do(ctx, "goroutines")
	return string(b), err
}

// Metrics returns the server's metrics in the Prometheus text format.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	b, err := c.Do(ctx, "metrics")
	return string(b), err
}

// Stop asks the server to stop gracefully. It returns once the server has
// accepted the request, not once it has stopped.
func (c *Client) Stop(ctx context.Context) error {
	_, err := c.Do(ctx, "stop")
	return err
}

// Halt asks the server to stop at once, without draining. It returns
// once the server has accepted the request.
func (c *Client) Halt(ctx context.Context) error {
	_, err := c.Do(ctx, "halt")
	return err
}

// Restart asks a cluster's master for a hot restart: its workers drain
// and stop, then it executes itself again, keeping its PID and sockets.
// It returns once the server has accepted the request; an error wrapping
// [ErrNotCluster] if the server controls a single process.
func (c *Client) Restart(ctx context.Context) error {
	_, err := c.Do(ctx, "restart")
	return err
}

// PhasedRestart asks a cluster's master to replace its workers one at a
// time with the binary now on disk. It returns once the restart has
// begun; an error wrapping [ErrConflict] if the master refused (one is
// under way, say), [ErrNotCluster] if the server controls a single
// process.
func (c *Client) PhasedRestart(ctx context.Context) error {
	_, err := c.Do(ctx, "phased-restart")
	return err
}

// WorkerCountUp asks a cluster's master to run one more worker. It
// returns an error wrapping [ErrConflict] if the master refused,
// [ErrNotCluster] if the server controls a single process.
func (c *Client) WorkerCountUp(ctx context.Context) error {
	_, err := c.Do(ctx, "worker-count-up")
	return err
}

// WorkerCountDown asks a cluster's master to run one worker fewer. It
// returns an error wrapping [ErrConflict] if the master refused (at one
// worker, say), [ErrNotCluster] if the server controls a single process.
func (c *Client) WorkerCountDown(ctx context.Context) error {
	_, err := c.Do(ctx, "worker-count-down")
	return err
}

func (c *Client) getJSON(ctx context.Context, command string, v any) error {
	b, err := c.Do(ctx, command)
	if err != nil {
		return err
	}
	return decodeJSON(b, v, c.url, command)
}

// decodeStats decodes a /stats answer into a ClusterStats if it has a
// worker_status key, else into a Stats.
func decodeStats(b []byte, url string) (any, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("control: %s: decode stats answer: %w", url, err)
	}
	if _, ok := keys["worker_status"]; ok {
		var cs ClusterStats
		if err := decodeJSON(b, &cs, url, "stats"); err != nil {
			return nil, err
		}
		return cs, nil
	}
	var s Stats
	if err := decodeJSON(b, &s, url, "stats"); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeJSON(b []byte, v any, url, command string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("control: %s: decode %s answer: %w", url, command, err)
	}
	return nil
}

func (c *Client) request(ctx context.Context, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("control: %s: %w", c.url, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, &ResponseError{URL: c.url, StatusCode: resp.StatusCode, Message: errorMessage(b)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	return b, nil
}

// transportError classifies an error of sending a request or reading its
// answer.
func (c *Client) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("control: %s: %w", c.url, ctx.Err())
	}
	var (
		op   *net.OpError
		nerr net.Error
	)
	if (errors.As(err, &op) && op.Op == "dial") ||
		errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &nerr) && nerr.Timeout()) {
		return &unreachableError{url: c.url, cause: err}
	}
	return fmt.Errorf("control: %s: %w", c.url, err)
}

// errorMessage returns the "error" field of a JSON error body, or the
// body's first line.
func errorMessage(b []byte) string {
	var e errorBody
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if s == "" {
		return "no message"
	}
	return s
}
