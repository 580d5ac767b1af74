// Package console is the officer and admin side of the hotline. For now it
// is the admin API: managing officers and the duty rota, and listing
// alerts, through one service (AdminService) that works in-process on an
// open store (Admin) or against a running server over a unix socket in
// the data directory (AdminClient, NewAdminHandler, ListenAdminSocket).
//
// Officers' names and phone numbers cross this API because an admin needs
// them, but they are never logged: log lines carry ids, routes, status
// codes and error codes only. Errors a caller made come back as
// *hotline.Error with messages safe to show, naming the CLI flag at fault.
package console
