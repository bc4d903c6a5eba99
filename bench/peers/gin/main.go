// Command gin serves the seven TechEmpower tests on Gin, in Gin's ordinary
// style: gin.New in release mode (no logger: the rules forbid logging every
// request), a middleware for the Server header, c.JSON, c.Query, c.String,
// and the fortunes page through c.HTML and html/template. Gin runs on
// net/http, which adds the Date header. The database is the same pgx pool
// with its statement cache as every peer's.
//
//	gin -addr 127.0.0.1:8080 -db postgres://user:pass@127.0.0.1/hatago_bench
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/hatago/hatago/bench/tfb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen `host:port`")
	dbURL := flag.String("db", os.Getenv("HATAGO_BENCH_POSTGRES"), "PostgreSQL `URL`")
	pool := flag.Int("pool", 16, "database connections")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL, *pool); err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, dbURL string, poolSize int) error {
	pool, err := tfb.Open(ctx, dbURL, poolSize)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := tfb.DB{Pool: pool}
	cache, err := db.LoadWorlds(ctx)
	if err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.SetHTMLTemplate(template.Must(template.New("fortunes").Parse(tfb.FortunesTemplate)))
	serverName := []string{"Gin"}
	r.Use(func(c *gin.Context) { c.Writer.Header()["Server"] = serverName })

	r.GET("/json", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": tfb.HelloWorld})
	})
	r.GET("/db", func(c *gin.Context) {
		var w tfb.World
		if err := db.World(c.Request.Context(), &w); err != nil {
			c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, &w)
	})
	r.GET("/queries", func(c *gin.Context) {
		worlds := make([]tfb.World, tfb.Queries(c.Query("queries")))
		if err := db.Worlds(c.Request.Context(), worlds); err != nil {
			c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, worlds)
	})
	r.GET("/updates", func(c *gin.Context) {
		worlds := make([]tfb.World, tfb.Queries(c.Query("queries")))
		if err := db.Update(c.Request.Context(), worlds); err != nil {
			c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.JSON(http.StatusOK, worlds)
	})
	r.GET("/cached-queries", func(c *gin.Context) {
		worlds := make([]tfb.World, tfb.Queries(c.Query("count")))
		for i := range worlds {
			worlds[i] = cache[tfb.RandomID()-1]
		}
		c.JSON(http.StatusOK, worlds)
	})
	r.GET("/fortunes", func(c *gin.Context) {
		fortunes, err := db.Fortunes(c.Request.Context(), make([]tfb.Fortune, 0, 16))
		if err != nil {
			c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.HTML(http.StatusOK, "fortunes", fortunes)
	})
	r.GET("/plaintext", func(c *gin.Context) {
		c.String(http.StatusOK, tfb.HelloWorld)
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.Close()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
