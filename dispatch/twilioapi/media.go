package twilioapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultDownloadTimeout bounds a whole media download when
// Config.DownloadTimeout is zero: a 60 MB recording at 1 Mbit/s.
const DefaultDownloadTimeout = 10 * time.Minute

// Recording is what Twilio says about a recording resource.
type Recording struct {
	// Status is Twilio's: in-progress, paused, stopped, processing,
	// completed, absent or deleted. Only a completed recording has media.
	Status string
	// Duration in seconds (-1 or 0 while it is not completed).
	Duration int
}

// RecordingInfo fetches recording sid's resource (GET
// Recordings/{Sid}.json through twilio-go), to learn whether its media
// is ready and how long it is, before downloading it.
func (c *Client) RecordingInfo(ctx context.Context, sid string) (Recording, error) {
	if !recordingRe.MatchString(sid) {
		return Recording{}, fmt.Errorf("%w: recording sid is not RE followed by 32 hex digits", ErrInvalidArgument)
	}
	cl, api, cancel := c.begin(ctx)
	defer cancel()
	r, err := api.FetchRecording(sid, nil)
	if err != nil {
		return Recording{}, c.wrap(cl, err, sid)
	}
	var out Recording
	if r.Status != nil {
		out.Status = *r.Status
	}
	if r.Duration != nil {
		out.Duration, _ = strconv.Atoi(*r.Duration)
	}
	return out, nil
}

// Media is a recording's audio as it downloads. Read it to the end, then
// Close it. A read error wraps an *APIError (a connection cut short is
// retryable, like any other network failure).
type Media struct {
	ContentType string
	// Length is the Content-Length Twilio announced, -1 if none.
	Length int64
	// WantSeconds, set before reading, is Twilio's duration of the
	// recording (RecordingInfo): a WAV whose data chunk holds much more or
	// less audio fails at its end. Zero skips that check.
	WantSeconds int

	head []byte // the first wavHeadBytes, to check a WAV's sizes at its end

	body   io.ReadCloser
	cancel context.CancelFunc
	client *Client
	sid    string
	read   int64
}

// Read reads audio, turning transport errors into scrubbed *APIErrors and
// refusing more than MaxRecordingBytes or a body shorter than announced.
// A WAV must also end where its header says (and last about WantSeconds):
// a body without a Content-Length that is cut short ends like a whole one,
// and the audio must never be deleted at Twilio on the word of such a
// download. Every such refusal is retryable.
func (m *Media) Read(p []byte) (int, error) {
	n, err := m.body.Read(p)
	if len(m.head) < wavHeadBytes {
		m.head = append(m.head, p[:min(n, wavHeadBytes-len(m.head))]...)
	}
	m.read += int64(n)
	if m.read > MaxRecordingBytes {
		return n, &APIError{Status: http.StatusOK, Message: fmt.Sprintf("recording is larger than %d bytes", MaxRecordingBytes)}
	}
	switch {
	case err == io.EOF && m.Length >= 0 && m.read != m.Length:
		return n, &APIError{Message: fmt.Sprintf("incomplete response: %d of %d bytes", m.read, m.Length), retry: true, cause: io.ErrUnexpectedEOF}
	case err == io.EOF && m.isWAV():
		if werr := checkWAV(m.head, m.read, m.WantSeconds); werr != nil {
			return n, &APIError{Message: "incomplete recording: " + werr.Error(), retry: true, cause: io.ErrUnexpectedEOF}
		}
		return n, io.EOF
	case err == io.EOF:
		return n, io.EOF
	case err != nil:
		return n, m.client.wrap(&call{}, err, m.sid)
	}
	return n, nil
}

// isWAV is whether the audio is announced or starts as WAV (the only
// format the worker asks for).
func (m *Media) isWAV() bool {
	ct := strings.ToLower(m.ContentType)
	return strings.Contains(ct, "wav") || bytes.HasPrefix(m.head, []byte("RIFF"))
}

// Close ends the download.
func (m *Media) Close() error {
	err := m.body.Close()
	m.cancel()
	return err
}

// OpenRecording starts downloading recording sid as WAV and returns it as
// a stream, so a long recording is never held whole in memory. twilio-go
// has no call for media, so this is a GET built with the client's own
// credentials, transport and URL rewrite; the answer's headers must come
// within Config.Timeout and the whole body within
// Config.DownloadTimeout. Redirects (Twilio may serve media from a storage
// host) are followed at most three times, over HTTPS only unless
// Config.APIURL is set; Go drops the Authorization header when a redirect
// leaves the original host.
func (c *Client) OpenRecording(ctx context.Context, sid string) (*Media, error) {
	if !recordingRe.MatchString(sid) {
		return nil, fmt.Errorf("%w: recording sid is not RE followed by 32 hex digits", ErrInvalidArgument)
	}
	ctx, cancel := context.WithTimeout(ctx, c.download)
	cl := &call{ctx: ctx}
	u := "https://api.twilio.com/2010-04-01/Accounts/" + c.accountSID + "/Recordings/" + sid + ".wav"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, c.wrap(cl, err, sid)
	}
	req.SetBasicAuth(c.accountSID, c.authToken)
	_, rewritten := c.transport.(*rewriteTransport)
	hc := &http.Client{
		Transport: c.transport,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if r.URL.Scheme != "https" && !rewritten {
				return errors.New("redirect to a non-https URL")
			}
			return nil
		},
	}
	// The headers must come within the usual timeout; only the body may
	// take the longer download timeout.
	headers := time.AfterFunc(c.timeout, cancel)
	resp, err := hc.Do(req)
	stopped := headers.Stop()
	if err != nil {
		cancel()
		return nil, c.wrap(cl, err, sid)
	}
	if !stopped {
		resp.Body.Close()
		cancel()
		return nil, &APIError{Message: "no response headers within the timeout", retry: true, cause: context.DeadlineExceeded}
	}
	cl.status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		err := c.wrap(cl, errorFromResponse(resp), sid)
		resp.Body.Close()
		cancel()
		return nil, err
	}
	if resp.ContentLength > MaxRecordingBytes {
		resp.Body.Close()
		cancel()
		return nil, &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("recording is larger than %d bytes", MaxRecordingBytes)}
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "audio/x-wav"
	}
	return &Media{ContentType: ct, Length: resp.ContentLength, body: resp.Body, cancel: cancel, client: c, sid: sid}, nil
}
