package middleware

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/hatago/hatago"
)

// AccessLogConfig configures AccessLog. The zero value logs every request
// at Info level to slog.Default().
type AccessLogConfig struct {
	// Logger receives the records. Default slog.Default(), looked up at
	// each request.
	Logger *slog.Logger
	// Level is the records' level. Default slog.LevelInfo.
	Level slog.Level
	// Skip, if set, is asked before each request; when it returns true
	// the request is not logged (health checks, say). It must be safe for
	// concurrent use.
	Skip func(*http.Request) bool
}

// AccessLog returns middleware that logs one record, "request", for each
// request once its handler has returned, with these attributes:
//
//   - method, path (r.URL.Path, without the query, which may carry
//     secrets), proto;
//   - status: the status sent, 200 if the handler wrote nothing, 101 for
//     a hijacked connection;
//   - bytes: the body bytes the handler wrote;
//   - duration: from the middleware's start to the handler's return;
//   - queue: how long the request waited in a Hatago server's backlog
//     for a slot (hatago.QueueTime), 0 outside Hatago;
//   - slot: the Hatago slot that served it (hatago.Slot), left out
//     outside Hatago;
//   - remote (r.RemoteAddr), request_id (when RequestID ran before
//     AccessLog), user_agent.
//
// If the handler panics, the record is still written, with "panic": true
// and status 500 if the handler had not begun its response, and the
// panic goes on. When the logger is not enabled at Level, requests pass
// through unwrapped. The middleware is safe for concurrent use.
//
// A Hatago server has an access log of its own (Config.AccessLog);
// AccessLog is for routes that want a different logger or level, for
// the request ID, and for plain net/http.
func AccessLog(cfg AccessLogConfig) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log := cfg.Logger
			if log == nil {
				log = slog.Default()
			}
			ctx := r.Context()
			if (cfg.Skip != nil && cfg.Skip(r)) || !log.Enabled(ctx, cfg.Level) {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			method, path := r.Method, r.URL.Path
			cw := &coreWriter{w: w}
			panicked := true
			defer func() {
				// No recover: a panic (or runtime.Goexit) goes on untouched,
				// with its stack, once this is logged.
				status := cw.status
				switch {
				case status == 0 && panicked:
					status = http.StatusInternalServerError
				case status == 0:
					status = http.StatusOK
				}
				attrs := [12]slog.Attr{
					slog.String("method", method),
					slog.String("path", path),
					slog.String("proto", r.Proto),
					slog.Int("status", status),
					slog.Int64("bytes", cw.written),
					slog.Duration("duration", time.Since(start)),
					slog.Duration("queue", hatago.QueueTime(ctx)),
				}
				n := 7
				if slot, ok := hatago.Slot(ctx); ok {
					attrs[n] = slog.Int("slot", slot)
					n++
				}
				attrs[n] = slog.String("remote", r.RemoteAddr)
				n++
				if id := RequestIDFrom(ctx); id != "" {
					attrs[n] = slog.String("request_id", id)
					n++
				}
				attrs[n] = slog.String("user_agent", r.UserAgent())
				n++
				if panicked {
					attrs[n] = slog.Bool("panic", true)
					n++
				}
				log.LogAttrs(ctx, cfg.Level, "request", attrs[:n]...)
			}()
			next.ServeHTTP(cw, r)
			panicked = false
		})
	}
}
