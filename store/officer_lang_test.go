package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/store"
)

// TestOfficerLanguage: the alert call's language is kept with the
// officer across a restart and an update, and only az, ru or en is taken.
func TestOfficerLanguage(t *testing.T) {
	dir, key := t.TempDir(), testKey(t)
	s := MustOpen(t, dir, key, nil)
	ctx := context.Background()
	var id string
	err := s.Update(ctx, func(tx *store.Tx) error {
		o, err := tx.AddOfficer(hotline.Officer{Name: "Leyla Aliyeva", Phone: "+994501110001", Role: hotline.RoleOfficer, Lang: hotline.LangAz})
		id = o.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.AddOfficer(hotline.Officer{Name: "Rashad Mammadov", Phone: "+994501110002", Role: hotline.RoleOfficer, Lang: "de"})
		return err
	})
	var he *hotline.Error
	if !errors.As(err, &he) || he.Code != hotline.EINVALID {
		t.Fatalf("an officer in German: %v, want EINVALID", err)
	}
	s.Close()
	s = MustOpen(t, dir, key, nil)
	t.Cleanup(func() { s.Close() })
	err = s.Update(ctx, func(tx *store.Tx) error {
		o, err := tx.Officer(id)
		if err != nil {
			return err
		}
		if o.Lang != hotline.LangAz {
			t.Errorf("after a restart the officer's language is %q, want az", o.Lang)
		}
		o.Lang = "xx"
		if err := tx.UpdateOfficer(o); !errors.As(err, &he) || he.Code != hotline.EINVALID {
			t.Errorf("update to xx: %v, want EINVALID", err)
		}
		o.Lang = hotline.LangRu
		return tx.UpdateOfficer(o)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *store.Tx) error {
		o, err := tx.Officer(id)
		if err == nil && o.Lang != hotline.LangRu {
			t.Errorf("after the update the officer's language is %q, want ru", o.Lang)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
