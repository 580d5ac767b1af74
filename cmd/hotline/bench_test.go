package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync/atomic"
	"testing"

	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/twiliotest"
)

// BenchmarkSMSWebhook measures the whole intake path over real HTTP on
// 127.0.0.1: signature, triage, sealing, group-committed fsync, TwiML.
// Run with -cpu and -benchtime to vary load; scripts/smsbench compares it
// with a raw-bbolt baseline.
func BenchmarkSMSWebhook(b *testing.B) {
	key, _ := crypto.GenerateMasterKey()
	srv := MustRunMain(b, b.TempDir(), key, io.Discard)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	body := "Salam, müdir pasportumu saxlayıb və maaşımı vermir, Sumqayıtda tikintidə işləyirik, nə edək? Kömək edin zəhmət olmasa, çox qorxuruq burada"
	var seq atomic.Int64
	b.SetParallelism(64)
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // as serve does
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			form := url.Values{
				"MessageSid": {fmt.Sprintf("SM%032x", n)}, "AccountSid": {testAccountSID}, "From": {fmt.Sprintf("+99450%07d", n%50)},
				"To": {"+994125550000"}, "Body": {body},
			}
			req, _ := twiliotest.NewSignedRequest(testToken, srv.URL+"/twilio/sms", "https://hotline.example.az/twilio/sms", form)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.StopTimer()
	commits, writes := srv.Store().CommitStats()
	b.ReportMetric(float64(writes)/float64(commits), "writes/commit")
}
