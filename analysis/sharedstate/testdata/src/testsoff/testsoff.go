// Package testsoff has a racy closure only in a test file, which the
// analyzer skips without -tests.
package testsoff
