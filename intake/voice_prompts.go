package intake

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
)

// promptFiles are the voice prompts, WAV 8 kHz mono, one folder per
// language, made by scripts/voice-prompts.sh (or replaced by studio
// recordings of the same names). They say nothing about any caller.
//
//go:embed prompts/*/*.wav
var promptFiles embed.FS

// prompt is one embedded audio file ready to serve.
type prompt struct {
	data []byte
	etag string
}

// Prompts serves GET /prompts/{lang}/{name}.wav on the public listener,
// so Twilio's <Play> can fetch them: Twilio's <Say> has no Azerbaijani
// voice. They are the same for everyone, so they may be cached anywhere.
type Prompts struct {
	files map[string]prompt // "az/menu_danger" → file
}

// NewPrompts loads the embedded prompts.
func NewPrompts() (*Prompts, error) {
	p := &Prompts{files: map[string]prompt{}}
	err := fs.WalkDir(promptFiles, "prompts", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := promptFiles.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		key := strings.TrimSuffix(strings.TrimPrefix(name, "prompts/"), ".wav")
		p.files[key] = prompt{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return p, err
}

// Has reports whether the prompt lang/name exists.
func (p *Prompts) Has(lang hotline.Lang, name string) bool {
	_, ok := p.files[string(lang)+"/"+name]
	return ok
}

// promptMaxAge is how long Twilio and proxies may cache a prompt. A
// replaced prompt has a new ETag; a day is how long the old one may play.
const promptMaxAge = 24 * time.Hour

// ServeHTTP serves one prompt; anything else under /prompts/ is a 404
// (no listing).
func (p *Prompts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/prompts/")
	if !ok || path.Ext(rest) != ".wav" || strings.Count(rest, "/") != 1 {
		http.NotFound(w, r)
		return
	}
	f, ok := p.files[strings.TrimSuffix(rest, ".wav")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(promptMaxAge/time.Second)))
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
