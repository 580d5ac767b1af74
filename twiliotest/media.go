package twiliotest

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
)

// deleteGate holds recording deletes: each signals entered, waits for
// release and then fails with 503, deleting nothing.
type deleteGate struct {
	entered chan struct{}
	release chan struct{}
}

// Redactions counts messages whose body was blanked through the API.
func (f *FakeTwilio) Redactions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.redactions
}

// Downloads counts GETs of recording media, failed ones included.
func (f *FakeTwilio) Downloads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.downloads
}

// HasRecording reports whether recording sid is still held (not deleted).
func (f *FakeTwilio) HasRecording(sid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.recordings[sid]
	return ok
}

// FailNextDownloads makes the next n media downloads send half the audio
// and then drop the connection.
func (f *FakeTwilio) FailNextDownloads(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failDownloads = n
}

// TruncateNextDownloads makes the next n media downloads answer without a
// Content-Length (a close-delimited body, as an HTTP/1.0-style proxy or
// storage host may send), with only half the audio before the connection
// is closed cleanly: to the client the body ends as if it were whole.
func (f *FakeTwilio) TruncateNextDownloads(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.truncateDownloads = n
}

// HoldDeletes makes every recording delete wait: entered receives once per
// delete that arrives (a test can then copy the data file: the state a
// crash at that instant leaves). release lifts the hold: the deletes that
// waited answer 503 and delete nothing, later ones work again.
func (f *FakeTwilio) HoldDeletes() (entered <-chan struct{}, release func()) {
	g := &deleteGate{entered: make(chan struct{}, 16), release: make(chan struct{})}
	f.mu.Lock()
	f.deleteGate = g
	f.mu.Unlock()
	return g.entered, func() {
		f.mu.Lock()
		if f.deleteGate == g {
			f.deleteGate = nil
			close(g.release)
		}
		f.mu.Unlock()
	}
}

// fetchRecording answers GET Recordings/{Sid}.json with the fields of
// Twilio's Recording resource.
func (f *FakeTwilio) fetchRecording(w http.ResponseWriter, r *http.Request, sid string) {
	f.mu.Lock()
	data, ok := f.recordings[sid]
	f.mu.Unlock()
	if !ok {
		notFound(w, r)
		return
	}
	now := f.clock()
	uri := "/2010-04-01/Accounts/" + f.accountSID + "/Recordings/" + sid
	seconds := 0
	if len(data) > wavHeaderLen {
		seconds = (len(data) - wavHeaderLen) / (2 * 8000)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account_sid":        f.accountSID,
		"api_version":        "2010-04-01",
		"call_sid":           "CA" + sid[2:],
		"conference_sid":     nil,
		"channels":           1,
		"date_created":       now.Format(twilioTime),
		"date_updated":       now.Format(twilioTime),
		"start_time":         now.Format(twilioTime),
		"duration":           strconv.Itoa(seconds),
		"encryption_details": nil,
		"error_code":         nil,
		"media_url":          "https://api.twilio.com" + uri,
		"price":              nil,
		"price_unit":         "USD",
		"sid":                sid,
		"source":             "RecordVerb",
		"status":             "completed",
		"subresource_uris":   map[string]string{"transcriptions": uri + "/Transcriptions.json"},
		"track":              "both",
		"uri":                uri + ".json",
	})
}

// wavHeaderLen is the size of a canonical PCM WAV header.
const wavHeaderLen = 44

// NewWAV returns a valid 8 kHz mono 16-bit PCM WAV of about seconds
// seconds, as Twilio records voicemail: a tone under noise from seed, so
// that no two stretches of it are alike (a test that looks for the audio
// in a data file cannot match by accident on silence).
func NewWAV(seconds float64, seed uint64) []byte {
	const rate = 8000
	samples := int(seconds * rate)
	out := make([]byte, wavHeaderLen, wavHeaderLen+2*samples)
	copy(out[0:], "RIFF")
	binary.LittleEndian.PutUint32(out[4:], uint32(36+2*samples))
	copy(out[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(out[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(out[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(out[22:], 1)  // mono
	binary.LittleEndian.PutUint32(out[24:], rate)
	binary.LittleEndian.PutUint32(out[28:], rate*2) // byte rate
	binary.LittleEndian.PutUint16(out[32:], 2)      // block align
	binary.LittleEndian.PutUint16(out[34:], 16)     // bits per sample
	copy(out[36:], "data")
	binary.LittleEndian.PutUint32(out[40:], uint32(2*samples))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range samples {
		v := 8000*math.Sin(2*math.Pi*440*float64(i)/rate) + float64(rng.IntN(4001)-2000)
		out = binary.LittleEndian.AppendUint16(out, uint16(int16(v)))
	}
	return out
}
