//go:build !(linux || darwin || freebsd)

package store

func freeSpace(string) (uint64, error) { return 0, errNoStatfs }
