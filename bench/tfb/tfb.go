// Package tfb holds what the peer servers of the benchmark share: the
// TechEmpower data (World and Fortune rows and the SQL that reads and
// writes them), the rule for the queries parameter, random ids, the
// fortunes page, and the database setup the harness and the tests use.
//
// The HTTP side of each test is written per peer, in that framework's own
// idiom; what is here is the part that would be the same code in all of
// them, so the comparison measures the frameworks and not five different
// database layers. The rules are those of TechEmpower's FrameworkBenchmarks
// (see shared/TECHEMPOWER.md in the project).
package tfb

import (
	"math/rand/v2"
)

// The sizes and fixed texts of the tests.
const (
	// WorldRows is the number of rows in the world table, ids 1..WorldRows.
	WorldRows = 10000
	// MaxQueries is the largest number of rows the queries, updates and
	// cached-queries tests serve in one response.
	MaxQueries = 500
	// HelloWorld is the plaintext body and the JSON message.
	HelloWorld = "Hello, World!"
	// AdditionalFortune is the message of the fortune added at request time.
	AdditionalFortune = "Additional fortune added at request time."
)

// The SQL of the tests, with lower-case unquoted names as TechEmpower's own
// setup creates them.
const (
	SelectWorld    = "SELECT id, randomnumber FROM world WHERE id = $1"
	UpdateWorld    = "UPDATE world SET randomnumber = $1 WHERE id = $2"
	SelectFortunes = "SELECT id, message FROM fortune"
	SelectWorlds   = "SELECT id, randomnumber FROM world ORDER BY id"
)

// Message is the object of the JSON test.
type Message struct {
	Message string `json:"message"`
}

// World is one row of the world table, as the tests serialise it.
type World struct {
	ID           int32 `json:"id"`
	RandomNumber int32 `json:"randomNumber"`
}

// Fortune is one row of the fortune table.
type Fortune struct {
	ID      int32
	Message string
}

// RandomID returns a random world id in 1..WorldRows. It is safe for
// concurrent use and does not lock (math/rand/v2's global source).
func RandomID() int32 {
	return rand.Int32N(WorldRows) + 1
}

// Queries returns the number of rows a queries, updates or cached-queries
// request asks for, from the raw value of its parameter: a missing, empty or
// non-integer value or one below 1 means 1, and one above MaxQueries means
// MaxQueries. It reads integers as strconv.Atoi does (an optional sign,
// then decimal digits), except that a number too large for an int is still
// a number above MaxQueries. It allocates nothing, so fasthttp's []byte
// values need no conversion.
func Queries[T ~string | ~[]byte](s T) int {
	i := 0
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		i = 1
	}
	if i == len(s) {
		return 1
	}
	n := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 1
		}
		if n <= MaxQueries { // past it the value no longer matters
			n = n*10 + int(c-'0')
		}
	}
	switch {
	case neg || n < 1:
		return 1
	case n > MaxQueries:
		return MaxQueries
	}
	return n
}
