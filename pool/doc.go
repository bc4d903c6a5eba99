// Package pool admits work onto a bounded set of slots: Puma's thread pool,
// translated to Go.
//
// A goroutine is cheap, so a slot is not a goroutine: it is a permit for
// one unit of admitted concurrency, with a stable index that per-slot
// resources hang on. Acquire takes a free slot, starting a new one (through
// Config.OnStart) up to Max; when all are busy the caller waits in a FIFO
// backlog bounded by Config.Backlog, and past that bound Acquire fails at
// once with ErrFull, so an overloaded server sheds load instead of piling up
// goroutines. Release hands the slot to the longest-waiting request, or
// makes it idle. Idle slots are kept in a stack, so the warmest is reused
// first and the coldest, idle past Config.IdleTimeout, are trimmed back to
// Min (through Config.OnStop).
//
// Every request's queue time and latency go into histograms whose
// percentiles Stats reports over a recent window. The fast path (a free
// slot) costs two short critical sections and two monotonic clock reads, and
// allocates nothing; BenchmarkAdmission measures it.
package pool
