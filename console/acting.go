package console

import "github.com/hotline-az/hotline/store"

// ActingAs returns the admin service acting for someone other than the
// CLI: the console passes the logged-in admin's officer id, "console" and
// the keyed tag of their address, so the audit log says who did it.
func (a *Admin) ActingAs(actor, via, from string) *Admin {
	c := *a
	c.by = store.AuditEntry{Actor: actor, Via: via, From: from}
	return &c
}

// entry is an audit entry by whoever this service acts for.
func (a *Admin) entry(action, object, detail string) store.AuditEntry {
	e := a.by
	if e.Actor == "" {
		e = store.AuditEntry{Actor: cliActor, Via: "cli"}
	}
	e.Action, e.Object, e.Detail = action, object, detail
	return e
}
