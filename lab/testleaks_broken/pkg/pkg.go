// Package pkg does not compile: leakhunter test must exit 2 with one clear line.
package pkg

func Broken() int {
	return undefinedName
}
