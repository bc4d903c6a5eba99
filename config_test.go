package hatago_test

import (
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hatago/hatago"
	"github.com/hatago/hatago/resource"
)

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		cfg   hatago.Config
		field string
	}{
		{"max slots", hatago.Config{MaxSlots: -1}, "MaxSlots"},
		{"min above max", hatago.Config{MinSlots: 5, MaxSlots: 2}, "MinSlots"},
		{"negative min", hatago.Config{MinSlots: -1}, "MinSlots"},
		{"bind scheme", hatago.Config{Binds: []string{"ftp://x:1"}}, "Binds"},
		{"bind port", hatago.Config{Binds: []string{"tcp://127.0.0.1"}}, "Binds"},
		{"header timeout", hatago.Config{HeaderTimeout: -time.Second}, "HeaderTimeout"},
		{"shutdown timeout", hatago.Config{ShutdownTimeout: -time.Second}, "ShutdownTimeout"},
		{"max header bytes", hatago.Config{MaxHeaderBytes: -1}, "MaxHeaderBytes"},
		{"control url", hatago.Config{ControlURL: "http://x"}, "ControlURL"},
		{"nil resource", hatago.Config{Resources: make([]resource.Decl, 1)}, "Resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hatago.New(http.NotFoundHandler(), tt.cfg)
			var ce *hatago.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("New: %v, want a *ConfigError for %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("message %q does not name %s", err, tt.field)
			}
		})
	}
	if _, err := hatago.New(nil, hatago.Config{}); err == nil {
		t.Fatal("New(nil handler) succeeded")
	}
}

func TestFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"HATAGO_BIND":            "tcp://127.0.0.1:1000, unix:///tmp/a.sock",
		"HATAGO_THREADS":         "2:8",
		"HATAGO_REQUEST_TIMEOUT": "5s",
		"HATAGO_ACCESS_LOG":      "true",
		"HATAGO_CONTROL_TOKEN":   "from-env",
	}
	var cfg hatago.Config
	if err := cfg.Env(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Binds) != 2 || cfg.MinSlots != 2 || cfg.MaxSlots != 8 || cfg.RequestTimeout != 5*time.Second || !cfg.AccessLog {
		t.Fatalf("after Env: %+v", cfg)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	cfg.Flags(fs)
	err := fs.Parse([]string{"-b", "tcp://0.0.0.0:9000", "-t", "16", "--backlog", "-1",
		"--control-url", "unix:///tmp/c.sock", "--max-body-bytes", "1024"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Binds) != 1 || cfg.Binds[0] != "tcp://0.0.0.0:9000" {
		t.Errorf("Binds = %v, want the flag's only: the first -b replaces the environment's", cfg.Binds)
	}
	if cfg.MinSlots != 0 || cfg.MaxSlots != 16 || cfg.Backlog != -1 || cfg.MaxBodyBytes != 1024 {
		t.Errorf("slots %d:%d backlog %d body %d", cfg.MinSlots, cfg.MaxSlots, cfg.Backlog, cfg.MaxBodyBytes)
	}
	if cfg.ControlURL != "unix:///tmp/c.sock" || cfg.ControlToken != "from-env" {
		t.Errorf("control %q %q", cfg.ControlURL, cfg.ControlToken)
	}
}

func TestBadFlagAndEnvValues(t *testing.T) {
	for _, args := range [][]string{{"-t", "8:2"}, {"-t", "x"}, {"--request-timeout", "soon"}, {"--backlog", "many"}} {
		var cfg hatago.Config
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.Flags(fs)
		err := fs.Parse(args)
		if err == nil || !strings.Contains(err.Error(), strings.TrimLeft(args[0], "-")) {
			t.Errorf("Parse(%v): %v, want an error naming the flag", args, err)
		}
	}
	for k, v := range map[string]string{"HATAGO_THREADS": "0:0", "HATAGO_IDLE_TIMEOUT": "5", "PORT": "http"} {
		var cfg hatago.Config
		err := cfg.Env(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("Env with %s=%q: %v, want an error naming %s", k, v, err, k)
		}
	}
}

func TestPortEnv(t *testing.T) {
	var cfg hatago.Config
	if err := cfg.Env(func(k string) string { return map[string]string{"PORT": "5000"}[k] }); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Binds) != 1 || cfg.Binds[0] != "tcp://0.0.0.0:5000" {
		t.Fatalf("Binds = %v, want tcp://0.0.0.0:5000 from PORT", cfg.Binds)
	}
}

// TestClusterConfig: the cluster settings parse from flags and the
// environment, and bad ones fail naming the field.
func TestClusterConfig(t *testing.T) {
	var cfg hatago.Config
	env := map[string]string{"WEB_CONCURRENCY": "3"}
	if err := cfg.Env(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 3 {
		t.Fatalf("WEB_CONCURRENCY=3 gave Workers %d", cfg.Workers)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.Flags(fs)
	err := fs.Parse([]string{"-w", "auto", "--recycle-requests", "1000", "--recycle-memory", "512MiB",
		"--worker-timeout", "5s", "--worker-cull", "oldest", "--log-file", "/tmp/x.log"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != hatago.WorkersAuto || cfg.RecycleRequests != 1000 || cfg.RecycleBytes != 512<<20 ||
		cfg.WorkerTimeout != 5*time.Second || cfg.WorkerCull != "oldest" || cfg.LogFile != "/tmp/x.log" {
		t.Fatalf("parsed %+v", cfg)
	}
	for _, bad := range [][]string{{"-w", "-1"}, {"-w", "many"}, {"--recycle-memory", "lots"}, {"--recycle-memory", "5XB"}} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		(&hatago.Config{}).Flags(fs)
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for _, c := range []struct {
		cfg   hatago.Config
		field string
	}{
		{hatago.Config{Workers: -5}, "Workers"},
		{hatago.Config{WorkerCull: "random"}, "WorkerCull"},
		{hatago.Config{WorkerTimeout: -time.Second}, "WorkerTimeout"},
		{hatago.Config{WorkerTimeout: time.Second, WorkerCheckinInterval: 2 * time.Second}, "WorkerTimeout"},
	} {
		_, err := hatago.New(http.NotFoundHandler(), c.cfg)
		var ce *hatago.ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%+v: %v, want a ConfigError naming %s", c.cfg, err, c.field)
		}
	}
}
