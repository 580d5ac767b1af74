package intake

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
)

// readChunk is how much of a body is read at a time, so a form with too
// many fields is refused after its first chunk rather than its last.
const readChunk = 4 << 10

// bodyBuffers hold bodies while they are checked; a body is copied out
// (into the parsed form) before its buffer goes back.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, MaxBodyBytes); return &b }}

// readBoundedBody reads a webhook body of at most MaxBodyBytes and
// MaxFormFields fields, counting fields as it reads, and passes it to use.
// A body refused part-way is not read further: the connection is closed
// after the answer instead, so a forged 10,000-field form costs one chunk.
func readBoundedBody(w http.ResponseWriter, r *http.Request, use func([]byte) *rejection) *rejection {
	if r.ContentLength > MaxBodyBytes {
		w.Header().Set("Connection", "close")
		return errTooLarge
	}
	bp := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(bp)
	buf := (*bp)[:0]
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	fields := 1
	var beyond [1]byte // read into when buf is full: any byte there is one too many
	for {
		chunk := buf[len(buf):min(cap(buf), len(buf)+readChunk)]
		if len(chunk) == 0 {
			chunk = beyond[:]
		}
		n, err := body.Read(chunk)
		if len(buf) == cap(buf) && n > 0 {
			return errTooLarge
		}
		fields += bytes.Count(chunk[:n], []byte("&"))
		buf = buf[:len(buf)+n]
		if fields > MaxFormFields {
			w.Header().Set("Connection", "close")
			return errTooManyFields
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return errTooLarge
			}
			return errMalformed
		}
	}
	return use(buf)
}

// namesAccount reports whether body, a raw form, has the field
// "AccountSid=" + sid as Twilio writes it: a SID is letters and digits,
// which no form encoder escapes. Twilio sends AccountSid with every
// webhook, so a body without it is refused before it is parsed or its
// signature computed, which for a forged 55 KB form is most of its cost.
// The parsed form's AccountSid is still checked after the signature.
func namesAccount(body []byte, sid string) bool {
	field := append([]byte("AccountSid="), sid...)
	for from := 0; from < len(body); {
		i := bytes.Index(body[from:], field)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(field)
		if (start == 0 || body[start-1] == '&') && (end == len(body) || body[end] == '&') {
			return true
		}
		from = start + 1
	}
	return false
}
