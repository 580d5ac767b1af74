package store

import bolt "go.etcd.io/bbolt"

// appendOnlyBuckets get keys that only grow: message ids start with the
// time, and the SID log is keyed by time. Their records are never
// rewritten in place.
var appendOnlyBuckets = [][]byte{bucketMessages, bucketDedup}

// appendFill is the bbolt FillPercent of those buckets. bbolt splits a
// page that overflows at half by default, which suits random inserts; a
// bucket written in key order only ever adds to its last page, so the
// half left behind would stay empty for good. Filling pages to the brim
// stores the same tips in fewer pages (the README gives the figures, from
// scripts/diskbench.sh).
const appendFill = 1.0

// layout holds the two storage choices that scripts/diskbench.sh measures
// against their alternatives. Production code uses the zero value.
type layout struct {
	// noFreelistSync stops writing bbolt's free-page list at each commit;
	// bbolt then rebuilds it by reading every page of the file at open and
	// after every failed commit.
	noFreelistSync bool
	// defaultFill leaves append-only buckets at bbolt's default fill.
	defaultFill bool
}

// fill sets the fill of append-only buckets for one write transaction
// (bbolt keeps FillPercent per transaction, on the bucket handle that
// every Put in the transaction shares).
func (l layout) fill(tx *bolt.Tx) {
	if l.defaultFill {
		return
	}
	for _, name := range appendOnlyBuckets {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = appendFill
		}
	}
}
