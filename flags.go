package hatago

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// option is one setting that a flag and an environment variable both set.
type option struct {
	flag, env, usage string
	value            func(c *Config) flag.Value
}

var options = []option{
	{"b", "HATAGO_BIND", "bind `URL`: tcp://HOST:PORT, unix:///PATH, ssl://HOST:PORT?cert=F&key=F, fd://N (repeatable; env: comma-separated)",
		func(c *Config) flag.Value { return &bindsValue{c: c} }},
	{"t", "HATAGO_THREADS", "slots (Puma's threads) as `MIN:MAX`, or MAX",
		func(c *Config) flag.Value { return (*threadsValue)(c) }},
	{"backlog", "HATAGO_BACKLOG", "requests that may wait for a slot before 503 (`N`; negative: none)",
		func(c *Config) flag.Value { return (*intValue)(&c.Backlog) }},
	{"slot-idle-timeout", "HATAGO_SLOT_IDLE_TIMEOUT", "close slots above MIN after this idle `duration` (negative: never)",
		func(c *Config) flag.Value { return (*durationValue)(&c.SlotIdleTimeout) }},
	{"header-timeout", "HATAGO_HEADER_TIMEOUT", "`duration` to read a request's headers",
		func(c *Config) flag.Value { return (*durationValue)(&c.HeaderTimeout) }},
	{"idle-timeout", "HATAGO_IDLE_TIMEOUT", "keep-alive idle `duration`",
		func(c *Config) flag.Value { return (*durationValue)(&c.IdleTimeout) }},
	{"write-timeout", "HATAGO_WRITE_TIMEOUT", "`duration` to write a response (negative: none)",
		func(c *Config) flag.Value { return (*durationValue)(&c.WriteTimeout) }},
	{"request-timeout", "HATAGO_REQUEST_TIMEOUT", "hard limit on a request from arrival (`duration`; negative: none)",
		func(c *Config) flag.Value { return (*durationValue)(&c.RequestTimeout) }},
	{"shutdown-timeout", "HATAGO_SHUTDOWN_TIMEOUT", "graceful stop deadline (`duration`)",
		func(c *Config) flag.Value { return (*durationValue)(&c.ShutdownTimeout) }},
	{"max-header-bytes", "HATAGO_MAX_HEADER_BYTES", "largest request headers (`bytes`; past it: 431)",
		func(c *Config) flag.Value { return (*intValue)(&c.MaxHeaderBytes) }},
	{"max-body-bytes", "HATAGO_MAX_BODY_BYTES", "largest request body (`bytes`; past it: 413; negative: none)",
		func(c *Config) flag.Value { return (*int64Value)(&c.MaxBodyBytes) }},
	{"control-url", "HATAGO_CONTROL_URL", "start the control server at `URL` (tcp://HOST:PORT or unix:///PATH)",
		func(c *Config) flag.Value { return (*stringValue)(&c.ControlURL) }},
	{"control-token", "HATAGO_CONTROL_TOKEN", "control server `token` (default: a random one, logged at start)",
		func(c *Config) flag.Value { return (*stringValue)(&c.ControlToken) }},
	{"access-log", "HATAGO_ACCESS_LOG", "log every request",
		func(c *Config) flag.Value { return (*boolValue)(&c.AccessLog) }},
	{"w", "HATAGO_WORKERS", "worker processes: `N`, or auto for one per CPU; 0: none, serve in this process (also env WEB_CONCURRENCY)",
		func(c *Config) flag.Value { return (*workersValue)(&c.Workers) }},
	{"worker-boot-timeout", "HATAGO_WORKER_BOOT_TIMEOUT", "kill a worker not serving this `duration` after its start",
		func(c *Config) flag.Value { return (*durationValue)(&c.WorkerBootTimeout) }},
	{"worker-checkin-interval", "HATAGO_WORKER_CHECKIN_INTERVAL", "how often workers report to the master (`duration`)",
		func(c *Config) flag.Value { return (*durationValue)(&c.WorkerCheckinInterval) }},
	{"worker-timeout", "HATAGO_WORKER_TIMEOUT", "kill a worker silent for this `duration`",
		func(c *Config) flag.Value { return (*durationValue)(&c.WorkerTimeout) }},
	{"recycle-requests", "HATAGO_RECYCLE_REQUESTS", "replace a worker after about `N` requests",
		func(c *Config) flag.Value { return (*uint64Value)(&c.RecycleRequests) }},
	{"recycle-memory", "HATAGO_RECYCLE_MEMORY", "replace a worker past this resident memory (`bytes`, or 512MB, 1GiB)",
		func(c *Config) flag.Value { return (*bytesValue)(&c.RecycleBytes) }},
	{"worker-cull", "HATAGO_WORKER_CULL", "which worker goes when the count goes down: youngest or oldest (`order`)",
		func(c *Config) flag.Value { return (*stringValue)(&c.WorkerCull) }},
	{"log-file", "HATAGO_LOG_FILE", "append the log and standard error to `PATH`, reopened on SIGHUP",
		func(c *Config) flag.Value { return (*stringValue)(&c.LogFile) }},
}

// Flags defines Hatago's standard server flags on fs, Puma's where Puma has
// one (-b, -t, --control-url, --control-token), each writing into c. Call Env
// first, if at all, then Flags, then fs.Parse: flags win over the
// environment, which wins over the defaults. A bad value makes fs.Parse fail
// with the flag's name.
func (c *Config) Flags(fs *flag.FlagSet) {
	for _, o := range options {
		fs.Var(o.value(c), o.flag, o.usage+" (env "+o.env+")")
	}
}

// Env reads the HATAGO_* variables named in Config's fields into c, and PORT
// (as bind tcp://0.0.0.0:$PORT) when HATAGO_BIND is unset, as platforms that
// assign a port expect. getenv is usually os.Getenv; nil means os.Getenv.
// Env returns a *ConfigError naming the variable of the first bad value.
func (c *Config) Env(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, o := range options {
		v := getenv(o.env)
		if v == "" {
			continue
		}
		if o.env == "HATAGO_BIND" {
			c.Binds = nil
			for _, b := range strings.Split(v, ",") {
				if b = strings.TrimSpace(b); b != "" {
					c.Binds = append(c.Binds, b)
				}
			}
			continue
		}
		if err := o.value(c).Set(v); err != nil {
			return &ConfigError{Field: o.env, Reason: fmt.Sprintf("%q: %v", v, err)}
		}
	}
	if v := getenv("WEB_CONCURRENCY"); v != "" && getenv("HATAGO_WORKERS") == "" {
		if err := (*workersValue)(&c.Workers).Set(v); err != nil {
			return &ConfigError{Field: "WEB_CONCURRENCY", Reason: fmt.Sprintf("%q: %v", v, err)}
		}
	}
	if getenv("HATAGO_BIND") == "" {
		if port := getenv("PORT"); port != "" {
			if _, err := strconv.ParseUint(port, 10, 16); err != nil {
				return &ConfigError{Field: "PORT", Reason: fmt.Sprintf("%q is not a port number", port)}
			}
			c.Binds = []string{"tcp://0.0.0.0:" + port}
		}
	}
	return nil
}

// bindsValue is -b: the first use replaces the binds from defaults or the
// environment, later uses add to them.
type bindsValue struct {
	c   *Config
	set bool
}

func (v *bindsValue) String() string {
	if v == nil || v.c == nil {
		return ""
	}
	return strings.Join(v.c.Binds, ",")
}

func (v *bindsValue) Set(s string) error {
	if !v.set {
		v.c.Binds, v.set = nil, true
	}
	v.c.Binds = append(v.c.Binds, s)
	return nil
}

// threadsValue is -t MIN:MAX or -t MAX.
type threadsValue Config

func (v *threadsValue) String() string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", v.MinSlots, v.MaxSlots)
}

func (v *threadsValue) Set(s string) error {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		lo, hi = "0", s
	}
	min, err1 := strconv.Atoi(lo)
	max, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("want MIN:MAX or MAX, as whole numbers")
	}
	if min < 0 || max < 1 || min > max {
		return fmt.Errorf("want 0 <= MIN <= MAX and MAX >= 1")
	}
	v.MinSlots, v.MaxSlots = min, max
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration like 30s or 1m")
	}
	*v = durationValue(d)
	return nil
}

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want a whole number")
	}
	*v = intValue(n)
	return nil
}

type int64Value int64

func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want a whole number")
	}
	*v = int64Value(n)
	return nil
}

type stringValue string

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type boolValue bool

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	*v = boolValue(b)
	return nil
}

// workersValue is -w N or -w auto.
type workersValue int

func (v *workersValue) String() string {
	if v != nil && *v == WorkersAuto {
		return "auto"
	}
	if v == nil {
		return "0"
	}
	return strconv.Itoa(int(*v))
}

func (v *workersValue) Set(s string) error {
	if s == "auto" {
		*v = WorkersAuto
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a count of workers or auto")
	}
	*v = workersValue(n)
	return nil
}

type uint64Value uint64

func (v *uint64Value) String() string { return strconv.FormatUint(uint64(*v), 10) }
func (v *uint64Value) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want a whole number, 0 or more")
	}
	*v = uint64Value(n)
	return nil
}

// bytesValue is a size in bytes, plain or with a unit: KB, MB, GB (powers
// of 1000) or KiB, MiB, GiB (powers of 1024).
type bytesValue uint64

func (v *bytesValue) String() string { return strconv.FormatUint(uint64(*v), 10) }
func (v *bytesValue) Set(s string) error {
	num := strings.TrimRight(s, "KMGiBkmgb")
	unit := strings.ToUpper(s[len(num):])
	mult := map[string]uint64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}[unit]
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil || mult == 0 {
		return fmt.Errorf("want bytes, or a size like 512MB or 1GiB")
	}
	*v = bytesValue(n * mult)
	return nil
}
