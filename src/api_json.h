/* api_json.h - JSON renderings of store records, shared by handlers. */
#ifndef VG_API_JSON_H
#define VG_API_JSON_H

struct vg_buf;
struct vg_patient;
struct vg_device;

int api_json_patient(struct vg_buf *out, const struct vg_patient *p);
int api_json_device(struct vg_buf *out, const struct vg_device *d);

#endif
