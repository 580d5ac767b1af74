package store

import (
	"encoding/binary"
	"fmt"
)

// domainAckCode separates acknowledgement codes from the keyring's other
// keyed hashes.
const domainAckCode = "sms-ack-code"

// AckCode is the four-digit code an officer's alert SMS carries when
// escalation.sms_ack_code is on: a keyed hash of the alert and the
// officer, so it is stored nowhere, is the same on every retry of the
// SMS, and cannot be worked out from a sender number alone.
func (s *Store) AckCode(alertID, officerID string) string {
	h := s.keyring.Index(domainAckCode, alertID+"/"+officerID)
	return fmt.Sprintf("%04d", binary.BigEndian.Uint32(h[:4])%10000)
}
