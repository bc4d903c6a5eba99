// Command fiber serves the seven TechEmpower tests on Fiber v3, in Fiber's
// ordinary style: one route per test, c.JSON with Fiber's default encoder,
// c.Query, c.SendString, and the fortunes page through html/template. Fiber
// runs on fasthttp, which supplies the cached Date header. The database is
// the same pgx pool with its statement cache as every peer's.
//
//	fiber -addr 127.0.0.1:8080 -db postgres://user:pass@127.0.0.1/hatago_bench
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"os"
	"os/signal"
	"syscall"

	"github.com/gofiber/fiber/v3"

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
		fmt.Fprintln(os.Stderr, "fiber:", err)
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
	page := template.Must(template.New("fortunes").Parse(tfb.FortunesTemplate))

	app := fiber.New(fiber.Config{ServerHeader: "Fiber"})
	app.Get("/json", func(c fiber.Ctx) error {
		return c.JSON(tfb.Message{Message: tfb.HelloWorld})
	})
	app.Get("/db", func(c fiber.Ctx) error {
		var w tfb.World
		if err := db.World(c.Context(), &w); err != nil {
			return err
		}
		return c.JSON(&w)
	})
	app.Get("/queries", func(c fiber.Ctx) error {
		worlds := make([]tfb.World, tfb.Queries(c.Query("queries")))
		if err := db.Worlds(c.Context(), worlds); err != nil {
			return err
		}
		return c.JSON(worlds)
	})
	app.Get("/updates", func(c fiber.Ctx) error {
		worlds := make([]tfb.World, tfb.Queries(c.Query("queries")))
		if err := db.Update(c.Context(), worlds); err != nil {
			return err
		}
		return c.JSON(worlds)
	})
	app.Get("/cached-queries", func(c fiber.Ctx) error {
		worlds := make([]tfb.World, tfb.Queries(c.Query("count")))
		for i := range worlds {
			worlds[i] = cache[tfb.RandomID()-1]
		}
		return c.JSON(worlds)
	})
	app.Get("/fortunes", func(c fiber.Ctx) error {
		fortunes, err := db.Fortunes(c.Context(), make([]tfb.Fortune, 0, 16))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return page.Execute(c, fortunes)
	})
	app.Get("/plaintext", func(c fiber.Ctx) error {
		return c.SendString(tfb.HelloWorld) // text/plain by default
	})
	return app.Listen(addr, fiber.ListenConfig{DisableStartupMessage: true, GracefulContext: ctx})
}
