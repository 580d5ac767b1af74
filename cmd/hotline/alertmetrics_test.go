package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// A tip whose alert failed to open shows in the metrics operators alert
// on: the failure counted, the case pending until the worker opens it.
func TestMetricsCountAlertsThatFailedToOpen(t *testing.T) {
	key, _ := crypto.GenerateMasterKey()
	st, err := store.Open(t.TempDir(), store.MasterKeySource{Key: &key}, store.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	met := newMetrics(st, time.Now)
	check := func(wantFailures, wantPending float64) {
		t.Helper()
		families, err := met.registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				switch {
				case m.GetCounter() != nil:
					got[f.GetName()] = m.GetCounter().GetValue()
				case m.GetGauge() != nil:
					got[f.GetName()] = m.GetGauge().GetValue()
				}
			}
		}
		for name, want := range map[string]float64{"hotline_alert_open_failures_total": wantFailures, "hotline_alerts_pending": wantPending} {
			if v, ok := got[name]; !ok || v != want {
				t.Fatalf("%s: got %v (present %v), want %v", name, v, ok, want)
			}
		}
	}
	check(0, 0)
	_, err = st.RecordInboundSMS(context.Background(), store.InboundSMS{
		MessageSID: "SM" + strings.Repeat("a", 32), From: "+994501234567", Body: "x", Window: time.Hour,
		Triage: hotline.Triage{Priority: hotline.P1, Lang: hotline.LangAz},
	}, func(*store.Tx, *store.InboundResult) error { return errors.New("rota does not load") })
	if err != nil {
		t.Fatal(err)
	}
	check(1, 1)
}
