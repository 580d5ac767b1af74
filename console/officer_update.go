package console

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/config"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// OfficerUpdate is a change to the officer named Name; empty fields stay.
type OfficerUpdate struct {
	Name    string `json:"name"`
	NewName string `json:"new_name,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Role    string `json:"role,omitempty"`
	// Lang is the language of the officer's alert call: az, ru or en.
	Lang string `json:"lang,omitempty"`
	// NoVerify makes a new number the officer's at once, without the code
	// (an admin in a hurry); the audit log records it.
	NoVerify bool `json:"no_verify,omitempty"`
}

// UpdateOfficer implements AdminService. Shifts and overrides hold the
// officer's id, so the rota follows the officer through any change.
func (a *Admin) UpdateOfficer(ctx context.Context, u OfficerUpdate) (OfficerView, error) {
	name := cleanName(u.Name)
	newName := cleanName(u.NewName)
	var problems []string
	if name == "" {
		problems = append(problems, "NAME: give the officer's name as registered")
	}
	if u.NewName != "" {
		if p := nameProblem(newName); p != "" {
			problems = append(problems, "--name: "+p)
		}
	}
	var e164 string
	if strings.TrimSpace(u.Phone) != "" {
		var err error
		if e164, err = config.NormalizePhone(u.Phone); err != nil {
			problems = append(problems, fmt.Sprintf("--phone: %v (write it in E.164 form, like +994501110001)", err))
		}
	}
	role := hotline.Role(strings.ToLower(strings.TrimSpace(u.Role)))
	if role != "" && !role.Valid() {
		problems = append(problems, "--role: must be officer, supervisor or admin")
	}
	lang := hotline.Lang(strings.ToLower(strings.TrimSpace(u.Lang)))
	if lang != "" && !lang.Valid() {
		problems = append(problems, "--lang: must be az, ru or en")
	}
	if len(problems) == 0 && newName == "" && e164 == "" && role == "" && lang == "" {
		problems = append(problems, "nothing to change: give --name, --phone, --role or --lang")
	}
	if len(problems) > 0 {
		return OfficerView{}, invalid("%s", strings.Join(problems, "\n"))
	}
	var v OfficerView
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		o, found, err := tx.OfficerByName(name)
		if err != nil {
			return err
		}
		if !found {
			return hotline.Errorf(hotline.ENOTFOUND, "no officer named %q (see hotline officers list)", name)
		}
		var changed []string
		if newName != "" && newName != o.Name {
			if other, found, err := tx.OfficerByName(newName); err != nil {
				return err
			} else if found && other.ID != o.ID {
				return hotline.Errorf(hotline.ECONFLICT, "--name: an officer named %q already exists", newName)
			}
			o.Name = newName
			changed = append(changed, "name")
		}
		if role != "" && role != o.Role {
			o.Role = role
			changed = append(changed, "role="+string(role))
		}
		if lang != "" && lang != o.Lang {
			o.Lang = lang
			changed = append(changed, "lang="+string(lang))
		}
		verify := false
		if e164 != "" && e164 != o.Phone {
			if other, found, err := tx.OfficerByPhone(e164); err != nil {
				return err
			} else if found && other.ID != o.ID {
				return hotline.Errorf(hotline.ECONFLICT, "--phone: another officer already has this number")
			}
			if u.NoVerify {
				o.Phone, o.PendingPhone, o.VerifyCode, o.VerifyExpires = e164, "", "", time.Time{}
				changed = append(changed, "phone unverified")
			} else {
				o.PendingPhone, o.VerifyCode, o.VerifyExpires = e164, dispatch.NewVerifyCode(), tx.Now().Add(dispatch.VerifyTTL)
				changed = append(changed, "phone pending")
				verify = true
			}
		}
		if len(changed) == 0 {
			v = a.officerView(o, false)
			return nil
		}
		if err := tx.UpdateOfficer(o); err != nil {
			return err
		}
		if verify {
			if err := dispatch.QueueVerification(tx, o); err != nil {
				return err
			}
		}
		v = a.officerView(o, false)
		return tx.AppendAudit(a.entry("officer.update", o.ID, strings.Join(changed, ",")))
	})
	if err == nil && a.disp != nil {
		a.disp.Wake()
	}
	return v, err
}
