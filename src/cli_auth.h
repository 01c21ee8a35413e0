/* cli_auth.h - the auth parts of `vigil serve`: audit thread, bootstrap
 * admin token, demo users. (`vigil user|token|audit` are in cli.def.) */
#ifndef VG_CLI_AUTH_H
#define VG_CLI_AUTH_H

struct vg_app;

/* After the writer has started, before HTTP starts: start the auditor
 * (app->audit), write the bootstrap admin token file if configured, and
 * with cfg->demo create one demo user per role (README). 0 or -VG_E*. */
int cli_auth_serve_start(struct vg_app *app);

/* Before writer_stop(): write every queued audit event, stop the thread. */
void cli_auth_serve_stop(struct vg_app *app);

#endif
