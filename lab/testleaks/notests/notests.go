// Package notests has no tests: leakhunter must not add any.
package notests

func Nothing() {}
