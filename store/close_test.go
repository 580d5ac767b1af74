package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// Close while 64 writers are still writing: no panic ("send on closed
// channel" before), every writer that was not answered gets ErrClosed, and
// every write that was answered is in the file after a restart.
func TestCloseWhileWritersRunLosesNothingAnswered(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	const writers = 64
	type stored struct{ sid, caseID, msgID string }
	var (
		mu       sync.Mutex
		answered []stored
		count    atomic.Int64
		wg       sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				sid := fmt.Sprintf("SMw%02di%05d", w, i)
				res, err := s.RecordInboundSMS(context.Background(), sms(sid, fmt.Sprintf("+9945012%05d", w), "text", hotline.P3), nil)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				answered = append(answered, stored{sid, res.Case.ID, res.MessageID})
				mu.Unlock()
				if count.Add(1) >= 300 {
					once.Do(func() { close(enough) })
				}
			}
		}()
	}
	<-enough
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("a writer after close got %v, want store.ErrClosed", err)
		}
	}

	s = MustOpen(t, dir, key, nil)
	defer s.Close()
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != len(answered) {
		t.Fatalf("after restart: %d messages stored, %d answered", st.Messages, len(answered))
	}
	for _, a := range answered {
		res, err := s.RecordInboundSMS(context.Background(), sms(a.sid, "+994501200000", "text", hotline.P3), nil)
		if err != nil || !res.Duplicate || res.Case.ID != a.caseID || res.MessageID != a.msgID {
			t.Fatalf("answered write %s: after restart dup=%v case=%s msg=%s err=%v, want it stored as case %s msg %s",
				a.sid, res.Duplicate, res.Case.ID, res.MessageID, err, a.caseID, a.msgID)
		}
	}
}
