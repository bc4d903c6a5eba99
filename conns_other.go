//go:build !unix

package hatago

import "net"

// requestWaiting cannot peek at a socket here: a stop closes a new
// connection by its age alone.
func requestWaiting(net.Conn) bool { return false }
