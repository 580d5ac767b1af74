package console

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/crypto"
	"github.com/hotline-az/hotline/store"
)

// KeyService is what an admin can do with the encryption keys and the
// data file as a whole. *Admin does it in-process, *AdminClient over a
// running server's admin socket. Every key operation is audited.
//
// Security contract: no method returns or logs key material; the
// snapshot Backup writes is the data file as stored (records sealed,
// the keyring sealed under the master key), which the caller must
// encrypt before it leaves the machine.
type KeyService interface {
	// KeyStatus lists the KEK versions, the primary, the minimum
	// decryption version, records per version and rewrap progress.
	KeyStatus(ctx context.Context) (store.KeyStatus, error)
	// RotateKey adds a KEK version and makes it primary at once.
	RotateKey(ctx context.Context) (uint32, error)
	// SetMinDecrypt makes versions below v open nothing (reversible) and
	// returns how many records that leaves unreadable.
	SetMinDecrypt(ctx context.Context, v uint32) (int, error)
	// RetireKey destroys version v; refused (ECONFLICT) while any record
	// references it.
	RetireKey(ctx context.Context, v uint32) error
	// RewrapKeys moves every record's data key under the primary in
	// batches of batch records (0: the default), calling progress after
	// each batch and failure for each record that does not rewrap.
	RewrapKeys(ctx context.Context, batch int, progress func(store.RewrapProgress), failure func(store.RewrapFailure)) (store.RewrapProgress, error)
	// RotateIndex adds an index key version for the keyed hashes of
	// phone numbers and Twilio SIDs and re-hashes every lookup entry to
	// it, or finishes a move an earlier run left unfinished. Lookups try
	// both versions until it ends. batch is the entries per transaction
	// (0: the default); progress, if set, is called after each batch
	// (in-process only: over the socket the final result comes alone).
	RotateIndex(ctx context.Context, batch int, progress func(store.IndexMoveProgress)) (store.IndexMoveProgress, error)
	// Backup writes a consistent snapshot of the data file to w while
	// intake goes on, and returns its size.
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

var (
	_ KeyService = (*Admin)(nil)
	_ KeyService = (*AdminClient)(nil)
)

// cliBy is who a key operation through the admin socket or the CLI is
// audited as.
var cliBy = store.AuditEntry{Actor: cliActor, Via: "cli"}

// keyError turns store and crypto errors an admin can act on into
// *hotline.Error; anything else is returned as is (an internal error).
func keyError(err error) error {
	var inUse *store.KeyInUseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inUse):
		return hotline.Errorf(hotline.ECONFLICT, "%s", inUse.Error())
	case errors.Is(err, store.ErrRewrapRunning):
		return hotline.Errorf(hotline.ECONFLICT, "a rewrap or an index key move is already running on this server; `hotline keys status` shows its progress")
	case errors.Is(err, crypto.ErrUnknownVersion):
		return hotline.Errorf(hotline.EINVALID, "VERSION: no such key version (see `hotline keys status`)")
	}
	return err
}

// KeyStatus implements KeyService.
func (a *Admin) KeyStatus(ctx context.Context) (store.KeyStatus, error) {
	return a.st.KeyStatus()
}

// RotateKey implements KeyService.
func (a *Admin) RotateKey(ctx context.Context) (uint32, error) {
	v, err := a.st.RotateKey(ctx, cliBy)
	return v, keyError(err)
}

// SetMinDecrypt implements KeyService.
func (a *Admin) SetMinDecrypt(ctx context.Context, v uint32) (int, error) {
	if primary := a.st.Keyring().Primary(); v == 0 || v > primary {
		return 0, invalid("VERSION: must be from 1 to the primary version %d", primary)
	}
	n, err := a.st.SetMinDecrypt(ctx, v, cliBy)
	return n, keyError(err)
}

// RetireKey implements KeyService.
func (a *Admin) RetireKey(ctx context.Context, v uint32) error {
	if primary := a.st.Keyring().Primary(); v == primary {
		return invalid("VERSION: %d is the primary version; rotate first", v)
	}
	return keyError(a.st.RetireKey(ctx, v, cliBy))
}

// RewrapKeys implements KeyService.
func (a *Admin) RewrapKeys(ctx context.Context, batch int, progress func(store.RewrapProgress), failure func(store.RewrapFailure)) (store.RewrapProgress, error) {
	p, err := a.st.RewrapKeys(ctx, store.RewrapOptions{
		BatchSize: batch, By: cliBy, Failure: failure,
		Progress: func(p store.RewrapProgress) error {
			if progress != nil {
				progress(p)
			}
			return nil
		},
	})
	return p, keyError(err)
}

// RotateIndex implements KeyService.
func (a *Admin) RotateIndex(ctx context.Context, batch int, progress func(store.IndexMoveProgress)) (store.IndexMoveProgress, error) {
	p, err := a.st.RotateIndex(ctx, store.IndexMoveOptions{BatchSize: batch, By: cliBy, Progress: func(p store.IndexMoveProgress) error {
		if progress != nil {
			progress(p)
		}
		return nil
	}})
	return p, keyError(err)
}

// Backup implements KeyService.
func (a *Admin) Backup(ctx context.Context, w io.Writer) (int64, error) {
	n, err := a.st.WriteSnapshot(w)
	if err != nil {
		return n, fmt.Errorf("snapshot: %w", err)
	}
	return n, nil
}

// ChangeMaster seals the keyring under a new master key, touching no
// record. It exists only in-process (the CLI on a stopped server): a new
// master key never crosses the admin socket, and the server has to be
// restarted with it anyway. Audited as "keys.change_master".
func (a *Admin) ChangeMaster(ctx context.Context, next store.MasterKeySource) error {
	return a.st.ChangeMaster(ctx, next, store.Options{}, cliBy)
}
