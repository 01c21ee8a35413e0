/* demo.h - seed a realistic demo population for `vigil serve --demo`. */
#ifndef VG_DEMO_H
#define VG_DEMO_H

struct vg_app;

/* On an empty store only: create n_patients patients with devices and 90
 * days of readings ending now (home BP with a daily rhythm, glucose with
 * meals, CGM for some, HR, SpO2, weight, lab values). Some patients are
 * uncontrolled and a few are in crisis. Deterministic. Returns 0 or the
 * writer's error. Does nothing if any patient exists. */
int demo_seed(struct vg_app *app, int n_patients);

/* The care layer over the demo patients, after the demo users exist (they
 * are attached to organisations and teams): the region and people
 * (care_org_demo_seed). Returns 0 or the first error. Does nothing if
 * organisations exist. */
int demo_seed_care(struct vg_app *app);

#endif
