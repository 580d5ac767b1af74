package store

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"io"
	"os"
	"slices"
)

// pageWalk checks bbolt's page tree by reading the file itself, before any
// bbolt cursor or bbolt's own check (tx.Check) goes near it. Those trust
// what a page says: one flipped byte in a page's overflow count made
// tx.Check loop for minutes over a billion pages, a page id pointing back
// to its parent sends a cursor down forever, and a key size of gigabytes
// makes it fault. This walk reads pages with ReadAt (no memory mapping,
// so no faults), checks every count, size and page reference against the
// page and the file, and visits each page once. It knows bbolt's on-disk
// format (version 2, unchanged since bbolt 1.3): a 16-byte page header
// (id, flags, count, overflow), 16-byte branch elements (pos, ksize, page
// id) and leaf elements (flags, pos, ksize, vsize), buckets as leaf values
// holding a root page id and a sequence, or an inline page.
//
// The file is bbolt's to write; this only reads it.
type pageWalk struct {
	f        io.ReaderAt
	path     string
	pageSize uint64
	hwm      uint64   // pages in use: ids from 2 up to hwm-1
	seen     []uint64 // bitset of the pages reached so far
	entries  int
	scope    walkScope
	// bufs holds one page buffer per tree level, reused.
	bufs [][]byte
}

// lastKey is the previous key of a bucket, copied out of the reused page
// buffers.
type lastKey struct {
	key []byte
	set bool
}

const (
	pageHeaderSize  = 16
	elementSize     = 16
	branchPageFlag  = 0x01
	leafPageFlag    = 0x02
	freelistFlag    = 0x10
	bucketLeafFlag  = 0x01
	bucketHeaderLen = 16
	metaMagic       = 0xED0CDAED
	metaVersion     = 2
	noFreelist      = ^uint64(0)
	// maxDepth bounds the tree's height: a real file of hotline's size
	// is a handful of levels deep.
	maxDepth = 64
)

// diskMeta is the part of a meta page the walk needs.
type diskMeta struct {
	root, freelist, hwm, txid, pageSize uint64
	valid                               bool
}

func parseMeta(page []byte) diskMeta {
	m := page[pageHeaderSize:]
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(m[:56])
	return diskMeta{
		pageSize: uint64(le.Uint32(m[8:])), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), hwm: le.Uint64(m[40:]), txid: le.Uint64(m[48:]),
		valid: le.Uint32(m[0:]) == metaMagic && le.Uint32(m[4:]) == metaVersion && le.Uint64(m[56:]) == h.Sum64(),
	}
}

// walkPages checks the page tree of the file open in f as scope says and
// returns how many entries it read.
func walkPages(path string, f io.ReaderAt, size int64, scope walkScope) (int, error) {
	w := &pageWalk{f: f, path: path, scope: scope}
	m, err := w.readMeta(size)
	if err != nil {
		return 0, err
	}
	w.hwm = m.hwm
	if uint64(size) < w.hwm*w.pageSize {
		return 0, damaged(path, "the file is %d bytes but its pages reach %d bytes: it was cut short", size, w.hwm*w.pageSize)
	}
	w.seen = make([]uint64, (w.hwm+63)/64)
	w.mark(0, 0)
	w.mark(1, 0)
	if err := w.tree(rootName, m.root, false, 0); err != nil {
		return w.entries, err
	}
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return w.entries, err
		}
	}
	return w.entries, nil
}

// rootName names the root bucket, whose keys are the buckets' names.
const rootName = "the list of buckets"

// readMeta finds the page size and picks the meta page bbolt would: the
// valid one with the later transaction.
func (w *pageWalk) readMeta(size int64) (diskMeta, error) {
	head := make([]byte, 4096)
	if size < int64(len(head)) {
		return diskMeta{}, damaged(w.path, "the file is only %d bytes", size)
	}
	if _, err := w.f.ReadAt(head, 0); err != nil {
		return diskMeta{}, damaged(w.path, "reading the first meta page: %v", err)
	}
	if m := parseMeta(head); m.valid {
		w.pageSize = m.pageSize
	} else {
		// The first meta page is bad: find the second at each possible
		// page size, as bbolt does.
		for shift := 10; shift <= 24 && w.pageSize == 0; shift++ {
			if int64(1)<<shift+int64(len(head)) > size {
				break
			}
			if _, err := w.f.ReadAt(head, int64(1)<<shift); err == nil {
				if m := parseMeta(head); m.valid && m.pageSize == 1<<shift {
					w.pageSize = m.pageSize
				}
			}
		}
	}
	if w.pageSize < 1024 || int64(w.pageSize)*2 > size {
		return diskMeta{}, damaged(w.path, "neither meta page is valid")
	}
	pages := make([]byte, 2*w.pageSize)
	if _, err := w.f.ReadAt(pages, 0); err != nil {
		return diskMeta{}, damaged(w.path, "reading the meta pages: %v", err)
	}
	a, b := parseMeta(pages[:w.pageSize]), parseMeta(pages[w.pageSize:])
	if b.txid > a.txid {
		a, b = b, a
	}
	if a.valid {
		return a, nil
	}
	if b.valid {
		return b, nil
	}
	return diskMeta{}, damaged(w.path, "neither meta page is valid")
}

// mark records pages id..id+overflow as reached; a page reached twice is
// a loop or a shared page, both damage.
func (w *pageWalk) mark(id uint64, overflow uint32) error {
	if id < 2 && id+uint64(overflow) >= 2 || id+uint64(overflow) >= w.hwm {
		return damaged(w.path, "page %d (+%d overflow) lies outside the %d pages in use", id, overflow, w.hwm)
	}
	for p := id; p <= id+uint64(overflow); p++ {
		if w.seen[p/64]&(1<<(p%64)) != 0 {
			return damaged(w.path, "page %d is reached twice", p)
		}
		w.seen[p/64] |= 1 << (p % 64)
	}
	return nil
}

// page reads page id with its overflow pages after checking its header,
// into the buffer of tree level depth.
func (w *pageWalk) page(id uint64, depth int, want ...uint16) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, damaged(w.path, "a reference to page %d, outside the %d pages in use", id, w.hwm)
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, w.pageSize))
	}
	buf := w.bufs[depth][:w.pageSize]
	if _, err := w.f.ReadAt(buf, int64(id*w.pageSize)); err != nil {
		return nil, damaged(w.path, "page %d: %v", id, err)
	}
	le := binary.LittleEndian
	if got := le.Uint64(buf); got != id {
		return nil, damaged(w.path, "page %d says it is page %d", id, got)
	}
	if flags := le.Uint16(buf[8:]); !slices.Contains(want, flags) {
		return nil, damaged(w.path, "page %d has type %#x where a %s page belongs", id, flags, pageKinds(want))
	}
	overflow := le.Uint32(buf[12:])
	if err := w.mark(id, overflow); err != nil {
		return nil, err
	}
	if overflow > 0 {
		full := (uint64(overflow) + 1) * w.pageSize
		if uint64(cap(w.bufs[depth])) < full {
			w.bufs[depth] = make([]byte, full)
		}
		buf = w.bufs[depth][:full]
		if _, err := w.f.ReadAt(buf, int64(id*w.pageSize)); err != nil {
			return nil, damaged(w.path, "page %d: %v", id, err)
		}
	}
	return buf, nil
}

func pageKinds(flags []uint16) string {
	if len(flags) == 1 && flags[0] == freelistFlag {
		return "free-list"
	}
	return "branch or leaf"
}

// element returns the key (and for a leaf the value) of element i of the
// page or inline page in buf, checking they lie inside it.
func (w *pageWalk) element(buf []byte, i int, id uint64) (flags uint32, key, value []byte, child uint64, err error) {
	le := binary.LittleEndian
	at := pageHeaderSize + i*elementSize
	e := buf[at : at+elementSize]
	var pos, ksize, vsize uint64
	leaf := le.Uint16(buf[8:]) == leafPageFlag
	if leaf {
		flags, pos, ksize, vsize = le.Uint32(e), uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
	} else {
		pos, ksize, child = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:])), le.Uint64(e[8:])
	}
	start := uint64(at) + pos
	if start+ksize+vsize > uint64(len(buf)) {
		return 0, nil, nil, 0, damaged(w.path, "page %d: element %d reaches past the page", id, i)
	}
	key = buf[start : start+ksize]
	value = buf[start+ksize : start+ksize+vsize]
	return flags, key, value, child, nil
}

// tree checks the bucket tree rooted at page root (0: an inline bucket,
// already checked with its parent). ends reads only the first and last
// pages of each level, for buckets a walkOpen check reads at their ends.
func (w *pageWalk) tree(name string, root uint64, ends bool, depth int) error {
	var prev lastKey
	return w.node(name, root, ends, depth, &prev)
}

func (w *pageWalk) node(name string, id uint64, ends bool, depth int, prev *lastKey) error {
	if depth > maxDepth {
		return damaged(w.path, "bucket %s is more than %d levels deep", name, maxDepth)
	}
	buf, err := w.page(id, depth, branchPageFlag, leafPageFlag)
	if err != nil {
		return err
	}
	return w.elements(name, buf, id, ends, depth, prev)
}

// elements checks the elements of a page (or an inline page) in order.
func (w *pageWalk) elements(name string, buf []byte, id uint64, ends bool, depth int, prev *lastKey) error {
	le := binary.LittleEndian
	count := int(le.Uint16(buf[10:]))
	if pageHeaderSize+count*elementSize > len(buf) {
		return damaged(w.path, "page %d: %d elements do not fit in it", id, count)
	}
	leaf := le.Uint16(buf[8:]) == leafPageFlag
	for i := range count {
		if ends && !leaf && i != 0 && i != count-1 {
			continue
		}
		flags, key, value, child, err := w.element(buf, i, id)
		if err != nil {
			return err
		}
		if !leaf {
			if ends && i == count-1 {
				prev.set = false // the last path starts a second run of keys
			}
			if err := w.node(name, child, ends, depth+1, prev); err != nil {
				return err
			}
			continue
		}
		if prev.set && bytes.Compare(prev.key, key) >= 0 {
			return damaged(w.path, "bucket %s: keys out of order after %s", name, printableKey(prev.key))
		}
		prev.key, prev.set = append(prev.key[:0], key...), true
		w.entries++
		if flags&bucketLeafFlag == 0 {
			continue
		}
		if len(value) < bucketHeaderLen {
			return damaged(w.path, "bucket %s: a bucket entry of %d bytes", name, len(value))
		}
		childName := name + "/" + printableKey(key)
		if name == rootName {
			childName = printableKey(key)
		}
		childEnds := w.scope == walkOpen && slices.ContainsFunc(lazyBuckets, func(l []byte) bool { return bytes.Equal(l, key) })
		if root := le.Uint64(value); root != 0 {
			if err := w.tree(childName, root, childEnds, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := value[bucketHeaderLen:]
		if len(inline) < pageHeaderSize {
			return damaged(w.path, "bucket %s: an inline bucket of %d bytes", childName, len(inline))
		}
		if f := le.Uint16(inline[8:]); f != leafPageFlag {
			return damaged(w.path, "bucket %s: inline bucket has type %#x", childName, f)
		}
		var inlinePrev lastKey
		if err := w.elements(childName, inline, id, false, depth+1, &inlinePrev); err != nil {
			return err
		}
	}
	return nil
}

// freelist checks the free-page list: its page, and ids in range that no
// tree page uses (a walkOpen check has not seen every tree page, so there
// a free id can only be checked against those it saw).
func (w *pageWalk) freelist(id uint64) error {
	buf, err := w.page(id, 0, freelistFlag)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	count, first := uint64(le.Uint16(buf[10:])), uint64(pageHeaderSize)
	if count == 0xFFFF {
		count, first = le.Uint64(buf[pageHeaderSize:]), pageHeaderSize+8
	}
	if first+count*8 > uint64(len(buf)) {
		return damaged(w.path, "free-page list page %d: %d ids do not fit in it", id, count)
	}
	for i := range count {
		free := le.Uint64(buf[first+i*8:])
		if err := w.mark(free, 0); err != nil {
			return damaged(w.path, "free-page list: %s", damageDetail(err))
		}
	}
	return nil
}

// walkFile runs walkPages on the file at path.
func walkFile(path string, scope walkScope) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return walkPages(path, f, info.Size(), scope)
}
