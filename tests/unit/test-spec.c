/* Unit tests for the config.json parser, validator, name tables and `husk spec` generator.
 * Fixtures: every .json file in spec-fixtures/valid must parse and validate; every one in
 * spec-fixtures/invalid must fail with exactly the message its line in invalid/EXPECTED gives.  */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "spec.h"
#include "spec_names.h"
#include "util.h"

#define CAP(n) (UINT64_C (1) << (n))

static char *
fixture_text (const char *rel, size_t *len)
{
  struct husk_err err = { 0 };
  cleanup_free char *path = xasprintf ("%s/%s", SPEC_FIXTURES, rel);
  char *text = read_file_at (AT_FDCWD, path, 4 << 20, len, &err);

  cr_assert_not_null (text, "reading %s: %s", path, err.msg);
  return text;
}

/* Parse and validate a fixture; fails the test on any error.  */
static struct husk_spec *
load_valid (const char *name)
{
  struct husk_err err = { 0 };
  cleanup_free char *rel = xasprintf ("valid/%s", name);
  size_t len = 0;
  cleanup_free char *text = fixture_text (rel, &len);
  struct husk_spec *spec = spec_parse (text, len, "config.json", &err);

  cr_assert_not_null (spec, "%s: %s", name, err.msg);
  cr_assert_eq (spec_validate (spec, "config.json", &err), 0, "%s: %s", name, err.msg);
  return spec;
}

/* Parse + validate TEXT; return the full error text (static buffer) or NULL when it is valid.  */
static const char *
error_of (const char *text, size_t len)
{
  static char buf[HUSK_ERR_MSG_MAX + 256];
  struct husk_err err = { 0 };
  cleanup_spec struct husk_spec *spec = spec_parse (text, len, "config.json", &err);

  if (spec == NULL || spec_validate (spec, "config.json", &err) < 0)
    return husk_err_text (&err, buf, sizeof buf);
  return NULL;
}

static const char *
error_of_str (const char *text)
{
  return error_of (text, strlen (text));
}

/* ---- fixtures ------------------------------------------------------------------------------ */

Test (spec_fixtures, every_valid_fixture_parses_and_validates)
{
  cleanup_free char *dir = xasprintf ("%s/valid", SPEC_FIXTURES);
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;

  cr_assert_not_null (d, "opendir %s", dir);
  while ((e = readdir (d)) != NULL)
    {
      if (strstr (e->d_name, ".json") == NULL)
        continue;
      spec_free (load_valid (e->d_name));
      n++;
    }
  cr_assert_geq (n, 6, "only %d valid fixtures", n);
}

Test (spec_fixtures, every_invalid_fixture_gives_its_expected_message)
{
  size_t len = 0;
  cleanup_free char *expected = fixture_text ("invalid/EXPECTED", &len);
  cleanup_free char *dir = xasprintf ("%s/invalid", SPEC_FIXTURES);
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *e;
  char *save = NULL;
  int n = 0, files = 0;

  for (char *line = strtok_r (expected, "\n", &save); line != NULL;
       line = strtok_r (NULL, "\n", &save))
    {
      char *tab = strchr (line, '\t');
      size_t tlen = 0;

      cr_assert_not_null (tab, "EXPECTED line without a tab: %s", line);
      *tab = '\0';
      cleanup_free char *rel = xasprintf ("invalid/%s", line);
      cleanup_free char *text = fixture_text (rel, &tlen);
      const char *got = error_of (text, tlen);
      cr_assert_not_null (got, "%s: accepted, expected '%s'", line, tab + 1);
      cr_expect_str_eq (got, tab + 1, "%s", line);
      n++;
    }
  cr_assert_geq (n, 30, "only %d invalid fixtures", n);

  /* Every fixture file has its line.  */
  cr_assert_not_null (d);
  while ((e = readdir (d)) != NULL)
    if (strstr (e->d_name, ".json") != NULL)
      files++;
  cr_assert_eq (files, n, "%d .json files but %d EXPECTED lines", files, n);
}

/* ---- field spot checks --------------------------------------------------------------------- */

Test (spec_fields, default_fixture)
{
  cleanup_spec struct husk_spec *s = load_valid ("default.json");
  uint64_t caps = CAP (29) | CAP (5) | CAP (10); /* AUDIT_WRITE, KILL, NET_BIND_SERVICE */

  cr_assert_str_eq (s->oci_version, "1.2.0");
  cr_assert_str_eq (s->root->path, "rootfs");
  cr_assert (s->root->readonly);
  cr_assert_not_null (s->process->capabilities);
  cr_assert_eq (s->process->capabilities->bounding, caps);
  cr_assert_eq (s->process->capabilities->effective, caps);
  cr_assert_eq (s->process->capabilities->permitted, caps);
  cr_assert_eq (s->process->capabilities->inheritable, 0);
  cr_assert_eq (s->process->capabilities->ambient, 0);
  cr_assert_eq (s->process->n_rlimits, 1);
  cr_assert_eq (s->process->rlimits[0].resource, RLIMIT_NOFILE);
  cr_assert_eq (s->process->rlimits[0].hard, 1024);
  cr_assert_eq (s->process->rlimits[0].soft, 1024);
  cr_assert (s->process->no_new_privileges);
  cr_assert_not (s->process->terminal);
  cr_assert_eq (s->process->n_args, 1);
  cr_assert_str_eq (s->process->args[0], "sh");
  cr_assert_null (s->process->args[1]);
  cr_assert_eq (s->n_mounts, 7);
  cr_assert_str_eq (s->mounts[2].destination, "/dev/pts");
  cr_assert_eq (s->mounts[2].n_options, 6);
  cr_assert_str_eq (s->mounts[2].options[5], "gid=5");
  cr_assert_null (s->mounts[2].options[6]);
  cr_assert_null (s->mounts[0].options);
  cr_assert_eq (s->linux->n_namespaces, 6);
  cr_assert_eq (s->linux->namespaces[1].type, HUSK_NS_NETWORK);
  cr_assert_null (s->linux->namespaces[1].path);
  /* only the device allowlist's deny-all rule, as runc spec writes it */
  cr_assert_not_null (s->linux->resources);
  cr_assert_eq (s->linux->resources->n_devices, 1);
  cr_assert_not (s->linux->resources->devices[0].allow);
  cr_assert_eq (s->linux->resources->devices[0].type, 'a');
  cr_assert_str_eq (s->linux->resources->devices[0].access, "rwm");
  cr_assert_null (s->linux->resources->memory);
  cr_assert_not (s->linux->resources->has_pids_limit);
  cr_assert_eq (s->linux->n_masked_paths, 10);
  cr_assert_eq (s->linux->n_readonly_paths, 5);
  cr_assert_not_null (spec_namespace (s, HUSK_NS_UTS));
  cr_assert_null (spec_namespace (s, HUSK_NS_USER));
  cr_assert_null (spec_namespace (s, HUSK_NS_TIME));
}

Test (spec_fields, podman_fixture)
{
  cleanup_spec struct husk_spec *s = load_valid ("podman.json");
  const struct husk_namespace *net = spec_namespace (s, HUSK_NS_NETWORK);

  cr_assert_eq (s->process->n_rlimits, 3);
  cr_assert_eq (s->process->rlimits[2].resource, RLIMIT_CORE);
  cr_assert_eq (s->process->rlimits[2].hard, UINT64_MAX);
  cr_assert_eq (s->process->rlimits[2].soft, UINT64_MAX);
  cr_assert (s->process->has_oom_score_adj);
  cr_assert_eq (s->process->oom_score_adj, 0);
  cr_assert (s->process->user.has_umask);
  cr_assert_eq (s->process->user.umask, 022);
  cr_assert_eq (s->process->user.n_additional_gids, 7);
  cr_assert_eq (s->process->user.additional_gids[6], 10);
  cr_assert_not_null (net);
  cr_assert_str_eq (net->path, "/run/netns/netns-3f1c9a2b");
  cr_assert_not_null (s->linux->seccomp);
  cr_assert_eq (s->linux->seccomp->default_action, HUSK_SCMP_ERRNO);
  cr_assert (s->linux->seccomp->has_default_errno_ret);
  cr_assert_eq (s->linux->seccomp->default_errno_ret, 38);
  cr_assert_eq (s->linux->seccomp->n_architectures, 3);
  cr_assert_not (s->linux->seccomp->has_flags);
  cr_assert_eq (s->linux->seccomp->n_syscalls, 24);
  cr_assert_gt (s->linux->seccomp->syscalls[0].n_names, 300);
  cr_assert_eq (s->linux->seccomp->syscalls[17].action, HUSK_SCMP_ERRNO);
  cr_assert_eq (s->linux->seccomp->syscalls[17].errno_ret, 22);
  cr_assert_eq (s->linux->seccomp->syscalls[17].n_args, 2);
  cr_assert_eq (s->linux->seccomp->syscalls[17].args[1].index, 2);
  cr_assert_eq (s->linux->seccomp->syscalls[17].args[1].value, 9);
  cr_assert_eq (s->linux->seccomp->syscalls[20].args[0].op, HUSK_SCMP_CMP_MASKED_EQ);
  cr_assert_eq (s->linux->seccomp->syscalls[5].args[0].value, 4294967295u);
  cr_assert_str_eq (s->mounts[5].destination, "/etc/resolv.conf");
  cr_assert_str_eq (s->mounts[5].options[1], "rprivate");
  cr_assert_eq (s->n_annotations, 8);
  cr_assert_str_eq (s->annotations[0].key, "io.container.manager");
  cr_assert_str_eq (s->annotations[0].value, "libpod");
  cr_assert_eq (s->hooks->n_prestart, 1);
  cr_assert (s->hooks->prestart[0].has_timeout);
  cr_assert_eq (s->hooks->prestart[0].timeout, 10);
  cr_assert_eq (s->hooks->n_poststop, 1);
  cr_assert_not (s->hooks->poststop[0].has_timeout);
  cr_assert_eq (s->linux->n_sysctl, 1);
  cr_assert_str_eq (s->linux->sysctl[0].key, "net.ipv4.ping_group_range");
  cr_assert_str_eq (s->linux->sysctl[0].value, "0 0");
  cr_assert (s->linux->resources->has_pids_limit);
  cr_assert_eq (s->linux->resources->pids_limit, 2048);
  cr_assert (has_prefix (s->linux->cgroups_path, "machine.slice:libpod:"));
}

Test (spec_fields, containerd_fixture)
{
  cleanup_spec struct husk_spec *s = load_valid ("containerd.json");
  const struct husk_device_rule *r;

  cr_assert_str_eq (s->root->path, "rootfs");
  cr_assert_not (s->root->readonly);
  cr_assert_null (s->hooks);
  cr_assert_null (s->hostname);
  cr_assert_str_eq (s->linux->cgroups_path, "/default/busybox-1");
  cr_assert_eq (s->linux->resources->n_devices, 11);
  r = &s->linux->resources->devices[0];
  cr_assert_not (r->allow);
  cr_assert_eq (r->type, 'a');
  cr_assert_eq (r->major, -1);
  cr_assert_eq (r->minor, -1);
  cr_assert_str_eq (r->access, "rwm");
  r = &s->linux->resources->devices[8]; /* c 136:* rwm */
  cr_assert (r->allow);
  cr_assert_eq (r->type, 'c');
  cr_assert_eq (r->major, 136);
  cr_assert_eq (r->minor, -1);
  cr_assert_eq (s->process->capabilities->bounding & CAP (21), 0); /* no CAP_SYS_ADMIN */
  cr_assert_neq (s->process->capabilities->bounding & CAP (27), 0); /* CAP_MKNOD */
}

Test (spec_fields, full_fixture_process_and_hooks)
{
  cleanup_spec struct husk_spec *s = load_valid ("full.json");
  const struct husk_process *p = s->process;

  cr_assert (p->terminal);
  cr_assert (p->has_console_size);
  cr_assert_eq (p->console_height, 25);
  cr_assert_eq (p->console_width, 80);
  cr_assert_eq (p->user.uid, 1000);
  cr_assert_eq (p->user.additional_gids[1], UINT32_MAX);
  cr_assert_eq (p->capabilities->bounding, CAP (0) | CAP (13) | CAP (21) | CAP (40));
  cr_assert_eq (p->capabilities->inheritable, CAP (13));
  cr_assert_eq (p->capabilities->ambient, CAP (13));
  cr_assert_eq (p->rlimits[1].resource, RLIMIT_CORE);
  cr_assert_eq (p->rlimits[1].hard, UINT64_MAX);
  cr_assert_eq (p->rlimits[1].soft, 0);
  cr_assert_eq (p->rlimits[2].resource, RLIMIT_RTTIME);
  cr_assert_str_eq (p->apparmor_profile, "husk-default");
  cr_assert_str_eq (p->selinux_label, "system_u:system_r:container_t:s0");
  cr_assert_eq (p->oom_score_adj, -500);
  cr_assert_eq (p->scheduler->policy, 6);
  cr_assert_eq (p->scheduler->flags, 0x03);
  cr_assert (p->scheduler->has_nice);
  cr_assert_eq (p->scheduler->nice, -5);
  cr_assert_eq (p->scheduler->runtime, 10000000);
  cr_assert (p->scheduler->has_period);
  cr_assert_eq (p->io_priority->class, 2);
  cr_assert_eq (p->io_priority->priority, 4);
  cr_assert_str_eq (p->exec_cpu_affinity->final, "0-3,7");
  cr_assert_str_eq (s->domainname, "example.org");
  cr_assert_eq (s->hooks->n_create_runtime, 2);
  cr_assert_null (s->hooks->create_runtime[1].args);
  cr_assert_str_eq (s->hooks->start_container[0].args[1], "--flag");
  cr_assert_eq (s->hooks->poststop[0].timeout, 5);
  cr_assert_eq (s->n_annotations, 2);
  cr_assert_str_eq (s->annotations[1].value, "");
  /* mounts: idmapped, and null members taken as absent */
  cr_assert_eq (s->mounts[1].n_uid_mappings, 1);
  cr_assert_eq (s->mounts[1].uid_mappings[0].host_id, 100000);
  cr_assert_eq (s->mounts[1].gid_mappings[0].size, 65536);
  cr_assert_null (s->mounts[2].source);
  cr_assert_null (s->mounts[2].options);
}

Test (spec_fields, full_fixture_linux)
{
  cleanup_spec struct husk_spec *s = load_valid ("full.json");
  const struct husk_linux *l = s->linux;
  const struct husk_resources *r = l->resources;
  const struct husk_seccomp *sc = l->seccomp;

  cr_assert_eq (l->n_namespaces, 8);
  cr_assert_eq (l->namespaces[7].type, HUSK_NS_TIME);
  cr_assert_eq (l->n_gid_mappings, 2);
  cr_assert_eq (l->gid_mappings[1].container_id, 65536);
  cr_assert (l->time_monotonic.present);
  cr_assert_eq (l->time_monotonic.secs, -3600);
  cr_assert_eq (l->time_monotonic.nanosecs, 500);
  cr_assert (l->time_boottime.present);
  cr_assert_eq (l->time_boottime.secs, 86400);
  cr_assert_eq (l->n_devices, 4);
  cr_assert_eq (l->devices[0].type, 'c');
  cr_assert_eq (l->devices[0].major, 10);
  cr_assert_eq (l->devices[0].file_mode, 0666);
  cr_assert_eq (l->devices[1].file_mode, 0660); /* S_IFBLK bits dropped */
  cr_assert_eq (l->devices[2].type, 'p');
  cr_assert_eq (l->devices[2].major, -1);
  cr_assert_not (l->devices[2].has_uid);
  cr_assert_eq (r->devices[2].minor, -1);
  cr_assert_str_eq (r->devices[2].access, "r");
  cr_assert_str_eq (r->devices[3].access, "rwm");
  cr_assert_eq (r->memory->swap, -1);
  cr_assert (r->memory->has_swappiness);
  cr_assert_eq (r->memory->swappiness, 0);
  cr_assert (r->memory->check_before_update);
  cr_assert_eq (r->cpu->quota, 100000);
  cr_assert_eq (r->cpu->burst, 50000);
  cr_assert_str_eq (r->cpu->cpus, "0-3");
  cr_assert (r->cpu->has_idle);
  cr_assert_eq (r->block_io->weight, 10);
  cr_assert_eq (r->block_io->n_weight_device, 2);
  cr_assert_not (r->block_io->weight_device[1].has_leaf_weight);
  cr_assert_eq (r->block_io->throttle_write_bps_device[0].rate, UINT64_MAX);
  cr_assert_eq (r->block_io->throttle_write_iops_device[0].minor, 16);
  cr_assert_eq (r->n_hugepage_limits, 2);
  cr_assert_str_eq (r->hugepage_limits[1].page_size, "1GB");
  cr_assert_eq (r->network->class_id, 1048577);
  cr_assert_eq (r->network->priorities[1].priority, 1000);
  cr_assert_eq (r->n_rdma, 2);
  cr_assert_str_eq (r->rdma[1].device, "mlx4_0");
  cr_assert_not (r->rdma[1].has_hca_handles);
  cr_assert_eq (r->n_unified, 2);
  cr_assert_str_eq (r->unified[1].key, "memory.high");
  cr_assert_str_eq (l->intel_rdt->clos_id, "guaranteed_group");
  cr_assert_eq (l->intel_rdt->n_schemata, 1);
  cr_assert (l->intel_rdt->enable_cmt);
  cr_assert_eq (l->n_sysctl, 3);
  cr_assert_eq (sc->n_flags, 2);
  cr_assert (sc->has_flags);
  cr_assert_str_eq (sc->listener_path, "/run/seccomp-agent.sock");
  cr_assert_eq (sc->n_syscalls, 12);
  cr_assert_eq (sc->syscalls[3].action, HUSK_SCMP_NOTIFY);
  cr_assert_eq (sc->syscalls[9].n_args, 6);
  cr_assert_eq (sc->syscalls[9].args[5].op, HUSK_SCMP_CMP_GT);
  cr_assert_eq (sc->syscalls[11].args[0].value, UINT64_MAX);
  cr_assert_eq (sc->syscalls[11].args[0].value_two, UINT64_MAX - 1);
  cr_assert_str_eq (l->rootfs_propagation, "rslave");
  cr_assert_str_eq (l->personality->domain, "LINUX32");
  cr_assert_eq (l->personality->n_flags, 0);
  cr_assert_not_null (l->personality->flags);
  cr_assert_eq (l->n_net_devices, 2);
  cr_assert_str_eq (l->net_devices[0].name, "ceth1");
  cr_assert_null (l->net_devices[1].name);
  cr_assert_str_eq (l->memory_policy->mode, "MPOL_INTERLEAVE");
  cr_assert_eq (l->memory_policy->n_flags, 1);
}

/* ---- parser edges -------------------------------------------------------------------------- */

#define MINIMAL "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}"

Test (spec_parse, minimal_and_length_bounded)
{
  const char text[] = MINIMAL "garbage after the given length";

  cr_assert_null (error_of (text, strlen (MINIMAL)));
  cr_assert_str_eq (error_of (text, sizeof text - 1),
                    "config.json: invalid JSON: parse error: trailing garbage");
}

Test (spec_parse, nul_byte_inside_length)
{
  const char text[] = MINIMAL "\0{}";
  cleanup_free char *want
      = xasprintf ("config.json: invalid JSON: NUL byte at offset %zu", strlen (MINIMAL));

  cr_assert_str_eq (error_of (text, sizeof text - 1), want);
}

Test (spec_parse, escaped_backslash_before_u0000_is_fine)
{
  cr_assert_null (error_of_str ("{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"a\\\\u0000\"}}"));
}

Test (spec_parse, null_means_absent)
{
  cr_assert_null (error_of_str ("{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, "
                                "\"process\": null, \"linux\": null, \"hooks\": null}"));
  cr_assert_str_eq (error_of_str ("{\"ociVersion\": \"1.0\", \"root\": {\"path\": null}}"),
                    "config.json: root.path: missing");
}

Test (spec_parse, numbers)
{
  cr_assert_null (error_of_str (
      "{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"cwd\": \"/\", "
      "\"args\": [\"a\"], \"user\": {\"uid\": 4294967295, \"gid\": -0}}}"));
  cr_assert_str_eq (
      error_of_str ("{\"ociVersion\": \"1.0\", \"root\": {\"path\": \"r\"}, \"process\": {\"cwd\": "
                    "\"/\", \"user\": {\"uid\": 1e3, \"gid\": 0}}}"),
      "config.json: process.user.uid: expected integer");
  cr_assert_str_eq (
      error_of_str ("{\"linux\": {\"resources\": {\"pids\": {\"limit\": -9223372036854775809}}}}"),
                    "config.json: linux.resources.pids.limit: value -9223372036854775809 is out of "
                    "range for int64");
  cr_assert_str_eq (error_of_str ("{\"process\": {\"cwd\": \"/\", \"oomScoreAdj\": 2147483648}}"),
                    "config.json: process.oomScoreAdj: value 2147483648 is out of range for int32");
}

Test (spec_parse, unknown_members_are_ignored)
{
  cr_assert_null (error_of_str ("{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"r\", "
                                "\"x\": 1}, \"vm\": {\"hypervisor\": {}}, \"solaris\": 3}"));
}

Test (spec_parse, free_null_and_cleanup)
{
  struct husk_spec *s = NULL;

  spec_free (NULL);
  cleanup_specp (&s);
}

Test (spec_load, names_the_file_by_base_name)
{
  struct husk_err err = { 0 };
  cleanup_free char *path = xasprintf ("%s/invalid/cwd-relative.json", SPEC_FIXTURES);
  cleanup_spec struct husk_spec *s = spec_load (path, &err);

  /* The parse succeeds; validation names the file as given.  */
  cr_assert_not_null (s, "%s", err.msg);
  cr_assert_eq (spec_validate (s, "cwd-relative.json", &err), -1);
  cr_assert_str_eq (err.msg, "cwd-relative.json: process.cwd: 'srv' is not an absolute path");

  cleanup_free char *bad = xasprintf ("%s/invalid/truncated.json", SPEC_FIXTURES);
  cr_assert_null (spec_load (bad, &err));
  cr_assert_str_eq (err.msg, "truncated.json: invalid JSON: parse error: premature EOF");
}

Test (spec_load, missing_file_keeps_errno)
{
  struct husk_err err = { 0 };

  cr_assert_null (spec_load ("/nonexistent/husk/config.json", &err));
  cr_assert_eq (err.errnum, ENOENT);
}

/* ---- spec_default_json --------------------------------------------------------------------- */

Test (spec_default, matches_fixture_and_validates)
{
  size_t len = 0;
  cleanup_free char *fixture = fixture_text ("valid/default.json", &len);
  cleanup_free char *json = spec_default_json (false);
  struct husk_err err = { 0 };
  cleanup_spec struct husk_spec *s = NULL;

  cr_assert_str_eq (json, fixture, "spec-fixtures/valid/default.json is out of date");
  s = spec_parse (json, strlen (json), "config.json", &err);
  cr_assert_not_null (s, "%s", err.msg);
  cr_assert_eq (spec_validate (s, "config.json", &err), 0, "%s", err.msg);
  cr_assert_not_null (spec_namespace (s, HUSK_NS_NETWORK));
  cr_assert_str_eq (s->mounts[6].destination, "/sys/fs/cgroup");
}

Test (spec_default, rootless_round_trip)
{
  cleanup_free char *json = spec_default_json (true);
  struct husk_err err = { 0 };
  cleanup_spec struct husk_spec *s = spec_parse (json, strlen (json), "config.json", &err);
  const struct husk_namespace *user;

  cr_assert_not_null (s, "%s", err.msg);
  cr_assert_eq (spec_validate (s, "config.json", &err), 0, "%s", err.msg);
  user = spec_namespace (s, HUSK_NS_USER);
  cr_assert_not_null (user);
  cr_assert_null (user->path);
  cr_assert_null (spec_namespace (s, HUSK_NS_NETWORK));
  cr_assert_eq (s->linux->n_uid_mappings, 1);
  cr_assert_eq (s->linux->uid_mappings[0].container_id, 0);
  cr_assert_eq (s->linux->uid_mappings[0].host_id, getuid ());
  cr_assert_eq (s->linux->gid_mappings[0].host_id, getgid ());
  cr_assert_eq (s->linux->uid_mappings[0].size, 1);
  cr_assert_eq (s->n_mounts, 6, "the cgroup mount is dropped");
  cr_assert_str_eq (s->mounts[5].destination, "/sys");
  cr_assert_str_eq (s->mounts[5].options[0], "rbind");
  for (size_t i = 0; i < s->mounts[2].n_options; i++)
    cr_assert_str_neq (s->mounts[2].options[i], "gid=5");
}

/* ---- name tables --------------------------------------------------------------------------- */

Test (spec_names, capabilities)
{
  for (int i = 0; i <= SPEC_CAP_LAST; i++)
    {
      cr_assert_not_null (spec_cap_name (i));
      cr_assert_eq (spec_cap_from_name (spec_cap_name (i)), i);
    }
  cr_assert_eq (spec_cap_from_name ("CAP_SYS_ADMIN"), 21);
  cr_assert_eq (spec_cap_from_name ("CAP_CHECKPOINT_RESTORE"), 40);
  cr_assert_eq (spec_cap_from_name ("SYS_ADMIN"), -1);
  cr_assert_eq (spec_cap_from_name ("CAP_"), -1);
  cr_assert_null (spec_cap_name (41));
  cr_assert_null (spec_cap_name (-1));
}

Test (spec_names, namespaces)
{
  cr_assert_eq (spec_ns_clone_flag (HUSK_NS_NETWORK), CLONE_NEWNET);
  cr_assert_eq (spec_ns_clone_flag (HUSK_NS_MOUNT), CLONE_NEWNS);
  cr_assert_eq (spec_ns_clone_flag (HUSK_NS_TIME), 0x80);
  cr_assert_str_eq (spec_ns_proc_name (HUSK_NS_MOUNT), "mnt");
  cr_assert_str_eq (spec_ns_proc_name (HUSK_NS_NETWORK), "net");
  cr_assert_str_eq (spec_ns_type_name (HUSK_NS_NETWORK), "network");
  cr_assert_eq (spec_ns_type_from_name ("cgroup"), HUSK_NS_CGROUP);
  cr_assert_eq (spec_ns_type_from_name ("net"), -1);
  cr_assert_null (spec_ns_type_name (HUSK_NS_COUNT));
  cr_assert_eq (spec_ns_clone_flag (HUSK_NS_COUNT), 0);
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    cr_assert_eq (spec_ns_type_from_name (spec_ns_type_name ((enum husk_ns_type) t)), t);
}

Test (spec_names, others)
{
  cr_assert_eq (spec_rlimit_from_name ("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  cr_assert_eq (spec_rlimit_from_name ("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  cr_assert_str_eq (spec_rlimit_name (RLIMIT_AS), "RLIMIT_AS");
  cr_assert_eq (spec_seccomp_action_from_name ("SCMP_ACT_KILL_PROCESS"), HUSK_SCMP_KILL_PROCESS);
  cr_assert_str_eq (spec_seccomp_action_name (HUSK_SCMP_NOTIFY), "SCMP_ACT_NOTIFY");
  cr_assert_eq (spec_seccomp_op_from_name ("SCMP_CMP_MASKED_EQ"), HUSK_SCMP_CMP_MASKED_EQ);
  cr_assert_neq (spec_seccomp_arch_token ("SCMP_ARCH_X86_64"), 0);
  cr_assert_neq (spec_seccomp_arch_token ("SCMP_ARCH_AARCH64"), 0);
  cr_assert_eq (spec_seccomp_arch_token ("x86_64"), 0);
  cr_assert_eq (spec_seccomp_arch_token ("SCMP_ARCH_"), 0);
  cr_assert_eq (spec_seccomp_flag_from_name ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"), 32);
  cr_assert_eq (spec_sched_policy_from_name ("SCHED_IDLE"), 5);
  cr_assert_eq (spec_sched_flag_from_name ("SCHED_FLAG_UTIL_CLAMP_MAX"), 0x40);
  cr_assert_eq (spec_ioprio_class_from_name ("IOPRIO_CLASS_IDLE"), 3);
  cr_assert_eq (spec_mpol_mode_from_name ("MPOL_BIND"), 2);
  cr_assert_eq (spec_mpol_flag_from_name ("MPOL_F_STATIC_NODES"), 1 << 15);
}
