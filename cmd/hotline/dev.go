package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/dispatch"
	"github.com/hotline-az/hotline/store"
)

// Demo officers for `serve --dev`: their numbers are what the README's
// walk-through replies from.
const (
	devOfficerPhone    = "+994500000001"
	devSupervisorPhone = "+994500000002"
)

// seedDevOfficers puts a demo officer on duty all week (with a demo
// supervisor as backup and supervisor) when no officer exists yet.
func seedDevOfficers(ctx context.Context, st *store.Store, log zerolog.Logger) error {
	return st.Update(ctx, func(tx *store.Tx) error {
		existing, err := tx.Officers()
		if err != nil || len(existing) > 0 {
			return err
		}
		officer, err := tx.AddOfficer(hotline.Officer{Name: "Demo Officer", Phone: devOfficerPhone, Role: hotline.RoleOfficer})
		if err != nil {
			return err
		}
		super, err := tx.AddOfficer(hotline.Officer{Name: "Demo Supervisor", Phone: devSupervisorPhone, Role: hotline.RoleSupervisor})
		if err != nil {
			return err
		}
		rota := dispatch.Rota{TimeZone: "Asia/Baku"}
		for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			rota.Shifts = append(rota.Shifts, dispatch.Shift{Day: day, Start: "00:00", End: "24:00", Officer: officer.ID, Backup: super.ID, Supervisor: super.ID})
		}
		log.Warn().Msg("DEV MODE: added Demo Officer (on duty all week) and Demo Supervisor")
		return dispatch.SaveRota(tx, rota)
	})
}
