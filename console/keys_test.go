package console_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/console"
	"github.com/hotline-az/hotline/store"
)

// TestKeyServiceSameOverTheSocket runs the key operations in-process and
// over the socket: same answers, same errors.
func TestKeyServiceSameOverTheSocket(t *testing.T) {
	for _, mode := range []string{"direct", "socket"} {
		t.Run(mode, func(t *testing.T) {
			e := setup(t, mode)
			ks := e.svc.(console.KeyService)
			ctx := context.Background()
			addOfficers(t, e.svc) // sealed officer records under v1
			if v, err := ks.RotateKey(ctx); err != nil || v != 2 {
				t.Fatalf("RotateKey = %d, %v", v, err)
			}
			var he *hotline.Error
			if err := ks.RetireKey(ctx, 1); !errors.As(err, &he) || he.Code != hotline.ECONFLICT {
				t.Errorf("RetireKey(1) while referenced: %v, want a conflict", err)
			}
			if err := ks.RetireKey(ctx, 2); !errors.As(err, &he) || he.Code != hotline.EINVALID {
				t.Errorf("RetireKey(primary): %v, want invalid", err)
			}
			if _, err := ks.SetMinDecrypt(ctx, 7); !errors.As(err, &he) || he.Code != hotline.EINVALID {
				t.Errorf("SetMinDecrypt(7): %v, want invalid", err)
			}
			var progress []store.RewrapProgress
			p, err := ks.RewrapKeys(ctx, 1, func(p store.RewrapProgress) { progress = append(progress, p) }, nil)
			if err != nil || !p.Done || p.Rewrapped == 0 || len(progress) < p.Rewrapped {
				t.Fatalf("RewrapKeys = %+v, %v after %d progress calls", p, err, len(progress))
			}
			st, err := ks.KeyStatus(ctx)
			if err != nil || st.Versions[0].Records != 0 || st.Primary != 2 {
				t.Errorf("KeyStatus after rewrap = %+v, %v", st, err)
			}
			if err := ks.RetireKey(ctx, 1); err != nil {
				t.Errorf("RetireKey(1) after rewrap: %v", err)
			}
			var buf bytes.Buffer
			n, err := ks.Backup(ctx, &buf)
			if err != nil || n != int64(buf.Len()) || n == 0 {
				t.Errorf("Backup = %d, %v (%d bytes received)", n, err, buf.Len())
			}
			for _, o := range exampleOfficers {
				if bytes.Contains(buf.Bytes(), []byte(o.phone)) || bytes.Contains(buf.Bytes(), []byte(o.name)) {
					t.Errorf("the snapshot holds an officer's name or number in plaintext")
				}
			}
		})
	}
}
