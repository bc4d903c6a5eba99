package harness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Which module a server's package is built in.
const (
	benchModule = "bench" // this module: the peers
	mainModule  = "main"  // github.com/hatago/hatago: the world example
)

// Server is one server the harness can measure.
type Server struct {
	Name    string
	About   string // one line for the report
	Module  string // benchModule or mainModule
	Package string // relative to its module, such as "./peers/fasthttp"
	// Args returns the command line that serves on addr with the database
	// at dbURL; pool is the peers' number of database connections.
	Args func(addr, dbURL string, pool int) []string
	Env  []string // added to the environment
}

// Baseline is the server the report compares with every peer.
const Baseline = "hatago"

func peerArgs(extra ...string) func(addr, dbURL string, pool int) []string {
	return func(addr, dbURL string, pool int) []string {
		return append([]string{"-addr", addr, "-db", dbURL, "-pool", strconv.Itoa(pool)}, extra...)
	}
}

// Servers are the servers the harness knows, in the order it runs them.
var Servers = []Server{
	{
		Name:    "hatago",
		About:   "Hatago's world example (github.com/hatago/hatago/examples/world), with its own database pool",
		Module:  mainModule,
		Package: "./examples/world",
		Args: func(addr, dbURL string, _ int) []string {
			return []string{"-b", "tcp://" + addr, "--db", dbURL, "--control-url", "tcp://127.0.0.1:0"}
		},
		Env: []string{"HATAGO_ACCESS_LOG=false"},
	},
	{Name: "nethttp", About: "net/http: ServeMux, encoding/json, hand-written fortunes writer", Module: benchModule, Package: "./peers/nethttp", Args: peerArgs()},
	{Name: "fasthttp", About: "fasthttp: one handler, goccy/go-json, hand-written fortunes writer, pooled buffers", Module: benchModule, Package: "./peers/fasthttp", Args: peerArgs()},
	{Name: "fasthttp-prefork", About: "the same fasthttp server with -prefork: one process per core, GOMAXPROCS=1 each", Module: benchModule, Package: "./peers/fasthttp", Args: peerArgs("-prefork")},
	{Name: "fiber", About: "Fiber v3 in its ordinary style: routes, c.JSON, html/template", Module: benchModule, Package: "./peers/fiber", Args: peerArgs()},
	{Name: "gin", About: "Gin in its ordinary style: gin.New, c.JSON, c.HTML with html/template", Module: benchModule, Package: "./peers/gin", Args: peerArgs()},
}

// Peers are the servers other than Hatago.
func Peers() []Server {
	return slices.DeleteFunc(slices.Clone(Servers), func(s Server) bool { return s.Name == Baseline })
}

// SelectServers returns the named servers in the order of Servers, or all
// of them if names is empty. An unknown name is an error.
func SelectServers(names []string) ([]Server, error) {
	if len(names) == 0 {
		return slices.Clone(Servers), nil
	}
	var all []string
	for _, s := range Servers {
		all = append(all, s.Name)
	}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("unknown server %q (servers: %s)", n, strings.Join(all, ", "))
		}
	}
	var out []Server
	for _, s := range Servers {
		if slices.Contains(names, s.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}
