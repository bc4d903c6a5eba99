package hatago

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hatago/hatago/pool"
)

// Errors passed to Config.ErrorHandler, and found with errors.Is.
var (
	// ErrBacklogFull: every slot was busy and the backlog full; the
	// request was refused before reaching the handler (503).
	ErrBacklogFull = pool.ErrFull
	// ErrShuttingDown: the server is stopping and took no new work (503).
	ErrShuttingDown = pool.ErrClosed
	// ErrRequestTimeout: the request ran past Config.RequestTimeout (503).
	// It is also the cause (context.Cause) of the cancelled request
	// context.
	ErrRequestTimeout = errors.New("hatago: request timeout")
	// ErrBodyTooLarge: the request body is larger than
	// Config.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("hatago: request body too large")
)

// PanicError is a panic recovered from a handler, with the stack of the
// goroutine that panicked.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns the panic value, prefixed "hatago: handler panic".
func (e *PanicError) Error() string { return fmt.Sprintf("hatago: handler panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ErrorStatus returns the HTTP status for an error given to
// Config.ErrorHandler: 413 for ErrBodyTooLarge, 500 for a *PanicError, and
// 503 for the rest (a full backlog, a stop, a timeout, a slot that failed to
// open its resources: all say "try again later").
func ErrorStatus(err error) int {
	var pe *PanicError
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &pe):
		return http.StatusInternalServerError
	default:
		return http.StatusServiceUnavailable
	}
}

// DefaultErrorHandler answers err with ErrorStatus(err) and a one-line plain
// text body that names the status, never the error's details. The server
// has already set Retry-After (for a full backlog) and Connection: close
// (when the connection must not be reused).
func DefaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	code := ErrorStatus(err)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	body := strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
