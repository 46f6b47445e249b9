// Package scripttest holds Wolfpack's behaviour tests: testscript scenarios (testdata/*.txtar)
// in which the real binaries — wolfpackd, reg, cluster, wevtutil, eventcreate — run as a
// user runs them. Reading a scenario explains the feature it tests.
package scripttest
