// Command stubhotline stands in for cmd/hotline in smsbench's tests: it keeps
// the contract smsbench relies on ("serve --dev --console-addr=", HOTLINE_* and
// TWILIO_AUTH_TOKEN from the environment, GET /readyz on HOTLINE_INTERNAL_ADDR,
// GET /healthz and POST /twilio/sms on HOTLINE_ADDR
// checked against HOTLINE_PUBLIC_URL, answer after a synced bbolt write,
// clean exit on SIGTERM) and nothing else. Each request pays its own commit.
package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"
	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) < 3 || os.Args[1] != "serve" || os.Args[2] != "--dev" {
		log.Fatalf("usage: stubhotline serve --dev")
	}
	env := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			log.Fatalf("%s not set", k)
		}
		return v
	}
	addr, internalAddr := env("HOTLINE_ADDR"), env("HOTLINE_INTERNAL_ADDR")
	dataDir, publicURL, token := env("HOTLINE_DATA_DIR"), env("HOTLINE_PUBLIC_URL"), env("TWILIO_AUTH_TOKEN")
	if key, err := base64.StdEncoding.DecodeString(env("HOTLINE_MASTER_KEY")); err != nil || len(key) != 32 {
		log.Fatalf("HOTLINE_MASTER_KEY: want base64 of 32 bytes")
	}
	db, err := bolt.Open(filepath.Join(dataDir, "stub.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	bucket := []byte("messages")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bucket); return err }); err != nil {
		log.Fatal(err)
	}
	reply, _ := twiml.Messages(nil)
	validator := client.NewRequestValidator(token)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /twilio/sms", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !validator.ValidateBody(publicURL+r.URL.Path, body, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		form, _ := url.ParseQuery(string(body))
		err = db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucket).Put([]byte(form.Get("MessageSid")), body)
		})
		if err != nil {
			http.Error(w, "storage error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, reply)
	})
	srv := &http.Server{Addr: addr, Handler: mux}
	internalMux := http.NewServeMux()
	internalMux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready\n") })
	internal := &http.Server{Addr: internalAddr, Handler: internalMux}
	go func() {
		if err := internal.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		internal.Shutdown(context.Background())
		srv.Shutdown(context.Background())
	}()
	fmt.Println("stub hotline: listening on", addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	db.Close()
	fmt.Println("stub hotline: stopped")
}
