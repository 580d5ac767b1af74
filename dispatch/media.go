package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch/twilioapi"
	"github.com/hotline-az/hotline/store"
)

// MediaAPI is Twilio's side of the media jobs. twilioapi.Client is the
// real one.
type MediaAPI interface {
	RecordingInfo(ctx context.Context, sid string) (twilioapi.Recording, error)
	OpenRecording(ctx context.Context, sid string) (*twilioapi.Media, error)
	DeleteRecording(ctx context.Context, sid string) error
	RedactMessage(ctx context.Context, sid string) error
}

// MediaConfig wires a MediaWorker.
type MediaConfig struct {
	Store  *store.Store
	API    MediaAPI
	Logger zerolog.Logger
	// PollInterval is how often due jobs are looked for when nothing
	// wakes the worker. Default 1s.
	PollInterval time.Duration
	// GiveUpAfter is how long a job that keeps failing for reasons that
	// may pass (Twilio down, a full disk) is retried before it is
	// dead-lettered. Default 24h: Twilio keeps a recording until it is
	// deleted, so there is time.
	GiveUpAfter time.Duration
	// RetryRefusedFor is how long a job Twilio answers 401, 403 or 404 is
	// retried before it is dead-lettered. Default 1h: a recording's media
	// may be missing just after its callback, and an auth token just
	// rotated is refused until the new one is configured; neither may
	// cost the recordings of that window. Other 4xx answers are final.
	RetryRefusedFor time.Duration
	// Concurrency bounds the jobs run at once. Default 2.
	Concurrency int
	// KeepAtTwilio leaves recordings at Twilio once stored (config
	// erase_at_twilio = false).
	KeepAtTwilio bool
}

// MediaWorker runs the jobs that leave nothing at Twilio: it downloads
// voicemail recordings into the store (sealed, in chunks), checks that
// they open, and only then deletes them at Twilio; and it blanks the body
// of each stored SMS tip at Twilio. It works apart from the alert worker,
// so a long download never delays an alert. Jobs are claimed in a durable
// transaction (state "sending") and their outcome recorded in another: a
// crash between the two leaves the job "sending", which Recover puts back
// in the queue, and every step of a job is safe to repeat (a stored
// recording is not fetched again; a delete or redaction that already
// happened succeeds again).
type MediaWorker struct {
	cfg  MediaConfig
	st   *store.Store
	log  zerolog.Logger
	wake chan struct{}
}

// NewMediaWorker returns a worker; Run starts it.
func NewMediaWorker(cfg MediaConfig) (*MediaWorker, error) {
	if cfg.Store == nil || cfg.API == nil {
		return nil, errors.New("dispatch: MediaConfig needs a Store and an API")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = 24 * time.Hour
	}
	if cfg.RetryRefusedFor <= 0 {
		cfg.RetryRefusedFor = time.Hour
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	return &MediaWorker{cfg: cfg, st: cfg.Store, wake: make(chan struct{}, 1),
		log: cfg.Logger.With().Str("component", "media").Logger()}, nil
}

// Wake makes the worker look for due jobs now. A nil worker (no Twilio
// account) ignores it.
func (m *MediaWorker) Wake() {
	if m == nil {
		return
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run puts back jobs a crash left in flight, then runs due jobs until ctx
// ends.
func (m *MediaWorker) Run(ctx context.Context) error {
	ticker := time.NewTicker(m.cfg.PollInterval)
	defer ticker.Stop()
	recovered := false
	for {
		if !recovered {
			if err := m.Recover(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				m.log.Error().Err(err).Msg("put back media jobs left in flight")
			} else {
				recovered = true
			}
		}
		if recovered {
			if err := m.RunDue(ctx); err != nil && ctx.Err() == nil {
				m.log.Error().Err(err).Msg("run due media jobs")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-m.wake:
		}
	}
}

// Recover puts media jobs that were running when the process stopped
// back in the queue, due now. Repeating any step of them is safe.
func (m *MediaWorker) Recover(ctx context.Context) error {
	return m.st.Update(ctx, func(tx *store.Tx) error {
		jobs, err := tx.JobsInState(hotline.JobSending)
		if err != nil {
			m.log.Error().Err(err).Msg("jobs that cannot be trusted were left as they are")
		}
		for i := range jobs {
			j := jobs[i]
			if !j.Kind.MediaJob() {
				continue
			}
			j.State, j.NextTryAt = hotline.JobPending, tx.Now()
			j.LastError = "interrupted (process restarted)"
			if err := tx.PutJob(&j); err != nil {
				return err
			}
		}
		return nil
	})
}

// RunDue runs the media jobs due now and returns when they are done.
// Tests with a fake clock call it directly.
func (m *MediaWorker) RunDue(ctx context.Context) error {
	var jobs []hotline.Job
	var listErr error
	if err := m.st.View(func(tx *store.Tx) error {
		jobs, listErr = tx.DueMediaJobs(m.st.Now(), 64)
		return nil
	}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, m.cfg.Concurrency)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := m.execute(ctx, j.ID); err != nil && ctx.Err() == nil {
				m.log.Error().Err(err).Str("job", j.ID).Msg("media job")
			}
		}()
	}
	wg.Wait()
	return listErr
}

// jobFailure is why a try failed: permanent failures are dead-lettered at
// once, refused ones (401, 403, 404) retried with backoff until
// RetryRefusedFor, the others until GiveUpAfter.
type jobFailure struct {
	err       error
	permanent bool
	refused   bool
}

func (f *jobFailure) Error() string { return f.err.Error() }
func (f *jobFailure) Unwrap() error { return f.err }

// twilioFailure classifies an error from Twilio.
func twilioFailure(what string, err error) *jobFailure {
	if errors.Is(err, context.Canceled) {
		return &jobFailure{err: fmt.Errorf("%s: %w", what, err)}
	}
	var ae *twilioapi.APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
			return &jobFailure{err: fmt.Errorf("%s: %w", what, err), refused: true}
		}
	}
	return &jobFailure{err: fmt.Errorf("%s: %w", what, err), permanent: !twilioapi.IsRetryable(err)}
}

// execute claims one job, runs it and records the outcome.
func (m *MediaWorker) execute(ctx context.Context, jobID string) error {
	var job hotline.Job
	claimed := false
	err := m.st.Update(ctx, func(tx *store.Tx) error {
		claimed = false
		j, err := tx.Job(jobID)
		if err != nil || j.State != hotline.JobPending || j.NextTryAt.After(tx.Now()) {
			return err
		}
		j.State = hotline.JobSending
		j.Tries++
		if j.FirstTryAt.IsZero() {
			j.FirstTryAt = tx.Now()
		}
		job, claimed = j, true
		return tx.PutJob(&j)
	})
	if err != nil || !claimed {
		return err
	}
	var delivery string
	var fail *jobFailure
	switch job.Kind {
	case hotline.JobFetchRecording:
		delivery, fail = m.fetchRecording(ctx, job)
	case hotline.JobRedactSMS:
		delivery, fail = m.redact(ctx, job)
	default:
		fail = &jobFailure{err: fmt.Errorf("unknown media job kind %q", job.Kind), permanent: true}
	}
	// Record the outcome even if ctx ended: the try happened.
	return m.st.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		j, err := tx.Job(jobID)
		if err != nil {
			return err
		}
		if fail == nil {
			j.State, j.Delivery, j.LastError, j.ErrorCode = hotline.JobDelivered, delivery, "", 0
			return tx.PutJob(&j)
		}
		j.LastError = fail.Error()
		var ae *twilioapi.APIError
		if errors.As(fail, &ae) {
			j.ErrorCode = ae.Code
		}
		// A job an admin retried (Tries back at 0) gets a few tries even
		// when it is older than GiveUpAfter.
		retryFor := m.cfg.GiveUpAfter
		if fail.refused {
			retryFor = min(m.cfg.RetryRefusedFor, retryFor)
		}
		if !fail.permanent && (tx.Now().Sub(j.CreatedAt) < retryFor || j.Tries < mediaMinTries) {
			j.State, j.NextTryAt = hotline.JobPending, tx.Now().Add(mediaBackoff(j.Tries))
			m.log.Warn().Str("job", j.ID).Str("kind", string(j.Kind)).Int("tries", j.Tries).Str("error", j.LastError).Msg("media job failed; will retry")
			return tx.PutJob(&j)
		}
		j.State = hotline.JobDead
		m.log.Error().Str("job", j.ID).Str("kind", string(j.Kind)).Int("tries", j.Tries).Str("error", j.LastError).Msg("media job dead-lettered")
		if err := tx.PutJob(&j); err != nil {
			return err
		}
		if j.Kind == hotline.JobFetchRecording {
			// The case shows it: an officer must know a message is missing.
			rec, err := tx.Recording(j.ID)
			if err != nil {
				return err
			}
			if rec.State == hotline.RecordingQueued {
				return tx.FailRecording(j.ID, j.LastError)
			}
		}
		return nil
	})
}

// fetchRecording takes a recording as far as it can go: download and
// store (unless stored), verify (unless verified), delete at Twilio
// (unless deleted). Each step is recorded before the next starts.
func (m *MediaWorker) fetchRecording(ctx context.Context, job hotline.Job) (string, *jobFailure) {
	var rec hotline.Recording
	var sid string
	err := m.st.View(func(tx *store.Tx) error {
		var err error
		if rec, err = tx.Recording(job.ID); err != nil {
			return err
		}
		sid, err = tx.RecordingSID(job.ID)
		return err
	})
	if err != nil {
		return "", &jobFailure{err: err}
	}
	if rec.State == hotline.RecordingQueued || rec.State == hotline.RecordingFailed {
		info, err := m.cfg.API.RecordingInfo(ctx, sid)
		if err != nil {
			return "", twilioFailure("recording details", err)
		}
		switch info.Status {
		case "completed":
		case "absent", "deleted", "failed":
			return "", &jobFailure{err: fmt.Errorf("Twilio has no audio for this recording (status %s)", info.Status), permanent: true}
		default:
			return "", &jobFailure{err: fmt.Errorf("recording not ready at Twilio (status %s)", info.Status)}
		}
		media, err := m.cfg.API.OpenRecording(ctx, sid)
		if err != nil {
			return "", twilioFailure("download", err)
		}
		// A download whose audio is shorter than Twilio's duration is cut
		// short: it fails, is retried, and Twilio's copy stays.
		media.WantSeconds = info.Duration
		_, err = m.st.StoreRecordingAudio(ctx, job.ID, media.ContentType, media, twilioapi.MaxRecordingBytes)
		media.Close()
		var ae *twilioapi.APIError
		switch {
		case errors.As(err, &ae):
			return "", twilioFailure("download", err)
		case errors.Is(err, store.ErrRecordingTooLarge):
			return "", &jobFailure{err: err, permanent: true}
		case err != nil:
			return "", &jobFailure{err: fmt.Errorf("store recording: %w", err)}
		}
		rec.State = hotline.RecordingStored
	}
	if rec.State == hotline.RecordingStored {
		if err := m.st.VerifyRecording(ctx, job.ID); err != nil {
			// Twilio's copy stays either way: a recording that does not
			// open is downloaded again; one whose check was cut short (a
			// shutdown) is checked again.
			if errors.Is(err, store.ErrRecordingDoesNotOpen) {
				return "", &jobFailure{err: fmt.Errorf("stored recording does not open; fetching again: %w", err)}
			}
			return "", &jobFailure{err: fmt.Errorf("verify stored recording: %w", err)}
		}
		m.log.Info().Str("job", job.ID).Msg("recording stored and verified")
	}
	if m.cfg.KeepAtTwilio {
		return "stored; kept at Twilio (erase_at_twilio = false)", nil
	}
	if !rec.DeletedAtTwilio {
		if err := m.cfg.API.DeleteRecording(ctx, sid); err != nil {
			return "", twilioFailure("delete at Twilio (the recording is stored)", err)
		}
		if err := m.st.Update(ctx, func(tx *store.Tx) error { return tx.SetRecordingDeleted(job.ID) }); err != nil {
			return "", &jobFailure{err: err}
		}
		m.log.Info().Str("job", job.ID).Msg("recording deleted at Twilio")
	}
	return "stored; deleted at Twilio", nil
}

// redact blanks the message's body at Twilio. A message Twilio no longer
// has (404) has nothing left to redact.
func (m *MediaWorker) redact(ctx context.Context, job hotline.Job) (string, *jobFailure) {
	var sid string
	if err := m.st.View(func(tx *store.Tx) error {
		var err error
		sid, err = tx.MessageTwilioSID(job.CaseID, job.MessageID)
		return err
	}); err != nil {
		return "", &jobFailure{err: err, permanent: true}
	}
	err := m.cfg.API.RedactMessage(ctx, sid)
	var ae *twilioapi.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return "not at Twilio", nil
	}
	if err != nil {
		return "", twilioFailure("redact at Twilio", err)
	}
	return "redacted at Twilio", nil
}

// mediaMinTries is how many tries a media job gets whatever its age.
const mediaMinTries = 5

// mediaMaxBackoff caps the wait between tries of a media job.
const mediaMaxBackoff = 30 * time.Minute

// mediaBackoff is exponential with jitter: about 5s, 10s, 20s ... capped
// at half an hour (nothing waits on a media job but Twilio's copy).
func mediaBackoff(tries int) time.Duration {
	base := min(5*time.Second<<min(max(tries-1, 0), 12), mediaMaxBackoff)
	return base/2 + rand.N(base/2+1)
}
